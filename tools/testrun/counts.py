#!/usr/bin/env python3
"""How many tests a suite's log says ran and were skipped, from the runners' own report lines.

    tools/testrun/counts.py out/test/20-go.log   ->   tests=210 skipped=0

Read, summed over every runner invocation in the log:
- pytest's closing line   `==== 12 passed, 1 skipped, 2 deselected in 3.4s ====` (or, with -q,
  the same without the `=` rules)
  (ran = passed + failed + errors + xfailed + xpassed; skipped = skipped)
- go test -v result lines `--- PASS: TestX (0.01s)` / `--- FAIL:` / `--- SKIP:` (subtests included)
- cargo test's summaries  `test result: ok. 5 passed; 0 failed; 1 ignored; ...`
  (ran = passed + failed; skipped = ignored)
A log with none of these prints `tests=0 skipped=0`.
"""
import re
import sys

PYTEST = re.compile(r"^=+ (?P<body>.*?) in [0-9.]+s(?: \([0-9:.]+\))? =+$")
# `pytest -q` closes with the same counts undecorated: `18 passed, 1 skipped in 22.79s`
PYTEST_QUIET = re.compile(r"^(?P<body>\d+ \w+(?:, \d+ \w+)*) in [0-9.]+s(?: \([0-9:.]+\))?$")
PYTEST_PART = re.compile(r"(\d+) (passed|failed|errors?|skipped|xfailed|xpassed|deselected|warnings?)")
GO = re.compile(r"^\s*--- (PASS|FAIL|SKIP): ")
CARGO = re.compile(r"^test result: \w+\. (\d+) passed; (\d+) failed; (\d+) ignored;")
ANSI = re.compile(r"\x1b\[[0-9;]*m")


def count(lines):
    ran = skipped = 0
    for raw in lines:
        line = ANSI.sub("", raw.rstrip("\n"))
        m = PYTEST.match(line) or PYTEST_QUIET.match(line)
        if m and PYTEST_PART.search(m.group("body")):
            for n, kind in PYTEST_PART.findall(m.group("body")):
                if kind == "skipped":
                    skipped += int(n)
                elif kind not in ("deselected", "warning", "warnings"):
                    ran += int(n)
            continue
        m = GO.match(line)
        if m:
            if m.group(1) == "SKIP":
                skipped += 1
            else:
                ran += 1
            continue
        m = CARGO.match(line)
        if m:
            ran += int(m.group(1)) + int(m.group(2))
            skipped += int(m.group(3))
    return ran, skipped


def main(argv):
    if len(argv) != 2:
        print(__doc__.split("\n\n")[1], file=sys.stderr)
        return 2
    with open(argv[1], errors="replace") as f:
        ran, skipped = count(f)
    print(f"tests={ran} skipped={skipped}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
