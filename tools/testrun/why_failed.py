#!/usr/bin/env python3
"""Why a suite failed, in a few lines taken from its log, for the end of scripts/test's summary.

    tools/testrun/why_failed.py out/test/80-cluster.log

A CI record keeps only part of a long run's output (here: its start and its end), and a failing
suite's own report sits in the middle. So the summary repeats, for each failed suite, the lines
that name what failed:
- pytest's short summary lines   `FAILED tests/x.py::test_y - AssertionError: ...`, `ERROR ...`
  and the first `E   ` line of each failure's traceback (the assertion message);
- go test's `--- FAIL: TestX` lines and the `file_test.go:NN: message` line under each;
- cargo test's `panicked at file:line:col:` with the message on the next line;
- leakcheck's and the suite timeout's own lines.
When none of these is in the log (a script that failed outside a test runner), the log's last
lines. At most MAX_LINES lines, each cut to MAX_CHARS characters.
"""
import re
import sys

from counts import ANSI  # the colour codes a runner may print, as counts.py strips them

MAX_LINES = 24
MAX_CHARS = 400
TAIL = 6
PYTEST_SUMMARY = re.compile(r"^(FAILED|ERROR) \S+")
PYTEST_E = re.compile(r"^E\s{2,}\S")
PYTEST_SECTION = re.compile(r"^_{3,} .* _{3,}$")
GO_FAIL = re.compile(r"^\s*--- FAIL: ")
GO_MESSAGE = re.compile(r"^\s+\S+_test\.go:\d+: ")
CARGO_PANIC = re.compile(r"panicked at ")
OWN = re.compile(r"^(leakcheck|test: suite .* left processes|timeout)", re.IGNORECASE)


def go_messages(lines, fail_at):
    """The `x_test.go:NN:` lines a failed Go test printed: above its `--- FAIL` (go test -v prints
    them as they happen, after the test's `=== RUN`) and below it (without -v)."""
    above = []
    for line in reversed(lines[max(0, fail_at - 8):fail_at]):
        if not GO_MESSAGE.match(line):
            break
        above.insert(0, line)
    below = []
    for line in lines[fail_at + 1:fail_at + 9]:
        if not GO_MESSAGE.match(line):
            break
        below.append(line)
    return above + below


def reasons(lines):
    lines = [ANSI.sub("", raw.rstrip("\n")) for raw in lines]
    picked = []
    e_taken = False  # the first `E   ` line of each pytest failure section
    for i, line in enumerate(lines):
        if PYTEST_SECTION.match(line):
            e_taken = False
        if GO_FAIL.match(line):
            picked.extend(go_messages(lines, i))
            picked.append(line)
        elif PYTEST_SUMMARY.match(line) or OWN.match(line):
            picked.append(line)
        elif PYTEST_E.match(line) and not e_taken:
            picked.append(line)
            e_taken = True
        elif CARGO_PANIC.search(line):
            picked.append(line)
            if i + 1 < len(lines):
                picked.append(lines[i + 1])
    if not picked:
        picked = [line for line in lines if line.strip()][-TAIL:]
    seen, out = set(), []
    for line in picked:
        if line not in seen:
            seen.add(line)
            out.append(line[:MAX_CHARS] + ("…" if len(line) > MAX_CHARS else ""))
    return out[:MAX_LINES]


def main(argv):
    if len(argv) != 2:
        print(__doc__.split("\n\n")[1], file=sys.stderr)
        return 2
    try:
        with open(argv[1], errors="replace") as f:
            for line in reasons(f):
                print(line)
    except OSError as e:
        print(f"(no log: {e})")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
