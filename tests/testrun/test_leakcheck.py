"""tools/testrun/leakcheck: nothing a suite, benchmark or main job started outlives it."""
import os
import signal
import subprocess
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
LEAKCHECK = os.path.join(ROOT, "tools", "testrun", "leakcheck")


def alive(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(") ", 1)[1][0] != "Z"
    except FileNotFoundError:
        return False


def run(script, *opts, timeout=60):
    return subprocess.run([LEAKCHECK, "--name", "t", *opts, "--", "bash", "-c", script],
                          capture_output=True, text=True, timeout=timeout)


def test_exit_status_passes_through_when_nothing_is_left():
    p = run("sleep 0.2 & wait; exit 4")
    assert p.returncode == 4, p.stderr
    assert "left" not in p.stderr


def test_a_daemonised_child_is_reported_and_killed(tmp_path):
    pidfile = tmp_path / "pid"
    # setsid + background: reparented to init, out of the process group, like a daemon
    p = run(f"setsid sleep 300 >/dev/null 2>&1 & echo $! > {pidfile}; exit 0", "--grace", "1")
    pid = int(pidfile.read_text())
    assert p.returncode == 97, p.stderr
    assert f"pid {pid}" in p.stderr and "sleep 300" in p.stderr, p.stderr
    assert not alive(pid)


def test_a_child_that_finishes_its_shutdown_within_the_grace_is_no_leak():
    p = run("(sleep 1.5) & exit 0", "--grace", "5")
    assert p.returncode == 0, p.stderr


def test_a_failing_command_is_checked_too(tmp_path):
    pidfile = tmp_path / "pid"
    p = run(f"sleep 300 >/dev/null 2>&1 & echo $! > {pidfile}; exit 1", "--grace", "1")
    assert p.returncode == 97, p.stderr
    assert not alive(int(pidfile.read_text()))


def test_keep_reports_without_killing(tmp_path):
    pidfile = tmp_path / "pid"
    p = run(f"sleep 300 >/dev/null 2>&1 & echo $! > {pidfile}", "--grace", "0", "--keep")
    pid = int(pidfile.read_text())
    try:
        assert p.returncode == 97 and alive(pid), p.stderr
    finally:
        os.kill(pid, signal.SIGKILL)


def test_term_is_forwarded_and_the_check_still_runs(tmp_path):
    pidfile = tmp_path / "pid"
    proc = subprocess.Popen([LEAKCHECK, "--grace", "1", "--", "bash", "-c",
                             f"setsid sleep 300 & echo $! > {pidfile}; trap 'exit 143' TERM; "
                             "while :; do sleep 0.1; done"],
                            stderr=subprocess.PIPE, text=True)
    for _ in range(100):
        if pidfile.exists() and pidfile.read_text().strip():
            break
        time.sleep(0.05)
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 97, err
    assert not alive(int(pidfile.read_text()))
