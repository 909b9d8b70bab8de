"""What `clinic up` is running, in a file `clinic status` reads: its own pid, and each child's pid, start and restarts.

`<data dir>/run/up.json`, rewritten (atomically, owner-only) when `clinic up` has started everything and whenever a
child dies or is restarted, removed when it stops. A reader checks the pids: a file left by a supervisor that
was SIGKILLed names a pid that is gone.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path

from shared.store.private_files import private_dir, write_private


@dataclass(frozen=True, slots=True)
class ChildState:
    """One process `clinic up` supervises."""

    name: str
    pid: int
    started_at: str  # aware ISO time of this run of it
    restarts: int  # since `clinic up` started
    running: bool  # False between a crash and its restart


@dataclass(frozen=True, slots=True)
class UpState:
    """The supervisor and its children, as it last wrote them."""

    pid: int
    started_at: str
    children: list[ChildState]


def state_path(data_dir: Path) -> Path:
    return data_dir / "run" / "up.json"


def write_state(data_dir: Path, state: UpState) -> None:
    private_dir(state_path(data_dir).parent)
    write_private(state_path(data_dir), json.dumps(asdict(state), indent=2) + "\n")


def forget_state(data_dir: Path) -> None:
    state_path(data_dir).unlink(missing_ok=True)


def read_state(data_dir: Path) -> UpState | None:
    """The state `clinic up` last wrote here, or None when there is none (or it is unreadable)."""
    try:
        raw = json.loads(state_path(data_dir).read_text())
        children = [ChildState(**child) for child in raw["children"]]
        return UpState(pid=int(raw["pid"]), started_at=str(raw["started_at"]), children=children)
    except (OSError, ValueError, KeyError, TypeError):
        return None


def alive(pid: int) -> bool:
    """Whether a process with this pid exists (and is not a zombie waiting for its parent)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process: it exists
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return True  # no /proc (not Linux): kill(0) said it exists


def uptime_s(started_at: str, now: datetime) -> float:
    return max(0.0, (now - datetime.fromisoformat(started_at)).total_seconds())
