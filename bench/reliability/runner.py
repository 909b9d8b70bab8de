"""Runs one scenario and counts its outcome: published, stored, duplicated, lost, and the state totals.

Separate from the scenarios so every one of them is run, stopped and counted the same way, whatever failed.
"""

from __future__ import annotations

import argparse
import time
import traceback
from contextlib import ExitStack
from pathlib import Path

from sqlalchemy import text

from bench.common import load_average
from bench.reliability.listeners import DB_RETRY
from bench.reliability.result import Result, ScenarioFailed
from bench.reliability.run import Run
from bench.reliability.scenarios import SCENARIO_FUNCS


def run_scenario(args: argparse.Namespace, backend: str, scenario: str, root: Path) -> Result:
    with ExitStack() as stack:
        run = Run(args, backend, scenario, root, stack)
        res = run.result
        res.load_before = load_average()
        try:
            SCENARIO_FUNCS[scenario](run)
        except ScenarioFailed as exc:
            res.errors.append(str(exc))
        except Exception as exc:  # a bug here or an unexpected failure: report it, go on with the next scenario
            traceback.print_exc()
            res.errors.append(f"{type(exc).__name__}: {exc}")
        finally:
            res.wall_s = time.monotonic() - run.flood.started if run.flood.started else 0.0
            run.listeners.stop_all()
        if run.flood.started and not run.flood.done.wait(timeout=args.stall_timeout):
            res.errors.append("the flood did not finish")
        if run.flood.publisher.failed:
            res.errors.append(f"the broker refused {run.flood.publisher.failed:,} publishes (check the ACL)")
        res.publish_s = run.flood.publish_s
        res.publisher_connects = run.flood.publisher.connects
        res.listener_connects = run.listeners.count_in_logs("connected to ")
        res.db_retries_logged = run.listeners.count_in_logs(DB_RETRY)
        res.listener_exit_codes = run.listeners.exit_codes
        if any(code != 0 for code in res.listener_exit_codes):
            res.errors.append(f"a listener did not stop cleanly on SIGTERM: exit codes {res.listener_exit_codes}")
        count_outcome(run, res)
        res.load_after = load_average()
        return res


def count_outcome(run: Run, res: Result) -> None:
    published = {run.event_ids[i] for i in run.flood.published()}
    res.published = len(published)
    with run.engine.connect() as conn:
        ids = list(conn.execute(text("SELECT event_id FROM equipment_event WHERE channel = 'usage'")).scalars())
        res.dead_lettered = int(conn.execute(text("SELECT count(*) FROM dead_letter")).scalar_one())
        res.starts_stored = int(
            conn.execute(text("SELECT count(*) FROM equipment_event WHERE event = 'start'")).scalar_one()
        )
        uses, seconds = conn.execute(
            text("SELECT coalesce(sum(uses_total), 0), coalesce(sum(in_use_seconds_total), 0) FROM equipment_state")
        ).one()
    distinct = set(ids)
    res.rows = len(ids)
    res.stored = len(distinct)
    res.duplicated = len(ids) - len(distinct)
    res.lost = len(published - distinct)
    res.unacked_stored = len(distinct - published)
    res.uses_total = int(uses)
    res.in_use_seconds = float(seconds)
