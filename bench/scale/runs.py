"""The frame of a benchmark over the chain-scale store (bench/records.py, bench/report_week.py): its common
options, the store built on each backend in turn, and the results written as JSON beside the others."""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from collections.abc import Callable
from contextlib import ExitStack
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.common import PG_ADMIN_URL, install_sigterm_as_interrupt, machine
from bench.common.machine_facts import code_version
from bench.scale.sizes import FULL_SITES, Size

RESULTS_DIR = Path(__file__).resolve().parent.parent / "results"
RunBackend = Callable[[str, Size, argparse.Namespace, ExitStack, Path, datetime], dict[str, Any]]


def scale_options(parser: argparse.ArgumentParser) -> None:
    """The options every scale benchmark takes (add its own after these)."""
    parser.add_argument("--scale", type=float, default=1.0, help="1 = 20 sites, 5,000,000 events; 0.1 quick")
    parser.add_argument("--backends", default="sqlite,postgresql", help="comma-separated: sqlite, postgresql")
    parser.add_argument("--timezone", default="America/New_York", help="the clinics' zone (CLINIC_TIMEZONE)")
    parser.add_argument("--seed", type=int, default=20261123)
    parser.add_argument("--pg-url", default=PG_ADMIN_URL, help="admin URL; a temporary database is made per store")
    parser.add_argument("--json", type=Path, default=None, help="write results here (default bench/results/)")


def run_scale_bench(args: argparse.Namespace, *, name: str, code_paths: tuple[str, ...], about: str,
                    run_backend: RunBackend) -> int:  # fmt: skip
    """Build the store on each backend in turn, run `run_backend` on it, and write every figure to
    bench/results/<name>-<time>.json; Ctrl-C (or SIGTERM) drops the temporary databases and files."""
    args.backends = [b.strip() for b in args.backends.split(",") if b.strip()]
    install_sigterm_as_interrupt()
    size = Size("full", max(1, round(FULL_SITES * args.scale)))
    info = {**machine(), "commit": code_version(code_paths)}
    print("machine:", ", ".join(f"{k} {v}" for k, v in info.items()))
    print(f"store: {size.describe()}{about}")
    now = datetime.now(UTC).replace(microsecond=0)
    results: dict[str, Any] = {}
    try:
        with ExitStack() as stack:
            tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix=f"clinic-{name}-")))
            for backend in args.backends:
                with ExitStack() as per_backend:
                    results[backend] = run_backend(backend, size, args, per_backend, tmp, now)
    except KeyboardInterrupt:
        print("\ninterrupted: temporary databases dropped, files removed", file=sys.stderr)
        return 130
    write_results(args, name=name, info=info, results=results)
    return 0


def write_results(args: argparse.Namespace, *, name: str, info: dict[str, Any], results: dict[str, Any]) -> None:
    """Every figure, with the options and the machine, to `--json` or bench/results/<name>-<time>.json."""
    path = args.json or RESULTS_DIR / f"{name}-{datetime.now(UTC):%Y%m%dT%H%M%SZ}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    arguments = {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()}
    path.write_text(json.dumps({"args": arguments, "machine": info, "results": results}, indent=2, default=str))
    print(f"results written to {path}")
