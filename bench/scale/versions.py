"""What ran: the versions of Python, SQLite, the drivers and the PostgreSQL server, and the commit of the code timed."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path

from sqlalchemy import text

from shared.store.db import make_engine

CODE_PATHS = ["shared/equipment/stations.py", "shared/equipment/board.py", "shared/care/checkin.py",
              "shared/care/todays_plan.py", "shared/equipment/usage.py", "shared/store/types.py",
              "shared/equipment/models.py", "shared/care/models.py", "shared/store/db.py",
              "shared/equipment/state_machine.py"]  # fmt: skip


def versions(pg_url: str | None) -> dict[str, str]:
    from importlib.metadata import version

    out = {"python": sys.version.split()[0], "sqlite": sqlite3.sqlite_version}
    for package in ("sqlalchemy", "sqlmodel", "psycopg"):
        out[package] = version(package)
    if pg_url:
        engine = make_engine(pg_url)
        try:
            with engine.connect() as conn:
                out["postgresql"] = str(conn.execute(text("SHOW server_version")).scalar_one())
        except Exception as exc:
            out["postgresql"] = f"unavailable ({type(exc).__name__})"
        finally:
            engine.dispose()
    return out


def code_version() -> str:
    root = Path(__file__).resolve().parents[2]
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=root, capture_output=True, text=True)
        dirty = subprocess.run(
            ["git", "diff", "--name-only", "HEAD", "--", *CODE_PATHS], cwd=root, capture_output=True, text=True
        )
    except OSError:
        return "?"
    changed = dirty.stdout.split()
    return head.stdout.strip() + (f" (uncommitted changes in {', '.join(changed)})" if changed else "")
