"""Publish -> row visible at a steady rate: the delay a clinic sees, which a backlog drain does not measure."""

from __future__ import annotations

import json
import statistics
import threading
import time
from collections.abc import Callable
from typing import Any

from sqlalchemy import Engine, select

from bench.common import Publisher, timed_usage, wait_until
from bench.ingest.trial import Context, new_tag
from shared.equipment.ingest_rows import EVENTS


def measure_latency(
    ctx: Context, engine: Engine, rate: float, seconds: float, check: Callable[[], None]
) -> dict[str, Any]:
    """Publish at a steady rate with the send time in the metrics; a poller notes when each row is visible."""
    total = round(rate * seconds)
    visible: list[float] = []
    received: list[float] = []
    stop = threading.Event()
    start_id = _max_id(engine)
    poll_error: list[BaseException] = []
    poll_costs: list[float] = []

    def poll() -> None:
        # A row in the result of a query that started at t was committed before t (the query's snapshot), and
        # after the start of the previous poll that missed it: the error is under one poll interval plus the
        # duration of a query. LIMIT keeps the planner on the primary key even before the table is analysed.
        last = start_id
        query = select(EVENTS.c.id, EVENTS.c.metrics, EVENTS.c.received_at).order_by(EVENTS.c.id).limit(1000)
        try:
            while not stop.is_set():
                began = time.time()
                with engine.connect() as conn:
                    rows = conn.execute(query.where(EVENTS.c.id > last)).all()
                poll_costs.append(time.time() - began)
                for row in rows:
                    last = row.id
                    sent = json.loads(row.metrics)["sent_at"]
                    visible.append(began - sent)
                    received.append(row.received_at.timestamp() - sent)
                stop.wait(ctx.poll_s)
        except BaseException as exc:  # reported by the caller
            poll_error.append(exc)

    poller = threading.Thread(target=poll, name="latency-poller", daemon=True)
    poller.start()
    publisher = Publisher(ctx.broker)
    tag = new_tag()
    try:
        began = time.perf_counter()
        for i in range(total):
            delay = began + i / rate - time.perf_counter()
            if delay > 0:
                time.sleep(delay)  # pacing the sender, not synchronisation
            device = ctx.devices[i % len(ctx.devices)]
            publisher.publish(*timed_usage(device, i // len(ctx.devices), tag))
        publisher.wait_all_acked()

        def all_seen() -> bool:
            check()
            if poll_error:
                raise RuntimeError(f"latency poller failed: {poll_error[0]!r}")
            return len(visible) >= total

        wait_until(all_seen, timeout=30, interval=0.05, what="steady-rate rows to become visible")
    finally:
        publisher.close()
        stop.set()
        poller.join(timeout=10)
    return {
        "sent": total,
        "seen": len(visible),
        "p50_ms": _pct(visible, 50),
        "p99_ms": _pct(visible, 99),
        "max_ms": max(visible) * 1000 if visible else None,
        "receive_p50_ms": _pct(received, 50),
        "receive_p99_ms": _pct(received, 99),
        "poll_query_ms": statistics.mean(poll_costs) * 1000 if poll_costs else None,
    }


def _max_id(engine: Engine) -> int:
    from sqlalchemy import func

    with engine.connect() as conn:
        return int(conn.execute(select(func.coalesce(func.max(EVENTS.c.id), 0))).scalar_one())


def _pct(values: list[float], pct: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(pct / 100 * len(ordered)) - 1))
    return ordered[index] * 1000
