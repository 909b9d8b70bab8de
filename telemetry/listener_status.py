"""The listener's status file: what an operator tool reads to say whether `clinic listen` is up and keeping pace.

`<data dir>/run/listener-<account>.json`, one per listener account, rewritten by the running listener at most
every 2 s and at least every 5 s (a heartbeat), replaced atomically (a reader never sees half a file), owner-only
(0600, in a 0700 folder), and removed when the listener stops cleanly. A file whose `updated_at` is older than
`STALE_AFTER_S` belongs to a listener that is not answering: killed, hung, or stopped by a crash.
"""

from __future__ import annotations

import contextlib
import json
import re
from dataclasses import asdict, dataclass, fields
from datetime import datetime
from pathlib import Path

from shared.store.private_files import private_dir, write_private

STALE_AFTER_S = 15.0  # a status not updated for this long: the listener is not answering
WRITE_MIN_S = 2.0  # the listener rewrites the file at most this often ...
WRITE_MAX_S = 4.0  # ... and at least this often (well inside the 5 s promised, whatever the loop's granularity)
RUN_DIR = "run"
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]")


@dataclass(frozen=True, slots=True)
class ListenerStatus:
    """One listener as it last described itself. Times are aware UTC, in ISO 8601."""

    pid: int
    account: str  # the listener's MQTT client id (CLINIC_MQTT_CLIENT_ID, else its account)
    started_at: str
    updated_at: str
    connected: bool  # to the broker, now
    holding: bool  # the database is unavailable: messages are held unacknowledged while the writer retries
    held: int  # messages received and not yet committed (so not yet acknowledged)
    recorded: int  # messages committed since the listener started (stored, duplicates and dead letters)
    last_commit_at: str | None
    disk_nearly_full: bool  # the data disk at or over CLINIC_DISK_WARN_PERCENT at the last check

    def age_s(self, now: datetime) -> float:
        """Seconds since the listener last wrote this (`now` aware)."""
        return (now - datetime.fromisoformat(self.updated_at)).total_seconds()

    def answering(self, now: datetime) -> bool:
        """Whether the listener wrote this recently enough to be alive (see STALE_AFTER_S)."""
        return self.age_s(now) <= STALE_AFTER_S


def status_path(data_dir: Path, account: str) -> Path:
    """Where the listener with this account keeps its status (the run folder is made, owner-only, if missing).

    Characters that do not belong in a file name (a client id is free text) become "_".
    """
    run = data_dir / RUN_DIR
    private_dir(run)
    run.chmod(0o700)  # a run folder made by an older release, or by hand
    return run / f"listener-{_UNSAFE.sub('_', account)}.json"


def write_status(path: Path, status: ListenerStatus) -> None:
    """Replace the status file atomically, readable by its owner only (0600 whatever the umask)."""
    write_private(path, json.dumps(asdict(status)))


def read_status(path: Path) -> ListenerStatus | None:
    """The status in `path`, or None when there is none (or it cannot be read or is not a status)."""
    try:
        raw = json.loads(path.read_text())
        values = {f.name: raw[f.name] for f in fields(ListenerStatus)}
        status = ListenerStatus(**values)
        datetime.fromisoformat(status.updated_at)
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return status


def remove_status(path: Path) -> None:
    """Remove the status file (a clean stop); nothing happens when it is not there."""
    with contextlib.suppress(FileNotFoundError):
        path.unlink()
