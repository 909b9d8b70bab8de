"""`python -m bench.reliability`: the command line (parse_args, main); the documentation is the package's.

Only reads the options, runs the plan scenario by scenario and hands each result to the report.
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from bench import reliability
from bench.common import (
    PG_ADMIN_URL,
    backend_versions,
    code_version,
    install_sigterm_as_interrupt,
    load_average,
    machine,
)
from bench.reliability.report import COLUMNS, RESULTS_DIR, print_row, print_table, write_results
from bench.reliability.result import Result
from bench.reliability.runner import run_scenario
from bench.reliability.scenarios import APPLIES, BACKENDS, SCENARIOS


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.reliability",  # not __main__.py, which argparse would take from argv[0]
        description=reliability.__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--messages", type=int, default=100_000, help="flood size per scenario (default 100000)")
    parser.add_argument("--devices", type=int, default=200, help="devices publishing (default 200)")
    parser.add_argument(
        "--scenarios", default="all", help=f"comma-separated names or numbers 1-4 of {', '.join(SCENARIOS)}"
    )
    parser.add_argument("--backends", default="sqlite,postgresql", help="comma-separated subset of sqlite,postgresql")
    parser.add_argument("--seed", type=int, default=1, help="seed for the moments and durations of the faults")
    parser.add_argument("--json", type=Path, default=None, help="write results here (default bench/results/)")
    parser.add_argument("--pg-url", default=PG_ADMIN_URL, help="admin URL; a fresh database per scenario")
    parser.add_argument("--lock-seconds", type=float, default=10.0, help="how long SQLite stays write-locked")
    parser.add_argument("--pg-stop-mode", choices=("smart", "fast", "immediate"), default="fast")
    parser.add_argument(
        "--stall-timeout", type=float, default=120.0, help="give up when nothing moved for this long (seconds)"
    )
    args = parser.parse_args(argv)
    chosen: list[str] = []
    for item in (s.strip() for s in args.scenarios.split(",") if s.strip()):
        if item == "all":
            chosen += SCENARIOS
        elif item.isdigit() and 1 <= int(item) <= len(SCENARIOS):
            chosen.append(SCENARIOS[int(item) - 1])
        elif item in SCENARIOS:
            chosen.append(item)
        else:
            parser.error(f"unknown scenario {item!r}; choose from 1-4 or {', '.join(SCENARIOS)}")
    args.scenarios = [s for s in SCENARIOS if s in chosen]
    backends = [b.strip() for b in args.backends.split(",") if b.strip()]
    if set(backends) - set(BACKENDS):
        parser.error(f"unknown backends {sorted(set(backends) - set(BACKENDS))}; choose from {BACKENDS}")
    args.backends = [b for b in BACKENDS if b in backends]
    if args.messages < args.devices * 2 or args.devices < 1:
        parser.error("--messages must be at least twice --devices")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    install_sigterm_as_interrupt()
    signal.signal(signal.SIGINT, signal.default_int_handler)  # even when started in the background
    plan = [(b, s) for s in args.scenarios for b in args.backends if b in APPLIES[s]]
    uses_pg = any(b == "postgresql" for b, _ in plan)
    info = {**machine(), **backend_versions(args.pg_url if uses_pg else None), "commit": code_version()}
    print("machine:", ", ".join(f"{k} {v}" for k, v in info.items()))
    print(
        f"run: {args.messages:,} QoS 1 messages from {args.devices} devices per scenario, seed {args.seed}; "
        f"{', '.join(f'{s} on {b}' for b, s in plan)}; 1-minute load average {load_average():.2f}",
        flush=True,
    )
    print(" | ".join(COLUMNS))
    results: list[Result] = []
    began = time.monotonic()
    try:
        with tempfile.TemporaryDirectory(prefix="clinic-reliability-") as tmp:
            for backend, scenario in plan:
                res = run_scenario(args, backend, scenario, Path(tmp))
                results.append(res)
                print_row(res)
    except KeyboardInterrupt:
        print("\ninterrupted: child processes stopped, temporary databases dropped", file=sys.stderr)
        return 130
    total_s = time.monotonic() - began
    print_table(results)
    failed = [f"{r.scenario} on {r.backend}" for r in results if not r.ok]
    print(f"\ntotal wall time {total_s:.0f}s; 1-minute load average now {load_average():.2f}")
    print("FAILED: " + ", ".join(failed) if failed else "every PUBACKed message stored exactly once in every scenario")
    path = args.json or RESULTS_DIR / f"reliability-{datetime.now(UTC):%Y%m%dT%H%M%SZ}.json"
    write_results(path, args, argv, info, total_s, results)
    print(f"results written to {path}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
