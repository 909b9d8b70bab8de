"""`python -m clinic listen` as child processes: started, killed, watched and stopped, each with its own log.

The faults are done to real listener processes; what they log is how the bench knows they subscribed or retried.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from contextlib import ExitStack
from pathlib import Path

from bench.common import child_env, stop_process
from bench.reliability.result import ScenarioFailed
from shared.store.settings import Settings

SUBSCRIBED = "subscribed: the broker confirmed"  # what `clinic listen` logs once its subscription is in place
DB_RETRY = "database unavailable"  # what it logs each time a commit fails and it holds the batch unacked


class Listeners:
    """`python -m clinic listen` children by name; each start gets its own log file."""

    def __init__(self, folder: Path, stack: ExitStack) -> None:
        self.folder = folder
        self.stack = stack
        self.procs: dict[str, subprocess.Popen[bytes]] = {}
        self.settings: dict[str, Settings] = {}
        self.logs: list[Path] = []
        self.exit_codes: list[int | None] = []

    def start(self, name: str, settings: Settings | None = None) -> subprocess.Popen[bytes]:
        if settings is not None:
            self.settings[name] = settings
        log = self.folder / f"listener-{name}-{len(self.logs)}.log"
        self.logs.append(log)
        with open(log, "wb") as stderr:  # the child keeps its own copy of the descriptor
            proc = subprocess.Popen(
                [sys.executable, "-m", "clinic", "listen"],
                env=child_env(self.settings[name]),
                cwd=self.folder,  # no stray .env from the caller's folder
                stdout=subprocess.DEVNULL,
                stderr=stderr,
            )
        self.stack.callback(stop_process, proc, timeout=30)
        self.procs[name] = proc
        return proc

    def wait_subscribed(self, name: str, timeout: float = 60) -> None:
        log = next(p for p in reversed(self.logs) if p.name.startswith(f"listener-{name}-"))
        deadline = time.monotonic() + timeout
        while SUBSCRIBED not in _read(log):
            self.check_alive()
            if time.monotonic() > deadline:
                raise ScenarioFailed(f"listener {name} not subscribed after {timeout:.0f}s: {_tail(log)}")
            time.sleep(0.05)

    def kill(self, name: str) -> None:
        proc = self.procs.pop(name)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)

    def check_alive(self) -> None:
        for name, proc in self.procs.items():
            if proc.poll() is not None:
                log = next(p for p in reversed(self.logs) if p.name.startswith(f"listener-{name}-"))
                raise ScenarioFailed(f"listener {name} exited by itself with {proc.returncode}: {_tail(log)}")

    def stop_all(self) -> None:
        """SIGTERM (flush, commit, ack, leave) and note each exit code: 0 is a clean stop."""
        for proc in self.procs.values():
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in self.procs.values():
            try:
                self.exit_codes.append(proc.wait(timeout=60))
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=10)
                self.exit_codes.append(None)
        self.procs.clear()

    def count_in_logs(self, needle: str) -> int:
        return sum(_read(log).count(needle) for log in self.logs)


def _read(path: Path) -> str:
    try:
        return path.read_text(errors="replace")
    except OSError:
        return ""


def _tail(path: Path, lines: int = 5) -> str:
    return " | ".join(_read(path).strip().splitlines()[-lines:]) or "(empty log)"
