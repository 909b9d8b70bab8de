"""`python -m bench.ingest`: the command line and the order of the runs (pre-load, interleaved rounds, `clinic
listen`). The benchmark's documentation, which --help prints, is the package docstring in __init__.py."""

from __future__ import annotations

import argparse
import logging
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path

import bench.ingest
from bench.common import (
    ID_STYLES,
    PG_ADMIN_URL,
    backend_versions,
    code_version,
    device_ids,
    install_sigterm_as_interrupt,
    machine,
    start_broker,
)
from bench.ingest.growth import LONG_ROWS, GrowthRound, run_growth
from bench.ingest.limit import limit_problems, run_limit
from bench.ingest.listeners import project_problems, run_naive, run_project
from bench.ingest.report import print_growth, print_report, print_services, summarise, write_results
from bench.ingest.service import ServiceRun, run_service
from bench.ingest.stores import preload
from bench.ingest.trial import Context, Trial

DESIGNS = ("limit", "naive-sqlite", "naive-plain-sqlite", "project-sqlite", "naive-postgresql", "project-postgresql")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.ingest",
        description=bench.ingest.__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--messages", type=int, default=100_000, help="backlog per run (default 100000)")
    parser.add_argument("--devices", type=int, default=200, help="simulated devices (default 200)")
    parser.add_argument(
        "--ids", choices=ID_STYLES, default="uuid", help="event ids of every backlog: UUIDs (default) or tag-device-n"
    )
    parser.add_argument(
        "--growth",
        type=_count,
        default=None,
        metavar="ROWS",
        help="store-growth mode: --messages backlogs into one store per backend, each round beside the limit, "
        "until it holds ROWS rows (e.g. 1000000)",
    )
    parser.add_argument("--long", action="store_true", help=f"--growth {LONG_ROWS}")
    parser.add_argument("--repeat", type=int, default=3, help="runs per design; the median is reported")
    parser.add_argument("--naive-messages", type=int, default=5_000, help="backlog for the naive peer")
    parser.add_argument("--designs", default=",".join(DESIGNS), help=f"comma-separated subset of {DESIGNS}")
    parser.add_argument("--latency-rate", type=float, default=100.0, help="steady msgs/s for the latency run")
    parser.add_argument("--latency-seconds", type=float, default=20.0, help="length of the latency run")
    parser.add_argument("--service-backlog", type=int, default=None, help="backlog for `clinic listen` (--messages)")
    parser.add_argument("--no-service", action="store_true", help="skip the `clinic listen` latency/RSS runs")
    parser.add_argument("--no-postgres", action="store_true", help="SQLite only")
    parser.add_argument("--pg-url", default=PG_ADMIN_URL, help="admin URL; a fresh database is created per run")
    parser.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="a listener setting for the project designs, e.g. --set ingest_batch_max=1000 (repeatable)",
    )
    parser.add_argument("--stored", default="0", help="events already stored, comma-separated (e.g. 0,1000000)")
    parser.add_argument("--keep-stores", type=Path, default=None, help="keep and reuse pre-loaded stores (SQLite "
                        "files in this folder, PostgreSQL databases clinic_bench_preload_N)")  # fmt: skip
    parser.add_argument("--poll-ms", type=float, default=5.0, help="poll interval for completion and visibility")
    parser.add_argument("--json", type=Path, default=None, help="write results here (default bench/results/)")
    args = parser.parse_args(argv)
    if args.long and args.growth is not None:
        parser.error("--long means --growth 5000000: give one of them")
    if args.long:
        args.growth = LONG_ROWS
    if args.messages < 1 or (args.growth is not None and args.growth < 1):
        parser.error("--messages and --growth take a positive count")
    designs = [d.strip() for d in args.designs.split(",") if d.strip()]
    unknown = set(designs) - set(DESIGNS)
    if unknown:
        parser.error(f"unknown designs {sorted(unknown)}; choose from {DESIGNS}")
    if args.no_postgres:
        designs = [d for d in designs if not d.endswith("postgresql")]
    args.designs = [d for d in DESIGNS if d in designs]
    args.stored = sorted({int(n.replace("_", "")) for n in args.stored.split(",") if n.strip()})
    if args.growth is not None and any(args.stored):
        parser.error("--growth fills its own stores; it does not take --stored")
    try:
        args.overrides = dict(item.split("=", 1) for item in args.set)
    except ValueError:
        parser.error("--set takes NAME=VALUE")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    install_sigterm_as_interrupt()
    backends = ["sqlite"] + ([] if args.no_postgres else ["postgresql"])
    info = {**machine(), **backend_versions(None if args.no_postgres else args.pg_url), "commit": code_version()}
    print("machine:", ", ".join(f"{k} {v}" for k, v in info.items()))
    settings = f", listener settings {args.overrides}" if args.overrides else ""
    if args.growth is not None:
        rounds = -(-args.growth // args.messages)
        print(
            f"run: store growth, backlogs of {args.messages:,} messages from {args.devices} devices, event ids "
            f"{args.ids}, into one store per backend ({', '.join(backends)}) until it holds >= {args.growth:,} rows "
            f"({rounds} rounds), each listener's drain between two of the limit's{settings}"
        )
    else:
        print(
            f"run: {args.messages:,} messages from {args.devices} devices (naive peer: {args.naive_messages:,}), "
            f"event ids {args.ids}, repeat {args.repeat}, designs {', '.join(args.designs)}{settings}"
        )
    trials: list[Trial] = []
    services: list[ServiceRun] = []
    growth: list[GrowthRound] | None = None
    began = time.monotonic()
    try:
        with ExitStack() as stack:
            tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="clinic-bench-")))
            broker = start_broker(tmp / "data", stack)
            ctx = Context(
                broker, tmp, device_ids(args.devices), args.pg_url, args.poll_ms / 1000, args.overrides, ids=args.ids
            )
            print(f"broker: mosquitto pid {broker.process.pid} on 127.0.0.1:{broker.port} ({broker.settings.data_dir})")
            for events in (n for n in args.stored if n):
                for backend in backends:
                    if f"project-{backend}" in args.designs:
                        ctx.preloaded[(backend, events)] = preload(ctx, stack, backend, events, args.keep_stores)
            if args.growth is not None:
                growth = run_growth(ctx, stack, backends, args.messages, args.growth)
            else:
                trials = run_rounds(ctx, args)
            if not args.no_service:
                services = run_services(ctx, args, backends)
    except KeyboardInterrupt:
        print("\ninterrupted: child processes stopped, temporary databases dropped", file=sys.stderr)
        return 130
    if growth is not None:
        growth_stats = print_growth(growth, args.ids)
        print_services(services)
        print(f"\ntotal wall time {time.monotonic() - began:.0f}s")
        write_results(args, info, {}, {}, [], services, growth, growth_stats)
        return 1 if any(g.problems for g in growth) else 0
    summary = summarise(trials)
    ratios = print_report(summary, services, args.repeat)
    print(f"\ntotal wall time {time.monotonic() - began:.0f}s")
    write_results(args, info, summary, ratios, trials, services)
    return 0


def _count(text: str) -> int:
    """A row count as typed: 1000000, 1_000_000 or 1,000,000."""
    return int(text.replace("_", "").replace(",", ""))


def run_rounds(ctx: Context, args: argparse.Namespace) -> list[Trial]:
    """Every design on every store size, once per repeat (interleaved, so drift on the machine hits all alike)."""
    trials: list[Trial] = []
    for r in range(1, args.repeat + 1):
        for stored, design in ((n, d) for n in args.stored for d in args.designs):
            if stored and design.startswith("naive"):
                continue  # the naive peers only show the scale of the gap, on an empty store
            ctx.stored = stored
            trial = run_design(ctx, design, args)
            trial.design += f"@{stored}" if stored else ""
            trials.append(trial)
            extra = f" {trial.extra}" if trial.extra else ""
            print(
                f"  [{r}/{args.repeat}] {trial.design:<27} {trial.messages:>7,} msgs: published in "
                f"{trial.publish_s:5.1f}s, drained in {trial.drain_s:6.2f}s = {trial.rate:8,.0f} msgs/s{extra}",
                flush=True,
            )
            problems = limit_problems(trial) if design == "limit" else []
            problems += project_problems(trial) if design.startswith("project") else []
            if problems:
                print(f"  CHECK FAILED, this run's rate is not its own backlog's: {'; '.join(problems)}", flush=True)
    return trials


def run_services(ctx: Context, args: argparse.Namespace, backends: list[str]) -> list[ServiceRun]:
    """`clinic listen` as a process on each backend, on a fresh store."""
    services: list[ServiceRun] = []
    backlog = args.messages if args.service_backlog is None else args.service_backlog
    ctx.stored = 0
    for backend in backends:
        print(
            f"  `clinic listen` on {backend}: backlog {backlog:,}, then {args.latency_rate:g} msg/s "
            f"for {args.latency_seconds:g}s",
            flush=True,
        )
        services.append(run_service(ctx, backend, backlog, args.latency_rate, args.latency_seconds))
    return services


def run_design(ctx: Context, design: str, args: argparse.Namespace) -> Trial:
    if design == "limit":
        return run_limit(ctx, args.messages)
    if design.startswith("naive"):
        return run_naive(ctx, design, args.naive_messages)
    return run_project(ctx, design.rsplit("-", 1)[1], args.messages)


if __name__ == "__main__":
    sys.exit(main())
