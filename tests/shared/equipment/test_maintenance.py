"""Maintenance plans (#26): several tasks per station, by calendar or by in-use hours (the old interval is one),
due soon / overdue / missed, done records with notes and who, a task that takes its station out of service while
overdue (the board says why) and puts it back when done; `clinic maintenance add|done|due` as documented."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine
from typer.testing import CliRunner

from shared.equipment import undo
from shared.equipment.board import board
from shared.equipment.events import Decoded
from shared.equipment.ingest import record_batch
from shared.equipment.maintenance import add_task, done_records, maintenance_due, mark_done
from shared.equipment.maintenance_blocks import apply_blocks, done, pending_blocks
from shared.equipment.payloads import decode
from shared.equipment.record_chain import verify_chain
from shared.store.db import make_engine, read_session, unit_of_work
from shared.store.errors import NotFound, ValidationFailed
from tests import factories as make
from tests.cli_support import run

ADDED = datetime(2026, 1, 5, 9, tzinfo=UTC)


def use(equipment_id: str, n: int, start: datetime, hours: float) -> list[Decoded]:
    stop = start + timedelta(hours=hours)
    return [decode(f"clinic/main/equipment/{equipment_id}/usage",
                   json.dumps({"event_id": f"{kind}{n}", "event": kind, "session_id": f"u{n}",
                               "ts": at.isoformat()}).encode(), prefix="clinic", received_at=at)
            for kind, at in (("start", start), ("stop", stop))]  # fmt: skip


def due(engine: Engine, now: datetime) -> list[tuple[str, str, str]]:
    with read_session(engine) as session:
        return [(t.station, t.task, t.status) for t in maintenance_due(session=session, now=now)]


@pytest.fixture
def plans(engine: Engine) -> Engine:
    """An ultrasound calibrated yearly (blocks use), checked electrically every 180 days; a treadmill serviced
    every 100 h of use (its maintenance interval, as registered)."""
    make.station(engine, "us-1", "Ultrasound 1")
    make.station(engine, "tm-1", "Treadmill 1", maintenance_interval_hours=100)
    with unit_of_work(engine) as session:
        add_task(session=session, site="main", equipment_id="us-1", task="Calibration", every_days=365,
                 blocks_use=True, by="ana", now=ADDED)  # fmt: skip
        add_task(session=session, site="main", equipment_id="us-1", task="Electrical safety check", every_days=180,
                 by="ana", now=ADDED)  # fmt: skip
    return engine


def test_each_task_is_due_by_its_own_calendar(plans: Engine) -> None:
    assert due(plans, ADDED + timedelta(days=10)) == []
    assert due(plans, ADDED + timedelta(days=175)) == [("us-1", "Electrical safety check", "due_soon")]
    assert due(plans, ADDED + timedelta(days=181)) == [("us-1", "Electrical safety check", "overdue")]
    assert due(plans, ADDED + timedelta(days=362)) == [("us-1", "Electrical safety check", "missed"),
                                                         ("us-1", "Calibration", "due_soon")]  # fmt: skip
    assert due(plans, ADDED + timedelta(days=366)) == [("us-1", "Electrical safety check", "missed"),
                                                         ("us-1", "Calibration", "overdue")]  # fmt: skip


def test_the_maintenance_interval_is_a_task_counted_in_hours_of_use(plans: Engine) -> None:
    record_batch(engine=plans, items=use("tm-1", 1, ADDED, 92), tz=UTC)
    now = ADDED + timedelta(days=5)
    assert due(plans, now) == [("tm-1", "Maintenance", "due_soon")]
    record_batch(engine=plans, items=use("tm-1", 2, ADDED + timedelta(days=4), 10), tz=UTC)
    with read_session(plans) as session:
        (task,) = maintenance_due(session=session, now=now)
    assert (task.task, task.status, task.hours_used, task.schedule) == ("Maintenance", "overdue", 102.0,
                                                                        "every 100 h of use")  # fmt: skip


def test_done_records_who_when_and_notes_and_the_next_is_due_from_then(plans: Engine) -> None:
    when = ADDED + timedelta(days=200)
    with unit_of_work(plans) as session:
        mark_done(session=session, site="main", equipment_id="us-1", task="electrical SAFETY check", by="tom",
                  notes="leakage 12 uA", now=when)  # fmt: skip
    assert due(plans, when + timedelta(days=100)) == []
    with read_session(plans) as session:
        (record,) = done_records(session=session, start=ADDED, end=when + timedelta(days=1))
        (task,) = [t for t in maintenance_due(session=session, now=when, include_ok=True)
                   if t.task == "Electrical safety check"]  # fmt: skip
    assert (record.task, record.by, record.notes, record.at) == ("Electrical safety check", "tom", "leakage 12 uA",
                                                                 when)  # fmt: skip
    assert (task.last_done, task.last_done_by, task.due_at) == (when, "tom", when + timedelta(days=180))


def test_a_task_must_exist_and_have_one_schedule(plans: Engine) -> None:
    with unit_of_work(plans) as session, pytest.raises(NotFound, match=r"its tasks: Calibration, Electrical"):
        mark_done(session=session, site="main", equipment_id="us-1", task="Oil", by="tom")
    with unit_of_work(plans) as session, pytest.raises(ValidationFailed, match="one schedule"):
        add_task(session=session, site="main", equipment_id="us-1", task="Oil", every_days=3, every_hours=3, by="a")


def test_an_overdue_task_that_blocks_use_takes_the_station_out_until_done(plans: Engine) -> None:
    late = ADDED + timedelta(days=366)
    with unit_of_work(plans) as session:
        assert [t.task for t in apply_blocks(session=session, now=late, tz=UTC)] == ["Calibration"]
    with read_session(plans) as session:
        card = next(r.station for r in board(session=session, tz=UTC) if r.station.id == "us-1")
        assert pending_blocks(session=session, now=late) == []  # blocked once, not again
    assert (card.status, card.fault_message) == ("out_of_service", "Maintenance overdue: Calibration")
    with unit_of_work(plans) as session:
        assert done(session=session, site="main", equipment_id="us-1", task="Calibration", by="tom", tz=UTC,
                    notes="within 2%", now=late + timedelta(hours=1))  # fmt: skip
    assert make.read_station(plans, "us-1").status == "available"


def test_clinic_maintenance_add_done_and_due(cli: CliRunner, db_url: str) -> None:
    engine = make_engine(db_url)
    try:
        make.station(engine, "us-1", "Ultrasound 1")
    finally:
        engine.dispose()
    code, out, err = run(cli, "maintenance", "add", "us-1", "--task", "Calibration", "--every-days", "365",
                         "--blocks-use")  # fmt: skip
    assert (code, out.strip()) == (0, "us-1: Calibration, every 365 days; the station is out of service while it is "
                                      "overdue"), err  # fmt: skip
    code, _, err = run(cli, "maintenance", "add", "us-1", "--task", "Oil")
    assert (code, err.strip()) == (2, "error: give one schedule: --every-days N or --every-hours H")
    assert run(cli, "maintenance", "due")[1].strip() == "nothing due"
    code, out, _ = run(cli, "maintenance", "due", "--all", "--json")
    (task,) = json.loads(out)
    assert {k: task[k] for k in ("station", "task", "every_days", "blocks_use", "status", "last_done")} == {
        "station": "us-1", "task": "Calibration", "every_days": 365.0, "blocks_use": True, "status": "ok",
        "last_done": None}  # fmt: skip
    code, out, _ = run(cli, "maintenance", "done", "us-1", "--task", "Calibration", "--notes", "ok")
    assert (code, out.strip()) == (0, "us-1: Calibration done")
    code, out, _ = run(cli, "maintenance", "due", "--all")
    assert "Calibration" in out and "every 365 days" in out and "ok" in out


def test_mark_serviced_is_the_interval_task_done_and_its_undo_voids_it(plans: Engine) -> None:
    record_batch(engine=plans, items=use("tm-1", 1, ADDED, 102), tz=UTC)
    now = ADDED + timedelta(days=5)
    assert due(plans, now) == [("tm-1", "Maintenance", "overdue")]
    with unit_of_work(plans) as session:
        done_it = undo.act(session=session, action="serviced", site="main", equipment_id="tm-1", by="tom", tz=UTC)
    with read_session(plans) as session:
        (task,) = [t for t in maintenance_due(session=session, now=now, include_ok=True) if t.station == "tm-1"]
    assert (task.status, task.hours_used, task.last_done_by) == ("ok", 0.0, "tom")
    with unit_of_work(plans) as session:
        undo.undo(session=session, done=done_it, by="tom", tz=UTC)
    with read_session(plans) as session:
        (task,) = [t for t in maintenance_due(session=session, now=now, include_ok=True) if t.station == "tm-1"]
        assert verify_chain(session.connection()).intact
    assert (task.status, task.hours_used, task.last_done) == ("overdue", 102.0, None)
