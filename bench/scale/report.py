"""The printed table of each backend's stores and query figures, and the same figures for the JSON results."""

from __future__ import annotations

import statistics
from typing import Any

from bench.scale.queries import QUERIES, Timing
from bench.scale.stores import Store

TARGETS_MS = {"board_site": 50.0, "board_all": 20.0, "checkin_first": 30.0}  # board_all: issue #23 (was 50)


def summary(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, max(0, round(0.95 * len(ordered)) - 1))]
    return {
        "calls": len(samples),
        "median_ms": statistics.median(samples) * 1000,
        "p95_ms": p95 * 1000,
        "min_ms": ordered[0] * 1000,
        "mean_ms": statistics.fmean(samples) * 1000,
    }


def report(backend: str, stores: list[Store], timings: dict[str, Timing]) -> dict[str, Any]:
    print()
    print(f"== {backend} ==")
    _print_stores(stores)
    print()
    what = "wall median / p95 ms [CPU ms]"
    print(f"{'query':<38} {'stmts':>5}  {'small: ' + what:<40} {'full: ' + what:<39} {'full/small':>10}  target")
    out: dict[str, Any] = {}
    for q in QUERIES:
        t = timings[q.key]
        a, b = summary(t.samples["small"]), summary(t.samples["full"])
        cpu_a, cpu_b = statistics.median(t.cpu["small"]) * 1000, statistics.median(t.cpu["full"]) * 1000
        a["cpu_median_ms"], b["cpu_median_ms"] = cpu_a, cpu_b
        growth = b["median_ms"] / a["median_ms"]
        target = TARGETS_MS.get(q.key)
        verdict = _verdict(target, b)
        cells = [f"{x['median_ms']:8.1f} / {x['p95_ms']:<7.1f} [{x['cpu_median_ms']:6.1f}]" for x in (a, b)]
        print(f"{q.label:<38} {t.statements['full']:>5}  {cells[0]:<40} {cells[1]:<39} {growth:>10.2f}  {verdict}")
        out[q.key] = {
            "label": q.label,
            "small": a,
            "full": b,
            "growth": growth,
            "growth_cpu": cpu_b / cpu_a if cpu_a else None,
            "statements": t.statements,
            "target_ms": target,
            "met": None if target is None else b["median_ms"] < target,
            "results": t.results,
            "samples_ms": {k: [round(v * 1000, 3) for v in vs] for k, vs in t.samples.items()},
        }
    print(
        "  CPU: this thread's CPU time per call (SQLite works in-process, so all of it; PostgreSQL: client side only)"
    )
    for key in ("checkin_first", "checkin_repeat"):
        for label, seen in timings[key].results.items():
            print(f"  {key} results on {label}: " + ", ".join(f"{k} x{v}" for k, v in sorted(seen.items())))
    return out


def _print_stores(stores: list[Store]) -> None:
    print(f"{'store':<6} {'sites':>5} {'stations':>8} {'event rows':>11} {'patients':>8} {'appts':>8} "
          f"{'plan lines':>10} {'cards':>7} {'generated':>9} {'size':>9}")  # fmt: skip
    for s in stores:
        r = s.chain.rows
        size = f"{s.bytes / 2**20:,.0f} MiB" if s.bytes else "?"
        print(f"{s.chain.size.label:<6} {s.chain.size.sites:>5} {s.chain.size.stations:>8,} "
              f"{r.get('equipment_event', 0):>11,} {r.get('patient', 0):>8,} {r.get('appointment', 0):>8,} "
              f"{r.get('plan_item', 0):>10,} {r.get('qr_token', 0):>7,} {s.gen_s:>8.0f}s {size:>9}")  # fmt: skip


def _verdict(target: float | None, full: dict[str, float]) -> str:
    """Whether the full store's median met the query's target (if it has one)."""
    verdict = ""
    if target is not None:
        if full["median_ms"] < target:
            verdict = f"< {target:g} ms: met"
        else:
            verdict = f"< {target:g} ms: MISSED ({full['median_ms'] / target:.1f}x)"
            if full["cpu_median_ms"] < target:
                verdict += ", met on CPU time"
    return verdict
