"""tools/testrun/why_failed.py: the lines scripts/test's summary repeats for a failed suite."""
import os
import subprocess
import sys

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "tools", "testrun"))
from why_failed import MAX_LINES, reasons  # noqa: E402


def test_pytest_failure_gives_the_summary_line_and_the_first_assertion_line():
    log = [
        "tests/cluster/test_cluster.py::test_load FAILED",
        "=================================== FAILURES ===================================",
        "_____________________________ test_load ______________________________",
        "    def test_load():",
        ">       assert not unavailable, f\"{len(unavailable)} answer(s) 503\"",
        "E       AssertionError: 3 answer(s) 503 at t = [41, 42] s",
        "E       assert not [41, 42, 42]",
        "=========================== short test summary info ============================",
        "PASSED tests/cluster/test_cluster.py::test_pods_ready",
        "FAILED tests/cluster/test_cluster.py::test_load - AssertionError: 3 answer(s) 503 at t = [41, 42] s",
        "==================== 1 failed, 4 passed in 236.00s ====================",
    ]
    assert reasons(log) == [
        "E       AssertionError: 3 answer(s) 503 at t = [41, 42] s",
        "FAILED tests/cluster/test_cluster.py::test_load - AssertionError: 3 answer(s) 503 at t = [41, 42] s",
    ]


def test_go_failure_gives_its_messages_but_not_a_passing_tests_log():
    log = [
        "=== RUN   TestGracefulStop",
        "    main_test.go:117: 160 calls answered OK",
        "--- PASS: TestGracefulStop (3.99s)",
        "=== RUN   TestExact",
        "    consumer_test.go:88: Valkey has 99 sales, want 100",
        "--- FAIL: TestExact (1.20s)",
        "FAIL\tgithub.com/x/consumer\t1.3s",
    ]
    assert reasons(log) == ["    consumer_test.go:88: Valkey has 99 sales, want 100", "--- FAIL: TestExact (1.20s)"]


def test_cargo_panic_gives_the_location_and_the_message():
    log = [
        "running 3 tests",
        "thread 'lifecycle' panicked at operator/tests/cluster.rs:120:9:",
        "condition NamespaceNotManaged never set",
        "test lifecycle ... FAILED",
        "test result: FAILED. 2 passed; 1 failed; 0 ignored;",
    ]
    assert reasons(log) == ["thread 'lifecycle' panicked at operator/tests/cluster.rs:120:9:",
                            "condition NamespaceNotManaged never set"]


def test_a_log_without_a_runner_gives_its_last_lines():
    log = [f"step {i}" for i in range(20)] + ["", "cluster: kubectl apply failed: namespaces \"grafana\" not found"]
    got = reasons(log)
    assert got[-1] == "cluster: kubectl apply failed: namespaces \"grafana\" not found"
    assert got[0] == "step 15" and len(got) == 6


def test_long_and_many_lines_are_bounded():
    log = [f"FAILED tests/a.py::test_{i} - " + "x" * 1000 for i in range(100)]
    got = reasons(log)
    assert len(got) == MAX_LINES
    assert all(len(line) <= 401 for line in got)


def test_command_line_reads_a_file(tmp_path):
    log = tmp_path / "s.log"
    log.write_text("FAILED tests/a.py::test_b - assert 1 == 2\n")
    out = subprocess.run([sys.executable, os.path.join(ROOT, "tools/testrun/why_failed.py"), str(log)],
                         capture_output=True, text=True, check=True).stdout
    assert out == "FAILED tests/a.py::test_b - assert 1 == 2\n"


def test_scripts_test_summary_says_why_a_suite_failed(tmp_path):
    """The whole runner, with a suite folder of one failing and one passing suite (BF_TEST_D)."""
    (tmp_path / "01-probe-fails.sh").write_text(
        "#!/bin/sh\necho 'FAILED tests/p.py::test_q - AssertionError: 7 sales lost'\nexit 1\n")
    (tmp_path / "02-probe-passes.sh").write_text("#!/bin/sh\necho fine\n")
    for f in tmp_path.iterdir():
        f.chmod(0o755)
    run = subprocess.run([os.path.join(ROOT, "scripts/test"), "--no-setup", "--no-bench"], cwd=ROOT,
                         env={**os.environ, "BF_TEST_D": str(tmp_path)}, capture_output=True, text=True)
    assert run.returncode == 1, run.stdout + run.stderr
    summary = run.stdout.split("==== test summary ====")[1]
    assert "why 01-probe-fails failed" in summary
    assert "    FAILED tests/p.py::test_q - AssertionError: 7 sales lost" in summary
    assert "why 02-probe-passes" not in summary
    assert summary.rstrip().endswith("1 passed, 1 failed")
