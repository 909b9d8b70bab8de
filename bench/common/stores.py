"""Fresh stores for a benchmark: a SQLite file, a temporary PostgreSQL database or a private server.

Each gets the schema and the benchmark's devices registered, and is dropped or removed when the caller's
`ExitStack` closes, so every run starts from the same empty store and leaves nothing behind.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import uuid
from collections.abc import Sequence
from contextlib import ExitStack
from pathlib import Path

from sqlalchemy import Engine, text
from sqlalchemy.engine import make_url

from bench.common.payloads import SITE
from shared.equipment.stations import register_equipment
from shared.store.db import init_db, make_engine, unit_of_work
from tests.pg_cluster import PrivateCluster

PG_ADMIN_URL = os.environ.get("CLINIC_BENCH_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


def device_ids(count: int) -> list[str]:
    return [f"bench-eq-{n:04d}" for n in range(count)]


def sqlite_store(folder: Path, devices: Sequence[str]) -> str:
    """A fresh SQLite file with the schema and the devices registered; returns its URL."""
    folder.mkdir(parents=True, exist_ok=True)
    url = f"sqlite:///{folder / f'clinic-{uuid.uuid4().hex[:8]}.db'}"
    _prepare(url, devices)
    return url


def postgres_store(stack: ExitStack, devices: Sequence[str], admin_url: str = PG_ADMIN_URL) -> str:
    """A fresh PostgreSQL database (dropped when `stack` closes) with the schema and the devices registered."""
    name = f"clinic_bench_{uuid.uuid4().hex[:10]}"
    admin = make_engine(admin_url)
    with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    stack.callback(_drop_database, admin, name)
    url = make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    _prepare(url, devices)
    return url


def _drop_database(admin: Engine, name: str) -> None:
    try:
        with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        admin.dispose()


def _prepare(url: str, devices: Sequence[str]) -> None:
    engine = make_engine(url)
    try:
        init_db(engine)
        for device in devices:
            with unit_of_work(engine) as session:
                register_equipment(session=session, site=SITE, equipment_id=device, kind="treadmill", zone="gym")
    finally:
        engine.dispose()


def count_rows(engine: Engine, table: str = "equipment_event") -> int:
    with engine.connect() as conn:
        return int(conn.execute(text(f"SELECT count(*) FROM {table}")).scalar_one())


# -- a store bench/reliability/ can stop and start (its db-outage scenario on PostgreSQL) ----------------------
def prepare_store(url: str, devices: Sequence[str]) -> None:
    """The schema and the devices registered, in an existing database (e.g. a private PostgreSQL server's)."""
    _prepare(url, devices)


def private_postgres(stack: ExitStack, devices: Sequence[str]) -> PrivateCluster:
    """A started private PostgreSQL server in a fresh /tmp folder with the schema and `devices` registered.

    Stopped (immediate) and its folder removed when `stack` closes.
    """
    import tempfile

    root = Path(tempfile.mkdtemp(prefix="clinic-bench-pg-"))
    stack.callback(shutil.rmtree, root, True)
    root.chmod(0o755)
    cluster = PrivateCluster(root / "pg", durable=True)

    def _stop() -> None:
        from contextlib import suppress

        if cluster.running():
            with suppress(subprocess.CalledProcessError):
                cluster.stop("immediate")

    stack.callback(_stop)
    cluster.start()
    prepare_store(cluster.url, devices)
    return cluster
