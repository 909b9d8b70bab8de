"""Looking inside the queries on the full store: the plan of every statement (--explain), profiles (--profile)."""

from __future__ import annotations

import argparse
from typing import Any

from sqlalchemy import event

from bench.scale.queries import QUERIES
from bench.scale.stores import Store


def explain(store: Store, args: argparse.Namespace) -> dict[str, list[str]]:
    """The plan of every statement each query issues, on this store (SELECTs on PostgreSQL: EXPLAIN ANALYZE)."""
    plans: dict[str, list[str]] = {}
    spare = len(store.chain.cases) - 2
    for q in QUERIES:
        if q.key == "checkin_repeat":
            continue
        seen: list[tuple[str, Any]] = []

        def listener(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_a: Any) -> None:
            if not statement.lstrip().upper().startswith("BEGIN"):
                seen.append((statement, parameters))  # noqa: B023 (called within this iteration only)

        event.listen(store.engine, "before_cursor_execute", listener)
        try:
            q.call(store, spare)
        finally:
            event.remove(store.engine, "before_cursor_execute", listener)
        lines: list[str] = []
        with store.engine.connect() as conn:
            for statement, parameters in seen:
                lines.append("SQL: " + " ".join(statement.split())[:400])
                if store.backend == "sqlite":
                    rows = conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", parameters).all()
                    lines.extend(f"    {r[-1]}" for r in rows)
                else:
                    analyse = "(ANALYZE, BUFFERS) " if statement.lstrip().upper().startswith("SELECT") else ""
                    rows = conn.exec_driver_sql(f"EXPLAIN {analyse}{statement}", parameters).all()
                    lines.extend(f"    {r[0]}" for r in rows)
            conn.rollback()
        plans[q.key] = lines
    return plans


def profile(store: Store, calls: int) -> dict[str, str]:
    """pyinstrument text profiles of each query on this store (check-ins on spare cases)."""
    from pyinstrument import Profiler

    out: dict[str, str] = {}
    base = len(store.chain.cases) - 3 - calls
    for q in QUERIES:
        if q.key == "checkin_repeat":
            continue
        profiler = Profiler(interval=0.0005)
        profiler.start()
        for i in range(calls):
            q.call(store, base + i)
        profiler.stop()
        out[q.key] = profiler.output_text(unicode=False, color=False, show_all=False)
    return out
