"""Child processes and ports for `clinic up`: start with output to a log, stop politely, wait for a port."""

from __future__ import annotations

import ctypes
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import typer

from shared.store.private_files import open_private

STOP_TIMEOUT_S = 15.0  # per child: SIGTERM, then SIGKILL after this long
PR_SET_PDEATHSIG = 1  # from <linux/prctl.h>


@dataclass(slots=True)
class Child:
    """A process started by `clinic up`, with the file its output goes to."""

    name: str
    process: subprocess.Popen[bytes]
    log_path: Path
    log_offset: int = 0  # where this run's output starts (logs are appended to across runs)

    def output(self) -> str:
        """What the child has written to its log so far in this run."""
        with self.log_path.open("rb") as handle:
            handle.seek(self.log_offset)
            return handle.read().decode("utf-8", "replace")


def port_open(host: str, port: int, timeout: float = 0.5) -> bool:
    """Whether something accepts TCP connections on host:port."""
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def wait_for_port(host: str, port: int, *, timeout: float, process: subprocess.Popen[bytes] | None = None) -> bool:
    """Poll until host:port accepts connections; False at the deadline or as soon as `process` has exited."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if port_open(host, port, timeout=min(0.5, max(0.05, deadline - time.monotonic()))):
            return True
        if process is not None and process.poll() is not None:
            return False
        time.sleep(0.05)
    return False


def start_child(name: str, argv: list[str], env: Mapping[str, str], logs_dir: Path) -> Child:
    """Start a process in its own session with stdout and stderr appended to `<logs_dir>/<name>.log`."""
    log_path = logs_dir / f"{name}.log"
    with os.fdopen(open_private(log_path, append=True), "ab") as log_file:  # 0600: logs name devices and staff
        offset = log_file.tell()
        process = subprocess.Popen(
            argv,
            env=dict(env),
            stdin=subprocess.DEVNULL,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=_die_with_parent if sys.platform == "linux" else None,
        )
    return Child(name, process, log_path, offset)


def stop_children(children: list[Child], timeout: float = STOP_TIMEOUT_S) -> None:
    """Stop children last-started first: SIGTERM, wait up to `timeout`, then SIGKILL."""
    for child in reversed(children):
        if child.process.poll() is None:
            child.process.terminate()
            try:
                child.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                typer.echo(f"{child.name} did not stop within {timeout:.0f}s; killing it", err=True)
                child.process.kill()
                child.process.wait()
        typer.echo(f"stopped {child.name} (exit code {child.process.returncode})")


def _die_with_parent() -> None:
    """In the child, before exec (Linux): SIGTERM it when the supervisor dies, even by SIGKILL."""
    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
