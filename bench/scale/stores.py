"""The benchmark's stores: a schema from `init_db`, a generated chain bulk-loaded into it, removed at the end."""

from __future__ import annotations

import argparse
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import Engine, text
from sqlalchemy.engine import make_url

from bench.scale.formats import Chunk
from bench.scale.generator import Generator
from bench.scale.loaders import PostgresLoader, SQLiteLoader
from bench.scale.progress import Progress
from bench.scale.sizes import Chain, Size
from shared.store.db import init_db, make_engine
from shared.store.settings import Settings


@dataclass
class Store:
    backend: str
    chain: Chain
    url: str
    engine: Engine
    settings: dict[str, Settings]
    gen_s: float
    load_s: dict[str, float]
    bytes: int | None


def create_store(
    backend: str, size: Size, args: argparse.Namespace, stack: ExitStack, tmp: Path, now: datetime
) -> Store:
    tz = ZoneInfo(args.timezone)
    if backend == "sqlite":
        path = tmp / f"scale-{size.label}-{uuid.uuid4().hex[:6]}.db"
        url = f"sqlite:///{path}"
    else:
        url = _postgres_database(args.pg_url, stack)
    engine = make_engine(url)
    init_db(engine)
    engine.dispose()
    loader: SQLiteLoader | PostgresLoader = SQLiteLoader(path) if backend == "sqlite" else PostgresLoader(url)
    gen = Generator(size, now, tz, args.seed)
    began = time.perf_counter()
    counts, seconds = _load_chain(backend, gen, loader)
    gen_s = time.perf_counter() - began
    gen.chain.rows = counts
    engine = make_engine(url)
    stack.callback(engine.dispose)
    settings = {
        site: Settings(_env_file=None, site=site, timezone=args.timezone, database_url=url)  # type: ignore[call-arg]
        for site in gen.sites
    }
    return Store(backend, gen.chain, url, engine, settings, gen_s, seconds, _store_bytes(backend, url, engine))


def _load_chain(
    backend: str, gen: Generator, loader: SQLiteLoader | PostgresLoader
) -> tuple[dict[str, int], dict[str, float]]:
    """Generate the chain table by table and write it; returns the rows and the seconds spent writing, per table."""
    size = gen.size
    counts: dict[str, int] = {}
    seconds: dict[str, float] = {}

    def load(chunks: Iterator[Chunk]) -> None:
        for table, columns, rows in chunks:
            t0 = time.perf_counter()
            loader.write(table, columns, rows)
            seconds[table] = seconds.get(table, 0.0) + time.perf_counter() - t0  # writing only, not generating
            counts[table] = counts.get(table, 0) + len(rows)

    print(f"  {backend} {size.label}: {size.describe()}", file=sys.stderr, flush=True)
    load(gen.equipment_rows())
    progress = Progress(f"{backend} {size.label}: events", size.events)
    load(gen.event_rows(progress))
    progress.close()
    load(gen.state_rows())
    load(gen.day_rows())
    load(gen.exercise_rows())
    progress = Progress(f"{backend} {size.label}: patients", size.patients)
    load(gen.care_rows(progress))
    progress.close()
    t0 = time.perf_counter()
    loader.finish()
    seconds["finish (VACUUM ANALYZE / WAL)"] = time.perf_counter() - t0
    return counts, seconds


def _postgres_database(admin_url: str, stack: ExitStack) -> str:
    name = f"clinic_scale_{uuid.uuid4().hex[:10]}"
    admin = make_engine(admin_url)
    with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))

    def drop() -> None:
        try:
            with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        finally:
            admin.dispose()

    stack.callback(drop)
    return make_url(admin_url).set(database=name).render_as_string(hide_password=False)


def _store_bytes(backend: str, url: str, engine: Engine) -> int | None:
    if backend == "sqlite":
        database = make_url(url).database
        return sum(Path(p).stat().st_size for p in (database, f"{database}-wal") if p and Path(p).exists())
    with engine.connect() as conn:
        return int(conn.execute(text("SELECT pg_database_size(current_database())")).scalar_one())
