"""Size-capped logs for what `clinic up` runs: copy, then truncate in place (as logrotate's copytruncate does).

The children write their output to files opened for appending, so truncating a file makes every writer go on
at its new end: nothing has to be restarted or signalled. The few lines written between the copy and the
truncation are the only ones that can be lost, and the files can never fill the disk.
"""

from __future__ import annotations

import shutil
from pathlib import Path

MAX_BYTES = 10 * 1024 * 1024  # a log is rotated once it is larger than this
KEEP = 5  # rotated copies kept: <name>.log.1 (newest) to <name>.log.5


def rotate_if_large(path: Path, *, max_bytes: int = MAX_BYTES, keep: int = KEEP) -> bool:
    """Rotate `path` when it is over `max_bytes`; returns whether it did."""
    try:
        if path.stat().st_size <= max_bytes:
            return False
    except FileNotFoundError:
        return False
    for n in range(keep - 1, 0, -1):
        older = path.with_name(f"{path.name}.{n}")
        if older.exists():
            older.replace(path.with_name(f"{path.name}.{n + 1}"))
    shutil.copyfile(path, path.with_name(f"{path.name}.1"))
    with path.open("r+b") as log:
        log.truncate(0)
    return True


def rotate_logs(folder: Path, *, max_bytes: int = MAX_BYTES, keep: int = KEEP) -> list[Path]:
    """Rotate every `*.log` in `folder` that is over the limit; returns those rotated."""
    return [p for p in sorted(folder.glob("*.log")) if rotate_if_large(p, max_bytes=max_bytes, keep=keep)]
