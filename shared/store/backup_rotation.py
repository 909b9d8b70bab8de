"""Dated backup names and keeping the newest N of them in a folder (`clinic db backup --keep N`, the nightly timer).

Only files named as `dated_name` names them are ever deleted: a folder shared with anything else is safe.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

PREFIX, SUFFIX = "clinic-backup-", ".tar.gz"
DATED = re.compile(r"^clinic-backup-\d{8}-\d{6}Z\.tar\.gz$")


def dated_name(now: datetime) -> str:
    """`clinic-backup-20261206-023000Z.tar.gz`: sorts by time, in UTC so a clock change never reorders them."""
    return f"{PREFIX}{now.astimezone(UTC):%Y%m%d-%H%M%S}Z{SUFFIX}"


def dated_backups(folder: Path) -> list[Path]:
    """The folder's dated backups, oldest first."""
    if not folder.is_dir():
        return []
    return sorted(path for path in folder.iterdir() if DATED.match(path.name) and path.is_file())


def rotate(folder: Path, *, keep: int) -> list[Path]:
    """Delete all but the newest `keep` dated backups in `folder`; returns those deleted."""
    if keep < 1:
        raise ValueError("keep at least one backup")
    old = dated_backups(folder)[:-keep]
    for path in old:
        path.unlink(missing_ok=True)
    return old
