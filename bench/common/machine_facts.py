"""Facts about where a benchmark ran: the machine, the versions of the backends, and the commit measured.

Every benchmark prints these beside its figures and writes them to its JSON, so results stay comparable.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

from sqlalchemy import text

from bench.common.broker import mosquitto_binary
from shared.store.db import make_engine


def backend_versions(pg_url: str | None) -> dict[str, str]:
    import sqlite3
    from importlib.metadata import version

    out = {"sqlite": sqlite3.sqlite_version, "python": sys.version.split()[0], "paho-mqtt": version("paho-mqtt")}
    try:
        first = subprocess.run([mosquitto_binary(), "-h"], capture_output=True, text=True, timeout=5).stdout
        out["mosquitto"] = first.splitlines()[0].replace("mosquitto version ", "") if first else "?"
    except (OSError, subprocess.SubprocessError):
        out["mosquitto"] = "?"
    if pg_url:
        out["postgresql"] = postgres_version(pg_url)
    return out


def postgres_version(pg_url: str) -> str:
    """The PostgreSQL server's version, or why it could not be read."""
    engine = make_engine(pg_url)
    try:
        with engine.connect() as conn:
            return str(conn.execute(text("SHOW server_version")).scalar_one())
    except Exception as exc:
        return f"unavailable ({type(exc).__name__})"
    finally:
        engine.dispose()


INGEST_PATHS = (
    "telemetry/listener.py",
    "telemetry/batching.py",
    "telemetry/writer_process.py",
    "shared/equipment/payloads.py",
    "shared/equipment/ingest.py",
    "shared/equipment/ingest_rows.py",
    "shared/store/db.py",
    "shared/store/types.py",
    "shared/equipment/models.py",
)


def code_version(paths: Sequence[str] = INGEST_PATHS) -> str:
    """The commit benchmarked, and whether the code it times (`paths`, by default the ingest path) differs from
    it in the working tree."""
    root = Path(__file__).resolve().parents[2]  # bench/common/machine_facts.py -> the repository
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=root, capture_output=True, text=True)
        dirty = subprocess.run(
            ["git", "diff", "--name-only", "HEAD", "--", *paths], cwd=root, capture_output=True, text=True
        )
    except OSError:
        return "?"
    changed = dirty.stdout.split()
    return head.stdout.strip() + (f" (uncommitted changes in {', '.join(changed)})" if changed else "")


def machine() -> dict[str, str]:
    mem = "?"
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemTotal:"):
            mem = f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
    cpu = "?"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    return {"nproc": str(os.cpu_count()), "ram": mem, "cpu": cpu}
