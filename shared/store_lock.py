"""Who is using the store from this machine: listeners hold a shared lock, a restore needs it exclusively.

A lock on `<data dir>/store.lock` (flock: the kernel drops it when the process dies, even by SIGKILL, so a
crashed listener never blocks a restore). Several listeners (a shared subscription) each hold it shared.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from shared.errors import ClinicError

LOCK_NAME = "store.lock"


class StoreInUse(ClinicError):
    """The store cannot be replaced now: a listener runs, or a restore is under way."""


@contextmanager
def listener_lock(data_dir: Path) -> Iterator[None]:
    """Held by `clinic listen` while it runs, so that `clinic db restore` refuses meanwhile."""
    with _locked(data_dir, fcntl.LOCK_SH) as held:
        if not held:
            raise StoreInUse(f"a restore of the store is under way ({data_dir / LOCK_NAME}); start the listener after")
        yield


@contextmanager
def exclusive_store(data_dir: Path) -> Iterator[None]:
    """Held by a restore: no listener of this data folder runs, and none can start until it ends."""
    with _locked(data_dir, fcntl.LOCK_EX) as held:
        if not held:
            raise StoreInUse(
                "the listener is running on this store: stop it first (Ctrl-C in `clinic up`, or stop the "
                "`clinic listen` service), then restore"
            )
        yield


@contextmanager
def _locked(data_dir: Path, mode: int) -> Iterator[bool]:
    data_dir.mkdir(parents=True, exist_ok=True)
    fd = os.open(data_dir / LOCK_NAME, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(fd, mode | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        yield True
    finally:
        os.close(fd)  # closing releases the lock
