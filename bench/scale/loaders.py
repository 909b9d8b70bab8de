"""Bulk loaders of generated rows: sqlite3 `executemany` for SQLite, COPY for PostgreSQL.

Apart from the stores (`bench.scale.stores`) because `bench.common.preload_events` loads bench.ingest's stores
with them too.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from pathlib import Path

from sqlalchemy.engine import make_url

from bench.scale.formats import Row

EXPLICIT_IDS = ("exercise", "patient", "appointment")  # tables whose ids are generated here (sequences follow)


class SQLiteLoader:
    """sqlite3 executemany, one transaction per chunk, journal off and a 1 GiB page cache while loading."""

    def __init__(self, path: Path) -> None:
        self.conn = sqlite3.connect(path, isolation_level=None)
        for pragma in ("journal_mode=OFF", "synchronous=OFF", "cache_size=-1048576", "temp_store=MEMORY",
                       "foreign_keys=OFF", "locking_mode=EXCLUSIVE"):  # fmt: skip
            self.conn.execute(f"PRAGMA {pragma}")

    def write(self, table: str, columns: Sequence[str], rows: list[Row]) -> None:
        names = ", ".join(f'"{c}"' for c in columns)
        marks = ", ".join("?" * len(columns))
        self.conn.execute("BEGIN")
        self.conn.executemany(f'INSERT INTO "{table}" ({names}) VALUES ({marks})', rows)
        self.conn.execute("COMMIT")

    def finish(self) -> None:
        self.conn.execute("PRAGMA locking_mode=NORMAL")
        self.conn.execute("PRAGMA journal_mode=WAL")  # what make_engine sets; the app finds the file as it expects
        self.conn.close()


class PostgresLoader:
    """COPY … FROM STDIN in text format through psycopg's `cursor.copy()`, one transaction per chunk."""

    def __init__(self, url: str) -> None:
        import psycopg

        conninfo = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
        self.conn = psycopg.connect(conninfo)
        with self.conn.cursor() as cur:
            cur.execute("SET TIME ZONE 'UTC'")  # the UTC texts below are read as UTC timestamptz
            cur.execute("SET synchronous_commit = off")
            try:
                cur.execute("SET session_replication_role = replica")  # no FK trigger per row (superuser only)
            except psycopg.Error:
                self.conn.rollback()
                cur.execute("SET TIME ZONE 'UTC'")
        self.conn.commit()

    def write(self, table: str, columns: Sequence[str], rows: list[Row]) -> None:
        names = ", ".join(f'"{c}"' for c in columns)
        with self.conn.cursor() as cur, cur.copy(f'COPY "{table}" ({names}) FROM STDIN') as copy:
            for piece in range(0, len(rows), 20_000):
                copy.write("".join(_copy_line(r) for r in rows[piece : piece + 20_000]))
        self.conn.commit()

    def finish(self) -> None:
        with self.conn.cursor() as cur:
            for table in EXPLICIT_IDS:
                cur.execute(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                    f"(SELECT coalesce(max(id), 1) FROM {table}))"
                )
        self.conn.commit()
        self.conn.autocommit = True
        self.conn.execute("VACUUM ANALYZE")
        self.conn.close()


def _copy_line(row: Row) -> str:
    # Generated texts hold no tab, newline or backslash; None is \N; booleans are loaded as 0/1.
    return "\t".join("\\N" if v is None else str(v) for v in row) + "\n"
