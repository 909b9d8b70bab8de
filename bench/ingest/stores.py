"""Where a run's events go: a fresh store per run, or one pre-loaded once with --stored events, so that the drain
rate can be measured as the store grows."""

from __future__ import annotations

from contextlib import ExitStack
from pathlib import Path

from bench.common import count_rows, postgres_store, preload_events, prepare_store, sqlite_store
from bench.ingest.trial import Context
from shared.store.db import make_engine


def store(ctx: Context, stack: ExitStack, backend: str) -> str:
    if ctx.stored:
        return ctx.preloaded[(backend, ctx.stored)]
    if backend == "sqlite":
        return sqlite_store(ctx.tmp / "stores", ctx.devices)
    return postgres_store(stack, ctx.devices, ctx.pg_url)


def preload(ctx: Context, stack: ExitStack, backend: str, events: int, keep: Path | None) -> str:
    """A store holding `events` usage events of the bench's devices, bulk-loaded once and reused by every round
    (with --keep-stores, also by later runs: a SQLite file in that folder, a PostgreSQL database kept)."""
    if keep is not None and backend == "sqlite":
        keep.mkdir(parents=True, exist_ok=True)
        url = f"sqlite:///{keep / f'preload-{events}.db'}"
    elif keep is not None:
        url = _kept_postgres(ctx.pg_url, f"clinic_bench_preload_{events}")
    else:
        url = store(Context(ctx.broker, ctx.tmp, ctx.devices, ctx.pg_url, ctx.poll_s), stack, backend)
    if keep is not None:
        prepare_store(url, ctx.devices)
    engine = make_engine(url)
    have = count_rows(engine)
    engine.dispose()
    if have < events:
        seconds = preload_events(url, ctx.devices, events - have)
        print(f"  {backend}: bulk-loaded {events - have:,} events in {seconds:.0f}s", flush=True)
    else:
        print(f"  {backend}: reusing a store of {have:,} events ({url.rsplit('/', 1)[-1]})", flush=True)
    return url


def _kept_postgres(admin_url: str, name: str) -> str:
    from sqlalchemy import text
    from sqlalchemy.engine import make_url

    admin = make_engine(admin_url)
    with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        if conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}).first() is None:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return make_url(admin_url).set(database=name).render_as_string(hide_password=False)
