"""scripts/test stops a running suite when it gets TERM, instead of waiting for the suite to end
(bash defers a trap until a foreground command finishes; the runner waits with `wait`)."""
import os
import subprocess
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))


def test_term_ends_the_running_suite_and_reports_the_interruption(tmp_path):
    started, finished = tmp_path / "started", tmp_path / "finished"
    suites = tmp_path / "suites"
    suites.mkdir()
    (suites / "01-probe-long.sh").write_text(
        f"#!/bin/sh\ntouch {started}\nsleep 30\ntouch {finished}\n")
    (suites / "01-probe-long.sh").chmod(0o755)
    runner = subprocess.Popen([os.path.join(ROOT, "scripts/test"), "--no-setup", "--no-bench"], cwd=ROOT,
                              env={**os.environ, "BF_TEST_D": str(suites)}, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True)
    for _ in range(200):  # the suite is running
        if started.exists():
            break
        time.sleep(0.05)
    assert started.exists(), "the probe suite never started"
    runner.terminate()
    out, _ = runner.communicate(timeout=60)
    assert runner.returncode == 130, out
    assert "test: interrupted" in out and "terminating the running step" in out, out
    assert not finished.exists(), "the suite ran to its end: the TERM waited for it"
