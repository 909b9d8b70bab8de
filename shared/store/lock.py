"""Who is using the store from this machine: listeners hold a shared lock, a restore needs it exclusively.

A lock on `<data dir>/store-<hash of the database URL>.lock`, one per store (flock: the kernel drops it when the
process dies, even by SIGKILL, so a crashed listener never blocks a restore). Several listeners (a shared
subscription) each hold it shared. Restoring into another store is not held up by this one's listener.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy.engine import make_url

from shared.store.errors import ClinicError


class StoreInUse(ClinicError):
    """The store cannot be replaced now: a listener runs, or a restore is under way."""


@contextmanager
def listener_lock(data_dir: Path, url: str) -> Iterator[None]:
    """Held by `clinic listen` while it runs, so that `clinic db restore` of its store refuses meanwhile."""
    with _locked(lock_path(data_dir, url), fcntl.LOCK_SH) as held:
        if not held:
            raise StoreInUse("a restore of the store is under way; start the listener when it has finished")
        yield


@contextmanager
def exclusive_store(data_dir: Path, url: str) -> Iterator[None]:
    """Held by a restore: no listener of this store runs here, and none can start until it ends."""
    with _locked(lock_path(data_dir, url), fcntl.LOCK_EX) as held:
        if not held:
            raise StoreInUse(
                "the listener is running on this store: stop it first (Ctrl-C in `clinic up`, or stop the "
                "`clinic listen` service), then restore"
            )
        yield


def lock_path(data_dir: Path, url: str) -> Path:
    """The lock file of the store at `url` (the URL without its password names it)."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database:
        parsed = parsed.set(database=str(Path(parsed.database).resolve()))
    key = parsed.render_as_string(hide_password=True)
    return data_dir / f"store-{hashlib.sha256(key.encode()).hexdigest()[:16]}.lock"


@contextmanager
def _locked(path: Path, mode: int) -> Iterator[bool]:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(fd, mode | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        yield True
    finally:
        os.close(fd)  # closing releases the lock


@contextmanager
def only_one(data_dir: Path, url: str, *, command: str, as_: str | None = None) -> Iterator[None]:
    """Held by `clinic <command>` where one may run per store (the native adapter), or one per store and `as_`
    (a listener's broker account: two with one account take each other's session): a second one is refused."""
    store_lock = lock_path(data_dir, url)
    suffix = command if as_ is None else f"{command}-{hashlib.sha256(as_.encode()).hexdigest()[:12]}"
    path = store_lock.with_name(f"{store_lock.stem}-{suffix}.lock")
    with _locked(path, fcntl.LOCK_EX) as held:
        if not held:
            who = "" if as_ is None else f" as {as_}"
            pid = _holder(path)
            raise StoreInUse(f"`clinic {command}` is already running for this store{who}{pid}; stop the other one "
                             "first (`clinic up` starts it, and so may a service)")  # fmt: skip
        path.write_text(f"{os.getpid()}\n")  # who holds it, for the message above (the lock is the flock)
        yield


def _holder(path: Path) -> str:
    """" (pid N)" of the process that wrote the lock file, when it says."""
    try:
        text = path.read_text().strip()
    except OSError:
        return ""
    return f" (pid {text})" if text.isdigit() else ""
