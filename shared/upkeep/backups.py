"""The record of the last backup, kept in the data folder so the staff app and `clinic status` can say how old it is.

`clinic db backup` writes `<data dir>/last-backup.json` after each backup it completes (wherever the archive went):
when, where, how big. A file rather than a row: the backup of a store cannot hold the record of itself, and
an operator can read it with `cat`.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

RECORD_NAME = "last-backup.json"


@dataclass(frozen=True, slots=True)
class LastBackup:
    """The last backup `clinic db backup` completed for this data folder."""

    path: Path
    at: datetime  # aware, UTC
    size: int

    def age(self, now: datetime) -> timedelta:
        return now - self.at

    def as_dict(self, now: datetime) -> dict[str, object]:
        return {"path": str(self.path), "at": self.at.isoformat(), "size_bytes": self.size,
                "age_hours": round(self.age(now).total_seconds() / 3600, 1)}  # fmt: skip


def record_backup(data_dir: Path, *, path: Path, at: datetime, size: int) -> None:
    """Remember a completed backup (atomically, owner-only)."""
    data_dir.mkdir(parents=True, exist_ok=True)
    record = data_dir / RECORD_NAME
    partial = record.with_name(f".{RECORD_NAME}.partial")
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        json.dump({"path": str(path.resolve()), "at": at.isoformat(), "size_bytes": size}, handle)
    os.replace(partial, record)


def last_backup(data_dir: Path) -> LastBackup | None:
    """The last recorded backup, or None when there has been none (or the record is unreadable)."""
    try:
        raw = json.loads((data_dir / RECORD_NAME).read_text())
        return LastBackup(path=Path(raw["path"]), at=datetime.fromisoformat(raw["at"]), size=int(raw["size_bytes"]))
    except (OSError, ValueError, KeyError, TypeError):
        return None
