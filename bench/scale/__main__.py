"""`python -m bench.scale`: the command line, and the run over each backend.

The benchmark's description (also the --help text) is the package's docstring, in bench/scale/__init__.py.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from contextlib import ExitStack
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import bench.scale
from bench.common import PG_ADMIN_URL, install_sigterm_as_interrupt, machine
from bench.scale.explain import explain, profile
from bench.scale.queries import run_queries
from bench.scale.report import report
from bench.scale.runs import write_results
from bench.scale.sizes import PATIENTS_PER_SITE, TODAY_SHARE, Size, sizes
from bench.scale.stores import Store, create_store
from bench.scale.versions import code_version, versions


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    # prog: argparse would name this file (__main__.py) in the usage line; the module is what one runs
    parser = argparse.ArgumentParser(
        prog="python -m bench.scale",
        description=bench.scale.__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--scale", type=float, default=1.0, help="size of the full store (1 = 20 sites; 0.1 quick)")
    parser.add_argument("--ratio", type=int, default=10, help="the small store is this many times smaller")
    parser.add_argument("--backends", default="sqlite,postgresql", help="comma-separated: sqlite, postgresql")
    parser.add_argument("--calls", type=int, default=200, help="timed calls per query and store (chart: a quarter)")
    parser.add_argument("--warmup", type=int, default=20, help="untimed calls first")
    parser.add_argument("--timezone", default="America/New_York", help="the clinics' zone (what 'today' is)")
    parser.add_argument("--seed", type=int, default=20261123)
    parser.add_argument("--pg-url", default=PG_ADMIN_URL, help="admin URL; a temporary database is made per store")
    parser.add_argument("--explain", action="store_true", help="print the plan of every statement (full store)")
    parser.add_argument("--profile", type=int, default=0, metavar="N", help="pyinstrument N calls per query (full)")
    parser.add_argument("--json", type=Path, default=None, help="write results here (default bench/results/)")
    args = parser.parse_args(argv)
    args.backends = [b.strip() for b in args.backends.split(",") if b.strip()]
    unknown = set(args.backends) - {"sqlite", "postgresql"}
    if unknown:
        parser.error(f"unknown backends {sorted(unknown)}")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    install_sigterm_as_interrupt()
    small, full = sizes(args.scale, args.ratio)
    info = {**machine(), **versions(args.pg_url if "postgresql" in args.backends else None), "commit": code_version()}
    print("machine:", ", ".join(f"{k} {v}" for k, v in info.items()))
    print(f"stores: full = {full.describe()}; small = {small.describe()}")
    need = args.warmup + args.calls + 3 + args.profile
    pool = round(PATIENTS_PER_SITE * TODAY_SHARE) * small.sites
    if need > pool:
        print(f"--warmup + --calls (+ spares) need {need} patients booked today; the small store has {pool}")
        return 2
    now = datetime.now(UTC).replace(microsecond=0)
    results: dict[str, Any] = {}
    began = time.monotonic()
    try:
        with ExitStack() as stack:
            tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="clinic-scale-")))
            for backend in args.backends:
                results[backend] = run_backend(backend, small, full, args, tmp, now)
    except KeyboardInterrupt:
        print("\ninterrupted: temporary databases dropped, files removed", file=sys.stderr)
        return 130
    print(f"\ntotal wall time {time.monotonic() - began:.0f}s")
    write_results(args, name="scale", info=info, results=results)
    return 0


def run_backend(
    backend: str, small: Size, full: Size, args: argparse.Namespace, tmp: Path, now: datetime
) -> dict[str, Any]:
    """One backend: its two stores generated, timed and reported (plans and profiles if asked), then removed."""
    with ExitStack() as per_backend:
        stores = [create_store(backend, size, args, per_backend, tmp, now) for size in (small, full)]
        load_avg = os.getloadavg()[0]
        print(f"  {backend}: timing (1-minute load average {load_avg:.2f})", file=sys.stderr, flush=True)
        timings = run_queries(stores, args)
        figures = report(backend, stores, timings)
        extra = _plans_and_profiles(backend, stores[1], args)
        result = {
            "queries": figures,
            "load_average_before": load_avg,
            "stores": {
                s.chain.size.label: {
                    "size": s.chain.size.describe(),
                    "rows": s.chain.rows,
                    "generate_s": s.gen_s,
                    "write_s": s.load_s,
                    "bytes": s.bytes,
                }
                for s in stores
            },
            **extra,
        }
        for s in stores:
            s.engine.dispose()
    return result


def _plans_and_profiles(backend: str, store: Store, args: argparse.Namespace) -> dict[str, Any]:
    extra: dict[str, Any] = {}
    if args.explain:
        extra["plans"] = explain(store, args)
        for key, lines in extra["plans"].items():
            print(f"\n-- plans, {backend} full: {key}")
            print("\n".join(lines))
    if args.profile:
        extra["profiles"] = profile(store, args.profile)
        for key, textual in extra["profiles"].items():
            print(f"\n-- pyinstrument, {backend} full, {args.profile} calls: {key}")
            print(textual)
    return extra


if __name__ == "__main__":
    sys.exit(main())
