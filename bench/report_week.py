"""`clinic report week` on a store of 5 million events, SQLite and PostgreSQL (docs/benchmarks.md).

    python -m bench.report_week                         # full: 20 sites, 1,000 stations, 5,000,000 usage events
    python -m bench.report_week --scale 0.1 --runs 1    # quick: 2 sites, 500,000 events

The store is bench/scale's generated chain (`bench.scale.stores.create_store`: 50 stations per site, about 5,000
usage events per station over the last 30 days, cleanings, faults, offline stations, 5,000 patients per site with
past and future appointments), bulk-loaded into a schema from `init_db`. On it, `clinic report week` runs as a
person runs it, in a new process, for the last full week and one site (the report is per site), writing the CSV
files and the PDF: wall time of `--runs` runs (median and each), then the report built in process once more with
each part timed (the event replay, the cleaning records, the rest, the CSV files, the PDF) to show where the time
goes. Target: under 10 s per backend. Everything is removed at the end, also on Ctrl-C or SIGTERM.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from contextlib import ExitStack
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from bench.scale.runs import run_scale_bench, scale_options
from bench.scale.sizes import Size
from bench.scale.stores import create_store
from shared.equipment.ingest_rows import EVENTS
from shared.store.db import read_session

TARGET_S = 10.0
REPORT_PATHS = ("shared/reports", "shared/equipment/cleaning_records.py", "shared/equipment/maintenance.py",
                "clinic/report_cli.py")  # fmt: skip


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.report_week", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)  # fmt: skip
    scale_options(parser)
    parser.add_argument("--runs", type=int, default=3, help="timed runs of the command per backend")
    parser.add_argument("--site", default="site-01", help="the site reported on")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    return run_scale_bench(args, name="report-week", code_paths=REPORT_PATHS, about="",
                           run_backend=run_backend)  # fmt: skip


def run_backend(
    backend: str, size: Size, args: argparse.Namespace, stack: ExitStack, tmp: Path, now: datetime
) -> dict[str, Any]:
    """Generate the store, then time the command and the report's parts."""
    from shared.reports.weeks import last_full_week

    began = time.perf_counter()
    store = create_store(backend, size, args, stack, tmp, now)
    generated = time.perf_counter() - began
    with store.engine.connect() as conn:
        events = int(conn.execute(select(func.count()).select_from(EVENTS)).scalar_one())
        week = last_full_week(now, ZoneInfo(args.timezone))
        of_week = (EVENTS.c.site == args.site) & (EVENTS.c.event_at >= week.start) & (EVENTS.c.event_at < week.end)
        in_week = int(conn.execute(select(func.count()).select_from(EVENTS).where(of_week)).scalar_one())
    print(f"  {backend}: {events:,} events stored (generated and loaded in {generated:.0f} s); week {week.label} "
          f"at {args.site}: {in_week:,} events", flush=True)  # fmt: skip
    env = {**os.environ, "CLINIC_DATABASE_URL": store.url, "CLINIC_TIMEZONE": args.timezone,
           "CLINIC_DATA_DIR": str(tmp / f"data-{backend}"), "CLINIC_SITE": args.site}  # fmt: skip
    clinic = str(Path(sys.executable).parent / "clinic")  # the console script, as a person runs it
    command = [clinic, "report", "week", "--week", week.label, "--site", args.site,
               "--csv", str(tmp / f"csv-{backend}"), "--pdf", str(tmp / f"report-{backend}.pdf")]  # fmt: skip
    load = os.getloadavg()[0]
    walls = []
    for _ in range(args.runs):
        t0 = time.perf_counter()
        done = subprocess.run(command, env=env, capture_output=True, text=True)
        walls.append(time.perf_counter() - t0)
        if done.returncode != 0:
            raise SystemExit(f"clinic report week failed:\n{done.stdout}\n{done.stderr}")
    parts = _parts(store.engine, args.site, week)
    median = statistics.median(walls)
    verdict = "met" if median < TARGET_S else "MISSED"
    print(f"  {backend}: clinic report week {median:.2f} s median of {args.runs} "
          f"({', '.join(f'{w:.2f}' for w in walls)}; load {load:.2f}); target < {TARGET_S:g} s: {verdict}")  # fmt: skip
    print("  " + backend + ": in process: " + ", ".join(f"{k} {v:.2f} s" for k, v in parts.items()), flush=True)
    store.engine.dispose()
    return {"events": events, "week": week.label, "site": args.site, "events_in_site_week": in_week,
            "generate_s": generated, "command_s": walls, "median_s": median, "load_average_before": load,
            "parts_s": parts, "target_met": median < TARGET_S}  # fmt: skip


def _parts(engine: Any, site: str, week: Any) -> dict[str, float]:
    """The report built in this process once, each part timed."""
    from shared.equipment.cleaning_records import cleaning_per_use
    from shared.reports.csv_files import csv_zip
    from shared.reports.pdf import pdf_bytes
    from shared.reports.week_report import build_week_report

    parts: dict[str, float] = {}
    with read_session(engine) as session:
        t0 = time.perf_counter()
        uses = cleaning_per_use(session=session, start=week.start, end=week.end, site=site)
        parts[f"cleaning records ({len(uses):,} uses)"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        report = build_week_report(session=session, site=site, week=week)
        parts["whole report (cleaning records again included)"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    csv_zip(report)
    parts["CSV"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    pdf_bytes(report)
    parts["PDF"] = time.perf_counter() - t0
    return parts


if __name__ == "__main__":
    sys.exit(main())
