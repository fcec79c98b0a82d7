"""tools/capacity/cpu_split.py (scripts/benchmarks/pipeline --cpu-split): a real system-wide perf
sample attributes a process's CPU to it, tells its own code from the kernel's, and names the
kernel path by the sampled function."""
import os
import subprocess
import sys
import time

from conftest import ROOT

sys.path.insert(0, os.path.join(ROOT, "tools", "capacity"))
import cpu_split  # noqa: E402

# one process that only computes, one that only makes system calls (write to /dev/null)
SPIN = "import time\nt = time.time() + 4\nx = 0\nwhile time.time() < t: x += 1\n"
SYSCALLS = ("import os, time\nfd = os.open('/dev/null', os.O_WRONLY)\nt = time.time() + 4\n"
            "while time.time() < t: os.write(fd, b'x')\n")


def test_a_real_sample_tells_user_code_from_kernel_work(tmp_path):
    spin = subprocess.Popen([sys.executable, "-c", SPIN])
    sysc = subprocess.Popen([sys.executable, "-c", SYSCALLS])
    try:
        time.sleep(0.5)
        data = str(tmp_path / "perf.data")
        assert cpu_split.record(2, data) == 0
    finally:
        spin.wait(timeout=10)
        sysc.wait(timeout=10)
    s = cpu_split.split(data, {"spin": spin.pid, "syscalls": sysc.pid}, sales=1000)
    spin_row, sys_row = s["processes"]["spin"], s["processes"]["syscalls"]
    assert spin_row["samples"] > 100 and sys_row["samples"] > 100, s
    # (Python's own work per call is large, so the syscall loop's kernel share is ≈ 0.3, not ≈ 1)
    assert spin_row["kernel_share"] < 0.1, spin_row
    assert sys_row["kernel_share"] > max(0.15, 3 * spin_row["kernel_share"]), sys_row
    # its kernel time is in the write path and the system call's entry and exit, not the network
    top = list(sys_row["groups"])[:2]
    assert set(top) <= {"files and pipes (reads, writes, fsync)", "system call entry and exit"}, sys_row["groups"]
    assert abs(spin_row["us_per_sale"] - spin_row["samples"] / 499 * 1e6 / 1000) < 1e-6


def test_kernel_functions_fall_into_their_paths():
    assert cpu_split.kernel_group("tcp_sendmsg_locked") == "network (tcp/ip, sockets, loopback)"
    assert cpu_split.kernel_group("__ip_queue_xmit") == "network (tcp/ip, sockets, loopback)"
    assert cpu_split.kernel_group("ep_poll_callback") == "epoll and poll"
    assert cpu_split.kernel_group("futex_wake") == "futex (wake-ups, waits)"
    assert cpu_split.kernel_group("__schedule") == "scheduler and context switches"
    assert cpu_split.kernel_group("clear_page_erms") == "memory (page faults, mmap, madvise)"
    assert cpu_split.kernel_group("something_new") == "other kernel work"
