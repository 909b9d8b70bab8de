"""The timed queries (through the project's own services) and the runner that interleaves them over the stores."""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import event

from bench.scale.stores import Store
from shared.equipment.board import board
from shared.equipment.stations import list_stations
from shared.equipment.usage import usage_stats
from shared.store.db import read_session
from tests.lobby_steps import check_in


@dataclass(frozen=True)
class Query:
    key: str
    label: str
    call: Callable[[Store, int], Any]
    calls_share: float = 1.0  # fewer calls for the slow chart query


def _board_site(store: Store, _i: int) -> Any:
    with read_session(store.engine) as session:
        return list_stations(session=session, tz=store.chain.tz, site=store.chain.sites[0])


def _board_all(store: Store, _i: int) -> Any:
    with read_session(store.engine) as session:
        return list_stations(session=session, tz=store.chain.tz)


def _board_fn(store: Store, _i: int) -> Any:
    with read_session(store.engine) as session:
        return board(session=session, tz=store.chain.tz, site=store.chain.sites[0])


def _checkin(store: Store, i: int) -> Any:
    case = store.chain.cases[i]
    return check_in(
        engine=store.engine, settings=store.settings[case.site], scan=case.token, now=case.at, kiosk="bench"
    )


def _chart(store: Store, _i: int) -> Any:
    with read_session(store.engine) as session:
        return usage_stats(session=session, site=store.chain.sites[0], days=7, tz=store.chain.tz, now=store.chain.now)


QUERIES = (
    Query("board_site", "board, one site: list_stations(site=)", _board_site),
    Query("board_all", "board, all sites: list_stations()", _board_all),
    Query("board_fn", "board() one site (alerts + sort)", _board_fn),
    Query("checkin_first", "check-in, first scan (new patient)", _checkin),
    Query("checkin_repeat", "check-in, repeat scan (same cards)", _checkin),
    Query("chart", "usage chart, one site, 7 days", _chart, 0.25),
)


@dataclass
class Timing:
    samples: dict[str, list[float]] = field(default_factory=dict)  # store label -> seconds per call
    cpu: dict[str, list[float]] = field(default_factory=dict)  # store label -> this thread's CPU seconds per call
    statements: dict[str, int] = field(default_factory=dict)  # store label -> SQL statements per call
    results: dict[str, dict[str, int]] = field(default_factory=dict)  # check-in results seen


def run_queries(stores: list[Store], args: argparse.Namespace) -> dict[str, Timing]:
    """Every query, interleaved over the stores (the order flips each round); returns samples per store."""
    out: dict[str, Timing] = {}
    for q in QUERIES:
        calls = max(10, int(args.calls * q.calls_share))
        warmup = max(2, int(args.warmup * q.calls_share))
        timing = Timing()
        # check-ins: one case per call; the first scans use cases [0, warmup + calls), repeats the same again
        for store in stores:
            timing.statements[store.chain.size.label] = _count_statements(store, q)
        for i in range(warmup):
            for store in stores:
                _note(timing, store, q, q.call(store, i))
        for i in range(calls):
            order = stores if i % 2 == 0 else stores[::-1]
            for store in order:
                index = warmup + i
                cpu, began = time.thread_time(), time.perf_counter()
                result = q.call(store, index)
                elapsed, cpu = time.perf_counter() - began, time.thread_time() - cpu
                timing.samples.setdefault(store.chain.size.label, []).append(elapsed)
                timing.cpu.setdefault(store.chain.size.label, []).append(cpu)
                _note(timing, store, q, result)
        out[q.key] = timing
        meds = ", ".join(f"{k} {statistics.median(v) * 1000:.1f} ms" for k, v in timing.samples.items())
        print(f"    {q.label:<40} {calls} calls: {meds}", file=sys.stderr, flush=True)
    return out


def _note(timing: Timing, store: Store, q: Query, result: Any) -> None:
    if q.key.startswith("checkin"):
        label = store.chain.size.label
        key = result.result
        if key.endswith("checked_in"):
            key += f", {len(result.plan)} plan lines"
        timing.results.setdefault(label, {})
        timing.results[label][key] = timing.results[label].get(key, 0) + 1


def _count_statements(store: Store, q: Query) -> int:
    """SQL statements one call issues (traced on a spare case for the first check-in)."""
    seen: list[str] = []

    def listener(_conn: Any, _cursor: Any, statement: str, *_a: Any) -> None:
        if not statement.lstrip().upper().startswith("BEGIN"):  # SQLite's explicit BEGIN (shared.store.db)
            seen.append(statement)

    index = len(store.chain.cases) - 1 if q.key == "checkin_first" else 0
    if q.key == "checkin_repeat":
        index = len(store.chain.cases) - 1
    event.listen(store.engine, "before_cursor_execute", listener)
    try:
        q.call(store, index)
    finally:
        event.remove(store.engine, "before_cursor_execute", listener)
    return len(seen)
