"""Child processes and what they cost: stopping them, SIGTERM as Ctrl-C, CPU, memory, load, and polling.

Kept apart so every benchmark measures and cleans up its children the same way.
"""

from __future__ import annotations

import os
import signal
import subprocess
import threading
import time
from functools import partial
from pathlib import Path
from typing import Any

from tests.helpers import wait_until as _wait_until

# The tests' helpers (tests/helpers.py, tests/pg_cluster.py) are the one home of free_port, port_open, wait_until
# and PrivateCluster; the benchmarks poll more often by default (0.01 s), as the times they report need.
wait_until = partial(_wait_until, interval=0.01)


def install_sigterm_as_interrupt() -> None:
    """SIGTERM cleans up like Ctrl-C does (the `finally` blocks and ExitStack callbacks run)."""

    def _raise(_signum: int, _frame: Any) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, _raise)


def stop_process(proc: subprocess.Popen[Any], *, timeout: float = 15.0) -> None:
    """Terminate a child we started (SIGTERM, then SIGKILL after `timeout`) and reap it."""
    if proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=5)


def thread_cpu_s(thread: threading.Thread | None) -> float | None:
    """CPU seconds a live thread has used (its own clock, so other load on the machine does not count)."""
    if thread is None or thread.ident is None:
        return None
    try:
        return time.clock_gettime(time.pthread_getcpuclockid(thread.ident))
    except OSError:
        return None


def process_cpu_s(pid: int) -> float | None:
    """User + system CPU seconds of a process, from /proc/<pid>/stat."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def load_average() -> float:
    return os.getloadavg()[0]


def vm_hwm_mb(pid: int) -> float | None:
    """Peak resident set size (VmHWM) of a live process, in MiB."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None
