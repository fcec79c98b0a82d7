"""tools/testrun/counts.py: the per-suite `tests=N skipped=M` of scripts/test."""
import os
import subprocess
import sys

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "tools", "testrun"))
from counts import count  # noqa: E402


def test_pytest_closing_lines_are_summed():
    log = [
        "tests/a.py::test_x PASSED",
        "==================== 12 passed, 1 skipped, 2 deselected, 3 warnings in 3.41s ====================",
        "\x1b[32m===== 1 failed, 4 passed, 2 errors in 1.00s (0:00:01) =====\x1b[0m",
    ]
    assert count(log) == (12 + 1 + 4 + 2, 1)


def test_pytest_quiet_closing_line_counts_too():
    log = [
        "..................s                                        [100%]",
        "18 passed, 1 skipped in 22.79s",
        "report: 51 files reproduce byte for byte from docs/results",
    ]
    assert count(log) == (18, 1)


def test_go_verbose_result_lines_count_subtests_and_skips():
    log = [
        "=== RUN   TestA",
        "--- PASS: TestA (0.00s)",
        "    --- PASS: TestA/sub (0.00s)",
        "--- SKIP: TestB (0.00s)",
        "    testenv.go:33: KAFKA_BOOTSTRAP not set",
        "--- FAIL: TestC (1.20s)",
        "ok  \tgithub.com/x/y\t0.1s",
    ]
    assert count(log) == (3, 1)


def test_cargo_summaries_count_ignored_as_skipped():
    log = [
        "test result: ok. 5 passed; 0 failed; 1 ignored; 0 measured; 0 filtered out; finished in 0.01s",
        "test result: FAILED. 2 passed; 1 failed; 0 ignored; 0 measured; 0 filtered out; finished in 1s",
    ]
    assert count(log) == (8, 1)


def test_a_log_without_runner_lines_counts_nothing():
    assert count(["building...", "=== not a pytest line ===", "PASS"]) == (0, 0)


def test_command_line(tmp_path):
    log = tmp_path / "suite.log"
    log.write_text("--- PASS: TestA (0.00s)\n--- SKIP: TestB (0.00s)\n")
    out = subprocess.run([sys.executable, os.path.join(ROOT, "tools", "testrun", "counts.py"), str(log)],
                         capture_output=True, text=True, check=True).stdout
    assert out.strip() == "tests=1 skipped=1"
