"""Pre-loaded stores for bench.ingest's store-size dimension: millions of usage events bulk-loaded at once.

Apart from the fresh stores because it borrows bench.scale's bulk loaders and only bench.ingest needs it.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy.engine import make_url

from bench.common.payloads import SITE

PRELOAD_COLS = ("site", "equipment_id", "event_id", "channel", "event", "device_ts", "event_at", "received_at",
                "session_id", "duration_s", "source")  # fmt: skip


def preload_events(url: str, devices: Sequence[str], count: int, *, chunk: int = 200_000) -> float:
    """Bulk-load `count` usage events of `devices` (random 128-bit ids, over the last 30 days), as bench.scale
    loads its chain; returns the seconds it took. The store must have the schema and the devices registered."""
    import random

    from bench.scale.loaders import PostgresLoader, SQLiteLoader

    rng = random.Random(count)
    bits = rng.getrandbits
    loader: Any = SQLiteLoader(Path(make_url(url).database or "")) if url.startswith("sqlite") else PostgresLoader(url)
    began = time.perf_counter()
    start = datetime.now(UTC) - timedelta(days=30)
    step = timedelta(days=30) / max(1, count)
    done = 0
    while done < count:
        rows = []
        for n in range(done, min(count, done + chunk)):
            at = (start + n * step).replace(tzinfo=None).isoformat(" ", "microseconds")
            stop = n % 2
            rows.append((SITE, devices[(n // 2) % len(devices)], f"{bits(128):032x}", "usage",
                         "stop" if stop else "start", at, at, at, None, 600.0 if stop else None, "device"))  # fmt: skip
        loader.write("equipment_event", PRELOAD_COLS, rows)
        done += len(rows)
    if isinstance(loader, SQLiteLoader):
        loader.finish()
    else:
        loader.conn.commit()
        loader.conn.autocommit = True
        loader.conn.execute("VACUUM ANALYZE equipment_event")
        loader.conn.close()
    return time.perf_counter() - began
