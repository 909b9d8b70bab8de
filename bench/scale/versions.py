"""What ran: the versions of Python, SQLite, the drivers and the PostgreSQL server, and the commit of the code timed."""

from __future__ import annotations

import sqlite3
import sys

from bench.common.machine_facts import code_version as commit_of
from bench.common.machine_facts import postgres_version

CODE_PATHS = ("shared/equipment/stations.py", "shared/equipment/board.py", "shared/care/checkin.py",
              "shared/care/todays_plan.py", "shared/equipment/usage.py", "shared/store/types.py",
              "shared/equipment/models.py", "shared/care/models.py", "shared/store/db.py",
              "shared/equipment/state_machine.py")  # fmt: skip


def versions(pg_url: str | None) -> dict[str, str]:
    """Python, SQLite, the database drivers and (given its URL) the PostgreSQL server."""
    from importlib.metadata import version

    out = {"python": sys.version.split()[0], "sqlite": sqlite3.sqlite_version}
    for package in ("sqlalchemy", "sqlmodel", "psycopg"):
        out[package] = version(package)
    if pg_url:
        out["postgresql"] = postgres_version(pg_url)
    return out


def code_version() -> str:
    """The commit measured, and whether the board, check-in and chart code differs from it in the working tree."""
    return commit_of(CODE_PATHS)
