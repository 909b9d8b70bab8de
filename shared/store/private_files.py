"""Files and folders only their owner can read: the store, backups, logs, and the broker's secrets.

Patient names and birth dates live in the store and its backups, device passwords in the broker's files, so
none of them may be group- or world-readable whatever the umask of the shell that made them (the usual 022
gives 0644). Folders are 0700, files 0600.
"""

from __future__ import annotations

import os
from pathlib import Path

FILE_MODE, DIR_MODE = 0o600, 0o700


def private_dir(path: Path) -> None:
    """Create a folder (and its missing parents, e.g. the data folder) readable by its owner only."""
    for folder in reversed([path, *path.parents]):
        if not folder.exists():
            folder.mkdir(mode=DIR_MODE)


def write_private(path: Path, data: str | bytes) -> None:
    """Write a file readable by its owner only, atomically (a running broker or reader never sees half)."""
    tmp = path.with_suffix(path.suffix + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, FILE_MODE)
    os.fchmod(fd, FILE_MODE)  # an older .tmp left by a crash keeps its mode through O_CREAT
    with os.fdopen(fd, "wb" if isinstance(data, bytes) else "w") as handle:
        handle.write(data)
    os.replace(tmp, path)


def open_private(path: Path, *, append: bool = False) -> int:
    """Open (creating) a file owner-only and return its descriptor; an existing file is made owner-only too."""
    flags = os.O_WRONLY | os.O_CREAT | (os.O_APPEND if append else os.O_EXCL)
    fd = os.open(path, flags, FILE_MODE)
    os.fchmod(fd, FILE_MODE)
    return fd


def make_private(path: Path) -> None:
    """Tighten a file to 0600, or a folder and everything in it to 0700 / 0600 (symlinks are left alone)."""
    if path.is_symlink() or not path.exists():
        return
    if path.is_file():
        path.chmod(FILE_MODE)
        return
    path.chmod(DIR_MODE)
    for root, dirs, files in os.walk(path):
        for name in dirs:
            folder = Path(root, name)
            if not folder.is_symlink():
                folder.chmod(DIR_MODE)
        for name in files:
            file = Path(root, name)
            if not file.is_symlink():
                file.chmod(FILE_MODE)
