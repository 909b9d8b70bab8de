"""What one listener batch costs the writer in-process: decode, record and commit, on an empty or a large store.

The listener's writer process decodes each batch and stores it in one transaction (telemetry/writer_process.py).
This times those three steps without MQTT or a second process, so store-side changes (an index, a pragma) can be
compared in a minute: a SQLite store (or a PostgreSQL database) with `--stored` random-id usage events
bulk-loaded over the last 30 days, then `--messages` random-UUID usage messages from `--devices` stations, device
times a minute apart ending now, decoded and recorded in batches of `--batch` as the writer does (BEGIN IMMEDIATE
on SQLite, the writer's page cache). `--pragma NAME=VALUE` (SQLite, repeatable) sets a pragma on every
connection, e.g. `--pragma wal_autocheckpoint=1000` for SQLite's default. Prints the median per batch of each step
and the mean per message over all batches (checkpoints included). Run from the repository root:

    python -m bench.writer_batch [--stored 1000000] [--backend sqlite|postgresql] [--pragma NAME=VALUE ...]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from contextlib import ExitStack
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import event

from bench.common import PREFIX, device_ids, postgres_store, preload_events, sqlite_store, usage_backlog
from shared.equipment.ingest import record_batch_in
from shared.equipment.payloads import decode
from shared.store.db import make_engine
from telemetry.writer_process import WRITER_SQLITE_CACHE_MIB


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--stored", type=int, default=1_000_000, help="usage events bulk-loaded first")
    parser.add_argument("--messages", type=int, default=40_000, help="messages decoded and recorded")
    parser.add_argument("--batch", type=int, default=2_000, help="messages per transaction (the listener's)")
    parser.add_argument("--devices", type=int, default=200)
    parser.add_argument("--pragma", action="append", default=[], metavar="NAME=VALUE", help="SQLite, repeatable")
    args = parser.parse_args()
    pragmas = [p.split("=", 1) for p in args.pragma]
    devices = device_ids(args.devices)
    with ExitStack() as stack:
        if args.backend == "sqlite":
            folder = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="clinic-bench-writer-")))
            url = sqlite_store(folder, devices)
        else:
            url = postgres_store(stack, devices)
        if args.stored:
            print(f"bulk-loading {args.stored:,} events ...", flush=True)
            print(f"  {preload_events(url, devices, args.stored):.1f} s", flush=True)
        engine = make_engine(url, sqlite_cache_mib=WRITER_SQLITE_CACHE_MIB)
        stack.callback(engine.dispose)
        if pragmas:
            event.listen(engine, "connect", lambda dbapi, _record: _set(dbapi, pragmas))
        steps = _run(engine, devices, args)
    per_message = sum(sum(s) for s in steps.values()) / args.messages * 1e6
    medians = ", ".join(f"{name} {statistics.median(times) * 1000:.1f}" for name, times in steps.items())
    print(f"{args.backend}, {args.stored:,} stored, batches of {args.batch:,}, pragmas {args.pragma or 'none'}")
    print(f"  per batch, median ms: {medians}")
    print(f"  per message, all batches: {per_message:.1f} us")


def _set(dbapi: Any, pragmas: list[list[str]]) -> None:
    cursor = dbapi.cursor()
    for name, value in pragmas:
        cursor.execute(f"PRAGMA {name}={value}")
    cursor.close()


def _run(engine: Any, devices: list[str], args: argparse.Namespace) -> dict[str, list[float]]:
    tz = ZoneInfo("America/New_York")
    messages = usage_backlog(devices, args.messages, "writer", ids="uuid")
    received = datetime.now(UTC)
    steps: dict[str, list[float]] = {"decode": [], "record": [], "commit": []}
    for start in range(0, len(messages), args.batch):
        began = time.perf_counter()
        items = [decode(topic, payload, prefix=PREFIX, received_at=received)
                 for topic, payload in messages[start:start + args.batch]]  # fmt: skip
        decoded = time.perf_counter()
        with engine.connect() as conn:
            conn.execution_options(sqlite_begin="IMMEDIATE")
            transaction = conn.begin()
            record_batch_in(conn, items, tz=tz)
            recorded = time.perf_counter()
            transaction.commit()
        committed = time.perf_counter()
        steps["decode"].append(decoded - began)
        steps["record"].append(recorded - decoded)
        steps["commit"].append(committed - recorded)
    return steps


if __name__ == "__main__":
    main()
