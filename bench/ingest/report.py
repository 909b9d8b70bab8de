"""What the benchmark prints and writes: medians per design, ratios against the targets, the `clinic listen` runs
and the JSON results file, kept apart from the code that measures."""

from __future__ import annotations

import argparse
import json
import statistics
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.ingest.growth import GrowthRound, growth_summary
from bench.ingest.service import ServiceRun
from bench.ingest.trial import Trial

# project/limit: issue #23's bar for SQLite (0.7 its goal; issue #4 asked 0.5); PostgreSQL is held to the same.
TARGETS = {"project/limit": 0.6, "project/naive": 20.0, "flat": 0.9, "p99_s": 0.1, "rss_mb": 150.0}
RESULTS_DIR = Path(__file__).resolve().parent.parent / "results"


def summarise(trials: list[Trial]) -> dict[str, dict[str, Any]]:
    by_design: dict[str, list[Trial]] = {}
    for trial in trials:
        by_design.setdefault(trial.design, []).append(trial)
    return {
        design: {
            "messages": runs[0].messages,
            "median_rate": statistics.median(t.rate for t in runs),
            "rates": [round(t.rate) for t in runs],
            "publish_rate": statistics.median(t.messages / t.publish_s for t in runs),
            "cpu_us": _median([t.cpu_us for t in runs]),
            "broker_cpu_us": _median([t.broker_cpu_us for t in runs]),
            "load_before": [t.load_before for t in runs],
            "extra": runs[-1].extra,
        }
        for design, runs in by_design.items()
    }


def _median(values: list[float | None]) -> float | None:
    present = [v for v in values if v is not None]
    return statistics.median(present) if present else None


LABELS = {
    "limit": "limit: bare paho v5 subscriber, QoS 1, discard",
    "naive-sqlite": "naive: SQLModel session + commit per message, SQLite",
    "naive-plain-sqlite": "naive, plain create_engine (rollback journal), SQLite",
    "naive-postgresql": "naive: SQLModel session + commit per message, PostgreSQL",
    "project-sqlite": "project: telemetry.listener.Listener, SQLite",
    "project-postgresql": "project: telemetry.listener.Listener, PostgreSQL",
}


def print_report(summary: dict[str, dict[str, Any]], services: list[ServiceRun], repeat: int) -> dict[str, Any]:
    """The drain rates, the ratios against the targets and the `clinic listen` runs; returns the ratios."""
    _print_drains(summary, repeat)
    ratios = _print_ratios(summary)
    print_services(services)
    return ratios


def _print_drains(summary: dict[str, dict[str, Any]], repeat: int) -> None:
    print()
    print(f"Time to drain a queued backlog (msgs/s, median of {repeat}; each run listed)")
    print("CPU columns: CPU time per message of the consumer's thread and of Mosquitto (not slowed by other load)")
    print(f"{'design':<66} {'messages':>9} {'msgs/s':>8} {'cpu us':>7} {'broker':>7}  runs (msgs/s)")
    for design, row in summary.items():
        base, stored = _split(design)
        label = LABELS[base] + (f" +{stored / 1e6:g}M stored" if stored else "")
        runs = ", ".join(f"{r:,}" for r in row["rates"])
        print(
            f"{label:<66} {row['messages']:>9,} {row['median_rate']:>8,.0f} {_num(row['cpu_us']):>7} "
            f"{_num(row['broker_cpu_us']):>7}  [{runs}]"
        )
    naive_sizes = {summary[d]["messages"] for d in summary if d.startswith("naive")}
    if naive_sizes and "limit" in summary and naive_sizes != {summary["limit"]["messages"]}:
        print(f"  (the naive peer drained a smaller backlog of {', '.join(f'{s:,}' for s in naive_sizes)} messages)")
    for design, row in summary.items():
        if row["extra"]:
            print(f"  {design}: last run {row['extra']}")
    loads = [load for row in summary.values() for load in row["load_before"] if load is not None]
    if loads:
        print(f"  1-minute load average before the drains: {min(loads):.2f} to {max(loads):.2f} (2 = both cores busy)")


def _print_ratios(summary: dict[str, dict[str, Any]]) -> dict[str, float]:
    ratios: dict[str, float] = {}
    print()
    print(f"Ratios (target: project >= {TARGETS['project/limit']:g} x limit, >= {TARGETS['project/naive']:g} x naive; "
          f"with events stored >= {TARGETS['flat']:g} x the empty store)")
    sizes = sorted({_split(d)[1] for d in summary})
    for backend, stored in ((b, n) for n in sizes for b in ("sqlite", "postgresql")):
        at = f"@{stored}" if stored else ""
        project = summary.get(f"project-{backend}{at}")
        if project is None:
            continue
        if stored and f"project-{backend}" in summary:
            flat = project["median_rate"] / summary[f"project-{backend}"]["median_rate"]
            limit_flat = ""
            if f"limit{at}" in summary and "limit" in summary:
                ratio = project["median_rate"] / summary[f"limit{at}"]["median_rate"]
                empty = summary[f"project-{backend}"]["median_rate"] / summary["limit"]["median_rate"]
                ratios[f"flat {backend}{at} (x limit)"] = ratio / empty
                limit_flat = f"; as shares of the limit in the same rounds {ratio / empty:.2f}"
            ratios[f"flat {backend}{at}"] = flat
            verdict = "met" if flat >= TARGETS["flat"] else "MISSED"
            print(f"  {'stored/empty':<14} {backend + at:<19} {flat:7.2f}   target >= 0.9: {verdict}{limit_flat}")
        for other, key, target in (
            (f"limit{at}", "project/limit", TARGETS["project/limit"]),
            (f"naive-{backend}", "project/naive", TARGETS["project/naive"]),
        ):
            if other in summary:
                ratio = project["median_rate"] / summary[other]["median_rate"]
                ratios[f"{key} {backend}{at}"] = ratio
                verdict = "met" if ratio >= target else f"MISSED (needs {target / ratio:.2f}x more)"
                cpu_ratio = ""
                if project["cpu_us"] and summary[other]["cpu_us"]:
                    cpu = summary[other]["cpu_us"] / project["cpu_us"]
                    ratios[f"{key} {backend}{at} (cpu)"] = cpu
                    cpu_ratio = f"; on consumer CPU per message {cpu:.2f}"
                print(f"  {key:<14} {backend + at:<19} {ratio:7.2f}   target >= {target:g}: {verdict}{cpu_ratio}")
    return ratios


def print_services(services: list[ServiceRun]) -> None:
    if not services:
        return
    print()
    print("`clinic listen` as a process: backlog drain, then a steady rate (latency), peak RSS")
    for s in services:
        if s.error:
            print(f"  {s.backend}: FAILED: {s.error}")
            continue
        drain = f"{s.backlog / s.drain_s:,.0f} msgs/s" if s.drain_s else "-"
        print(f"  {s.backend}:")
        print(f"    backlog of {s.backlog:,} committed in {s.drain_s:.1f}s ({drain}, process start-up included)")
        print(
            f"    publish -> row visible: p50 {_ms(s.p50_ms)}, p99 {_ms(s.p99_ms)}, max {_ms(s.max_ms)} "
            f"({s.latency_seen}/{s.latency_sent} rows; poll query {_ms(s.poll_query_ms)} mean)"
        )
        received = f"p50 {_ms(s.receive_p50_ms)}, p99 {_ms(s.receive_p99_ms)}"
        print(f"    publish -> received_at (stamped by the listener): {received}")
        print(
            f"    peak RSS (VmHWM): listener {_mb(s.listener_rss_mb)} + its writer process {_mb(s.children_rss_mb)}, "
            f"broker {_mb(s.broker_rss_mb)}; "
            f"listener exit code {s.exit_code} after SIGTERM"
        )
        for name, value, target, unit in (
            ("p99", (s.p99_ms or 0) / 1000, TARGETS["p99_s"], "s"),
            ("peak RSS, listener and writer", (s.listener_rss_mb or 0) + (s.children_rss_mb or 0), TARGETS["rss_mb"],
             "MB"),
        ):
            verdict = "met" if value < target else "MISSED"
            print(f"    {name} {value:.3g} {unit} (target < {target:g} {unit}): {verdict}")


def print_growth(rounds: list[GrowthRound], ids: str) -> dict[str, dict[str, Any]]:
    """The store-growth table, round by round per backend, and its summary; returns the summary."""
    if not rounds:
        return {}
    print()
    print(
        f"Store growth: backlogs of {rounds[0].project.messages:,} messages (event ids {ids}) drained round after "
        "round into one store per backend, each beside the limit draining as many in the same round"
    )
    print("ratio = project msgs/s / limit msgs/s in that round (the mean of the limit's drains before and after the "
          "project's); vs round 1 = ratio / the backend's round-1 ratio")
    print("cpu us: CPU time per message of the consumer's thread (limit / project)")
    print(
        f"{'backend':<11} {'round':>5} {'stored before':>14} {'limit msgs/s':>13} {'project msgs/s':>15} "
        f"{'project/limit':>14} {'vs round 1':>11} {'cpu us':>11}  checks"
    )
    for g in sorted(rounds, key=lambda g: (g.backend != "sqlite", g.backend, g.round)):
        cpu = f"{_num(g.limit_cpu_us)}/{_num(g.project.cpu_us)}"
        checks = "FAILED: " + "; ".join(g.problems) if g.problems else "ok"
        print(
            f"{g.backend:<11} {g.round:>5} {g.stored_before:>14,} {g.limit_rate:>13,.0f} {g.project.rate:>15,.0f} "
            f"{g.ratio:>14.2f} {g.vs_first:>11.2f} {cpu:>11}  {checks}"
        )
    summary = growth_summary(rounds)
    print()
    for backend, row in summary.items():
        if not row["rounds"]:
            print(f"  {backend}: no round passed its checks")
            continue
        ratio_target, flat_target = TARGETS["project/limit"], TARGETS["flat"]
        ratio_ok = "met" if row["median_ratio"] >= ratio_target else "MISSED"
        flat_ok = "met" if row["min_vs_round_1"] >= flat_target else "MISSED"
        print(
            f"  {backend:<10} {row['rounds']} rounds to {row['rows']:,} rows: median project/limit "
            f"{row['median_ratio']:.2f} (target >= {ratio_target:g}: {ratio_ok}); lowest vs round 1 "
            f"{row['min_vs_round_1']:.2f} at round {row['min_vs_round_1_at']} (target >= {flat_target:g}: {flat_ok})"
            + ("; STOPPED at a round that failed its checks" if row["failed"] else "")
        )
    return summary


def _split(design: str) -> tuple[str, int]:
    """("project-sqlite", 1000000) from "project-sqlite@1000000"; stored 0 without a suffix."""
    base, _, stored = design.partition("@")
    return base, int(stored or 0)


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.0f} ms" if value >= 10 else f"{value:.1f} ms"


def _num(value: float | None) -> str:
    return "-" if value is None else f"{value:,.0f}"


def _mb(value: float | None) -> str:
    return "-" if value is None else f"{value:.0f} MB"


def write_results(
    args: argparse.Namespace,
    info: dict[str, str],
    summary: dict[str, dict[str, Any]],
    ratios: dict[str, Any],
    trials: list[Trial],
    services: list[ServiceRun],
    growth: list[GrowthRound] | None = None,
    growth_stats: dict[str, dict[str, Any]] | None = None,
) -> None:
    """Everything above as JSON: to --json, or a file named by the time in bench/results/."""
    path = args.json or RESULTS_DIR / f"ingest-{datetime.now(UTC):%Y%m%dT%H%M%SZ}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        json.dumps(
            {
                "args": {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()},
                "ids": args.ids,
                "machine": info,
                "summary": summary,
                "ratios": ratios,
                "trials": [{**asdict(t), "rate": t.rate, "cpu_us": t.cpu_us} for t in trials],
                "services": [asdict(s) for s in services],
                **(
                    {"growth": {"summary": growth_stats or {}, "rounds": [g.as_dict() for g in growth]}}
                    if growth is not None
                    else {}
                ),
            },
            indent=2,
        )
    )
    print(f"results written to {path}")
