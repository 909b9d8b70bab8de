"""The store: one engine factory (SQLite in WAL, or PostgreSQL from the same URL) and the one way to write.

Every service write goes through `unit_of_work`: on SQLite it begins IMMEDIATE, so a writer queues on the write
lock (within the busy timeout) instead of failing with "database is locked" when the listener committed after
its first read, which a DEFERRED transaction cannot survive. Reads use `read_session` and never block writers.
"""

from __future__ import annotations

import importlib.util
import logging
import os
import sqlite3
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlmodel import Session

from shared.store.errors import ClinicError

SQLITE_BUSY_TIMEOUT_MS = 10_000  # a writer waits this long for another writer before raising "locked"
# WAL pages after which a commit copies the WAL back into the database (SQLite's default is 1,000, 4 MB). Each
# such checkpoint ends with an fsync of the database file. A backlog batch of 2,000 messages writes about that
# many pages, so with the default every batch paid a checkpoint; at 4,000 one batch in several does, and the
# station pages that consecutive batches rewrite are copied once: decoding and storing a backlog at a million
# stored events took 52-55 us a message instead of 66-67 (in-process, docs/benchmarks.md, issue #23). The WAL
# file then stays about 16 MB.
SQLITE_WAL_AUTOCHECKPOINT_PAGES = 4_000
WRITE_ATTEMPTS = 3  # a transient failure (lock timeout, PG serialization or deadlock) is retried this often
RETRY_PAUSE_S = 0.05  # doubled after each failed attempt

log = logging.getLogger(__name__)
T = TypeVar("T")


def make_engine(url: str, *, sqlite_cache_mib: int | None = None) -> Engine:
    """Build an engine for `url`; SQLite gets the pragmas the listener and kiosks rely on, and a page cache of
    `sqlite_cache_mib` per connection when given (SQLite's default is 2 MiB)."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        return _make_sqlite_engine(url, parsed.database, sqlite_cache_mib)
    if parsed.drivername == "postgresql":
        url = str(parsed.set(drivername="postgresql+psycopg"))
    if parsed.get_backend_name() == "postgresql" and importlib.util.find_spec("psycopg") is None:
        raise ClinicError("CLINIC_DATABASE_URL is a PostgreSQL store, and its driver is not installed: "
                          "pip install 'clinic-checkin[postgres]' (or psycopg[binary])")  # fmt: skip
    engine = create_engine(url, pool_pre_ping=True, pool_size=5, max_overflow=5, hide_parameters=True)
    event.listen(engine, "connect", _postgresql_session_in_utc)
    return engine


def _postgresql_session_in_utc(dbapi_connection: Any, _record: Any) -> None:
    """Every PostgreSQL session in UTC, whatever the server's default: psycopg then returns times with Python's own
    `UTC` (the server's "Etc/UTC" gives a ZoneInfo, which costs a conversion per value: the all-sites board read
    5,000 times per call), and nothing the store computes depends on the server's zone."""
    with dbapi_connection.cursor() as cursor:
        cursor.execute("SET TIME ZONE 'UTC'")
    dbapi_connection.commit()


def _create_private(path: Path) -> None:
    """A new database folder 0700 and file 0600 (patient data); SQLite gives its -wal/-shm the file's mode."""
    if not path.parent.exists():
        path.parent.mkdir(mode=0o700, parents=True)
    if not path.exists():
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT, 0o600))


def _make_sqlite_engine(url: str, database: str | None, cache_mib: int | None) -> Engine:
    if database and database != ":memory:":
        _create_private(Path(database))
    # hide_parameters: an error's text (which reaches the logs) never carries the values bound, such as names.
    engine = create_engine(
        url, hide_parameters=True, connect_args={"check_same_thread": False, "timeout": SQLITE_BUSY_TIMEOUT_MS / 1000}
    )

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: sqlite3.Connection, _record: Any) -> None:
        # Take transaction control from pysqlite so that BEGIN IMMEDIATE is possible (see _on_begin).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")  # safe with WAL: a power cut loses at most the last commit
        cursor.execute(f"PRAGMA wal_autocheckpoint={SQLITE_WAL_AUTOCHECKPOINT_PAGES}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        if cache_mib:
            cursor.execute(f"PRAGMA cache_size=-{int(cache_mib) * 1024}")  # negative: KiB, not pages
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        # Writers that read-then-write ask for IMMEDIATE, so they queue on the lock instead of failing
        # with SQLITE_BUSY when upgrading a read transaction.
        mode = conn.get_execution_options().get("sqlite_begin", "DEFERRED")
        conn.exec_driver_sql(f"BEGIN {mode}")

    return engine


@contextmanager
def write_transaction(engine: Engine) -> Iterator[Connection]:
    """A Core connection in a transaction that intends to write (IMMEDIATE on SQLite)."""
    with engine.connect() as conn:
        conn.execution_options(sqlite_begin="IMMEDIATE")
        with conn.begin():
            yield conn


def init_db(engine: Engine) -> None:
    """Bring the schema to this code's revision (creating it in an empty store); one read when it is there.

    Raises `shared.store.schema.SchemaTooNew` on a store upgraded by a newer release, so nothing runs on it.
    """
    from shared.store.schema import upgrade_store  # Alembic is imported only by processes that open a store

    upgrade_store(engine)


def read_session(engine: Engine) -> Session:
    """A short-lived ORM session for reads (never shared across threads); it must not write."""
    return Session(engine, expire_on_commit=False)


@contextmanager
def unit_of_work(engine: Engine) -> Iterator[Session]:
    """One user action's writes in one transaction: committed when the block ends, rolled back on an error.

    On SQLite the transaction begins IMMEDIATE (it takes the write lock before its first read), so it waits for
    the listener's batch instead of failing; on PostgreSQL it is a normal READ COMMITTED transaction, and
    counters are bumped with atomic UPDATEs by the services. Keep slow work (hashing, rendering) outside.
    """
    session = Session(engine.execution_options(sqlite_begin="IMMEDIATE"), expire_on_commit=False)
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def read_first(engine: Engine, work: Callable[[Session], T]) -> T:
    """Run `work` in one transaction that begins as a read, for a user action that usually only reads (the
    lobby's scan: a good card reads, a refused one is recorded).

    On SQLite it takes the write lock only when `work` first writes, so the usual case never waits behind the
    listener's batch. When SQLite refuses that
    upgrade (another writer holds the lock, or wrote since the read began), `work` runs again, once, in a unit of
    work that queues for the lock; the first attempt was rolled back, so one transaction commits.
    """
    try:
        with Session(engine, expire_on_commit=False) as session, session.begin():
            return work(session)
    except DBAPIError as exc:
        if not is_transient(exc):
            raise
    with unit_of_work(engine) as session:
        return work(session)


def with_retry(action: Callable[[], T], *, attempts: int = WRITE_ATTEMPTS) -> T:
    """Run `action` (which opens its own unit of work) again after a transient storage failure, a few times."""
    pause = RETRY_PAUSE_S
    for attempt in range(1, attempts + 1):
        try:
            return action()
        except (OperationalError, DBAPIError) as exc:
            if attempt == attempts or not is_transient(exc):
                raise
            log.warning("storage busy (%s), retrying (attempt %d of %d)", type(exc.orig).__name__, attempt, attempts)
            time.sleep(pause)
            pause *= 2
    raise AssertionError("unreachable")


def is_transient(exc: DBAPIError) -> bool:
    """Whether a failed write may succeed if tried again: a lock, a dropped connection, a PG serialization
    failure or deadlock (SQLSTATE 40001/40P01)."""
    if exc.connection_invalidated:
        return True
    text = str(exc.orig).lower()
    if "database is locked" in text or "database table is locked" in text or "busy" in text:
        return True
    return getattr(exc.orig, "sqlstate", None) in ("40001", "40P01", "55P03")
