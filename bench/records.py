"""The inspector's records on a store of 5 million events, SQLite and PostgreSQL (docs/records.md).

    python -m bench.records                          # full: 20 sites, 1,000 stations, 5,000,000 usage events
    python -m bench.records --scale 0.1 --runs 1     # quick: 2 sites, 500,000 events

On bench/scale's generated chain store (`bench.scale.stores.create_store`), times, in process:

- `cleaning_per_use` for the last full week at one site, and at every site (what `clinic report week` and an
  inspector's export read), with the number of uses judged;
- `maintenance_due` with three tasks per station (calendar and hours);
- appending `--records` records to the hash chain in batches of 100 (as the listener's batches do), then
  `verify_chain` over all of them (`clinic db verify`);
- `audit_log` for a week at one site, and its CSV.

Prints the median of `--runs` runs per figure and writes them to bench/results/records-<time>.json. Everything
is removed at the end, also on Ctrl-C or SIGTERM.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from contextlib import ExitStack
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from bench.scale.runs import run_scale_bench, scale_options
from bench.scale.sizes import Size
from bench.scale.stores import create_store
from shared.equipment.ingest_rows import EQUIPMENT, EVENTS
from shared.store.db import read_session, unit_of_work, write_transaction

CODE_PATHS = ("shared/equipment/cleaning_records.py", "shared/equipment/maintenance.py",
              "shared/equipment/record_chain.py", "shared/reports/audit_log.py")  # fmt: skip


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.records", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)  # fmt: skip
    scale_options(parser)
    parser.add_argument("--runs", type=int, default=3, help="timed runs of each figure")
    parser.add_argument("--records", type=int, default=100_000,
                        help="records appended to the chain, then verified")
    parser.add_argument("--site", default="site-01", help="the site of the one-site figures")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    return run_scale_bench(args, name="records", code_paths=CODE_PATHS, about=f"; {args.records:,} chain records",
                           run_backend=run_backend)  # fmt: skip


def timed(runs: int, work: Callable[[], Any]) -> tuple[float, Any]:
    """The median wall time of `runs` runs of `work`, and what its last run returned."""
    walls, result = [], None
    for _ in range(runs):
        began = time.perf_counter()
        result = work()
        walls.append(time.perf_counter() - began)
    return statistics.median(walls), result


def run_backend(
    backend: str, size: Size, args: argparse.Namespace, stack: ExitStack, tmp: Path, now: datetime
) -> dict[str, Any]:
    """Generate the store, then time each figure."""
    from shared.equipment.cleaning_records import cleaning_per_use, compliance_pct
    from shared.equipment.maintenance import add_task, maintenance_due
    from shared.equipment.record_chain import NewRecord, append, verify_chain
    from shared.reports.audit_log import audit_log, csv_text
    from shared.reports.weeks import last_full_week

    began = time.perf_counter()
    store = create_store(backend, size, args, stack, tmp, now)
    engine = store.engine
    with engine.connect() as conn:
        events = int(conn.execute(select(func.count()).select_from(EVENTS)).scalar_one())
        stations = [(str(s), str(e)) for s, e in conn.execute(select(EQUIPMENT.c.site, EQUIPMENT.c.id))]
    print(f"  {backend}: {events:,} events, {len(stations):,} stations (made in {time.perf_counter() - began:.0f} s)",
          flush=True)  # fmt: skip
    tz = ZoneInfo(args.timezone)
    week = last_full_week(now, tz)
    out: dict[str, Any] = {"events": events, "stations": len(stations), "week": week.label}

    def per_use(site: str | None) -> Any:
        with read_session(engine) as session:
            return cleaning_per_use(session=session, start=week.start, end=week.end, site=site)

    for label, site in ((f"site {args.site}", args.site), ("all sites", None)):
        seconds, rows = timed(args.runs, lambda site=site: per_use(site))  # type: ignore[misc]
        out[f"cleaning_per_use {label} s"], out[f"cleaning_per_use {label} uses"] = seconds, len(rows)
        print(f"  {backend}: cleaning_per_use, week {week.label}, {label}: {seconds:.2f} s for {len(rows):,} uses "
              f"(compliance {compliance_pct(rows) or 0:.1f}%)", flush=True)  # fmt: skip

    with unit_of_work(engine) as session:
        for site, eid in stations:
            add_task(session=session, site=site, equipment_id=eid, task="Calibration", every_days=365, by="bench",
                     now=now - timedelta(days=360))  # fmt: skip
            add_task(session=session, site=site, equipment_id=eid, task="Electrical safety check", every_days=180,
                     by="bench", blocks_use=True, now=now - timedelta(days=200))  # fmt: skip
            add_task(session=session, site=site, equipment_id=eid, task="Belt and deck", every_hours=500, by="bench")

    def due() -> Any:
        with read_session(engine) as session:
            return maintenance_due(session=session, now=now, include_ok=True)

    seconds, tasks = timed(args.runs, due)
    out["maintenance_due s"], out["maintenance_due tasks"] = seconds, len(tasks)
    print(f"  {backend}: maintenance_due over {len(tasks):,} tasks: {seconds:.3f} s", flush=True)

    appended = time.perf_counter()
    for start in range(0, args.records, 100):
        batch = [NewRecord(site=stations[n % len(stations)][0], equipment_id=stations[n % len(stations)][1],
                           kind="cleaning", at=week.start + timedelta(seconds=(n * 7) % (7 * 86400)), by="bench",
                           event_id=f"bench-{n}", disinfectant="Quat wipes", contact_min=2.0)
                 for n in range(start, min(start + 100, args.records))]  # fmt: skip
        with write_transaction(engine) as conn:
            append(conn, batch)
    append_s = time.perf_counter() - appended
    out["append per record ms"] = 1000 * append_s / max(args.records, 1)

    def verify() -> Any:
        with engine.connect() as conn:
            return verify_chain(conn)

    seconds, report = timed(args.runs, verify)
    assert report.intact, report
    out["verify_chain s"], out["chain records"] = seconds, report.records
    print(f"  {backend}: appended {args.records:,} records in batches of 100 ({out['append per record ms']:.3f} ms "
          f"each); verify_chain over {report.records:,}: {seconds:.2f} s", flush=True)  # fmt: skip

    def log() -> Any:
        with read_session(engine) as session:
            made = audit_log(session=session, first=week.days[0], last=week.days[-1], tz=tz, site=args.site)
        return made, csv_text(made)

    seconds, (made, _) = timed(args.runs, log)
    out["audit_log site week s"], out["audit_log lines"] = seconds, len(made.lines)
    print(f"  {backend}: audit_log + CSV, week {week.label}, {args.site}: {seconds:.2f} s for {len(made.lines):,} "
          "lines (the chain verified inside)", flush=True)  # fmt: skip
    return out


if __name__ == "__main__":
    raise SystemExit(main())
