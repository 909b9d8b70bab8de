"""The one engine factory: SQLite (WAL, foreign keys, busy timeout) or PostgreSQL from the same URL setting."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlmodel import Session, SQLModel

SQLITE_BUSY_TIMEOUT_MS = 10_000  # a writer waits this long for another writer before raising "locked"


def make_engine(url: str) -> Engine:
    """Build an engine for `url`; SQLite gets the pragmas the listener and kiosks rely on."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        return _make_sqlite_engine(url, parsed.database)
    if parsed.drivername == "postgresql":
        url = str(parsed.set(drivername="postgresql+psycopg"))
    return create_engine(url, pool_pre_ping=True, pool_size=5, max_overflow=5)


def _make_sqlite_engine(url: str, database: str | None) -> Engine:
    if database and database != ":memory:":
        Path(database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": SQLITE_BUSY_TIMEOUT_MS / 1000})

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: sqlite3.Connection, _record: Any) -> None:
        # Take transaction control from pysqlite so that BEGIN IMMEDIATE is possible (see _on_begin).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")  # safe with WAL: a power cut loses at most the last commit
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
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


def is_sqlite(engine: Engine) -> bool:
    """Whether the engine talks to SQLite (some statements differ by dialect)."""
    return engine.dialect.name == "sqlite"


def init_db(engine: Engine) -> None:
    """Create every table and index that does not exist yet; safe to run any number of times."""
    from shared import care_models, models, staff_models  # noqa: F401  (registers the tables on SQLModel.metadata)

    SQLModel.metadata.create_all(engine)


def session_for(engine: Engine) -> Session:
    """A short-lived ORM session for reads and small admin writes (never shared across threads)."""
    return Session(engine, expire_on_commit=False)
