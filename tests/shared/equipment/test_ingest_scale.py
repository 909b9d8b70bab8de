"""Ingest whose cost does not grow with the store, and daily rollups that stay exact under redelivery."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, event, select

from shared.equipment.events import Decoded
from shared.equipment.ingest import record_batch
from shared.equipment.ingest_rows import EVENTS
from shared.equipment.payloads import decode
from shared.equipment.rollups import DAYS
from shared.equipment.stations import register_equipment
from shared.equipment.usage import usage_stats
from shared.store.db import init_db, make_engine, read_session, unit_of_work

T0 = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


def device(equipment: str, channel: str, body: dict[str, object], minute: float) -> Decoded:
    at = T0 + timedelta(minutes=minute)
    payload = json.dumps({"ts": at.isoformat(), **body}).encode()
    return decode(f"clinic/main/equipment/{equipment}/{channel}", payload, prefix="clinic", received_at=at)


def a_day_of_use(equipment: str, day: int) -> list[Decoded]:
    """Two uses (20 and 10 min), the first cleaned 10 min after it ended, and a fault, on day `day`."""
    base = day * 24 * 60
    ids = f"{equipment}-{day}"
    return [
        device(equipment, "usage", {"event_id": f"{ids}-s1", "event": "start"}, base),
        device(equipment, "usage", {"event_id": f"{ids}-e1", "event": "stop", "duration_s": 1200}, base + 20),
        device(equipment, "cleaning", {"event_id": f"{ids}-c1", "event": "cleaned"}, base + 30),
        device(equipment, "usage", {"event_id": f"{ids}-s2", "event": "start"}, base + 40),
        device(equipment, "usage", {"event_id": f"{ids}-e2", "event": "stop", "duration_s": 600}, base + 50),
        device(equipment, "fault", {"event_id": f"{ids}-f1", "event": "fault", "code": "E1"}, base + 55),
    ]


def rollups(engine: Engine) -> list[tuple[Any, ...]]:
    query = select(DAYS.c.equipment_id, DAYS.c.day, DAYS.c.uses, DAYS.c.in_use_seconds, DAYS.c.cleanings,
                   DAYS.c.faults, DAYS.c.uses_needing_cleaning, DAYS.c.cleaned_before_next_use)  # fmt: skip
    with engine.connect() as conn:
        return sorted(tuple(row) for row in conn.execute(query))


def test_redelivered_and_repeated_events_leave_the_daily_rollups_exact(engine: Engine) -> None:
    with unit_of_work(engine) as session:
        register_equipment(session=session, site="main", equipment_id="tm-1")
        register_equipment(session=session, site="main", equipment_id="mat-1", clean_after_use=False)
    events = [*a_day_of_use("tm-1", 0), *a_day_of_use("tm-1", 1), *a_day_of_use("mat-1", 1)]
    record_batch(engine=engine, items=events[:9] + events[:3], tz=UTC)  # a batch that repeats keys inside itself
    record_batch(engine=engine, items=events, tz=UTC)  # the broker redelivers everything after a crash
    record_batch(engine=engine, items=events[5:], tz=UTC)
    day0, day1 = T0.date(), T0.date() + timedelta(days=1)
    assert rollups(engine) == [
        ("mat-1", day1, 2, 1800.0, 1, 1, 0, 0),
        ("tm-1", day0, 2, 1800.0, 1, 1, 2, 1),
        ("tm-1", day1, 2, 1800.0, 1, 1, 2, 1),
    ]
    with read_session(engine) as session:
        found = usage_stats(session=session, site="main", days=2, tz=UTC, now=T0 + timedelta(days=1))
    stats = {s.equipment_id: s for s in found}
    assert stats["tm-1"].uses_by_day == {day0: 2, day1: 2}
    assert stats["tm-1"].minutes_by_day == {day0: 30.0, day1: 30.0}
    assert (stats["tm-1"].compliance, stats["tm-1"].minutes_to_clean) == (0.5, [10.0, 10.0])
    assert stats["mat-1"].compliance is None


def test_days_follow_the_clinic_time_zone(engine: Engine) -> None:
    from zoneinfo import ZoneInfo

    chicago = ZoneInfo("America/Chicago")
    with unit_of_work(engine) as session:
        register_equipment(session=session, site="main", equipment_id="tm-1")
    late_evening = T0.replace(hour=3)  # 03:00 UTC is 21:00 the day before in Chicago
    start = decode("clinic/main/equipment/tm-1/usage", json.dumps({"event_id": "u1", "event": "start",
                   "ts": late_evening.isoformat()}).encode(), prefix="clinic", received_at=late_evening)  # fmt: skip
    record_batch(engine=engine, items=[start], tz=chicago)
    with read_session(engine) as session:
        stats = usage_stats(session=session, site="main", days=1, tz=chicago, now=late_evening)
    assert stats[0].uses_by_day == {late_evening.astimezone(chicago).date(): 1}


def test_no_statement_of_a_batch_scans_a_table(tmp_path: Path) -> None:
    """SQLite: every query a batch runs probes an index, so its cost does not grow with the stored events."""
    engine = make_engine(f"sqlite:///{tmp_path / 'plan.db'}")
    init_db(engine)
    for n in range(3):
        with unit_of_work(engine) as session:
            register_equipment(session=session, site="main", equipment_id=f"tm-{n}")
    record_batch(engine=engine, items=[e for n in range(3) for e in a_day_of_use(f"tm-{n}", 0)], tz=UTC)
    statements: list[tuple[str, Any]] = []

    def capture(_conn: Any, _cursor: Any, statement: str, parameters: Any, _context: Any, many: bool) -> None:
        statements.append((statement, parameters[0] if many else parameters))

    event.listen(engine, "before_cursor_execute", capture)
    batch = [e for n in range(3) for day in (0, 1) for e in a_day_of_use(f"tm-{n}", day)]
    record_batch(engine=engine, items=batch, tz=UTC)
    event.remove(engine, "before_cursor_execute", capture)
    plans: dict[str, list[str]] = {}
    with engine.connect() as conn:
        for statement, parameters in statements:
            if statement.lstrip().upper().startswith(("SELECT", "UPDATE", "DELETE")):
                rows = conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", parameters).all()
                plans[statement] = [row[-1] for row in rows]
    assert any("equipment_event" in s for s in plans), "the batch should look up the event log"
    for statement, plan in plans.items():
        # The clinic's list of disinfectants (a handful of rows it types in) is read whole; it never grows with
        # the events, which is what this test guards. Every other table is probed by an index.
        scans = [step for step in plan if step.startswith("SCAN") and step != "SCAN disinfectant"]
        assert plan and not scans, (statement, plan)
    with engine.connect() as conn:
        assert len(conn.execute(select(EVENTS.c.id)).all()) == 36
    engine.dispose()


def test_a_batch_over_a_bigger_store_does_as_much_work(tmp_path: Path) -> None:
    """The work SQLite does for a batch (its VM steps) is the same with 30,000 events stored as with none."""
    engine = make_engine(f"sqlite:///{tmp_path / 'steps.db'}")
    init_db(engine)
    with unit_of_work(engine) as session:
        register_equipment(session=session, site="main", equipment_id="tm-1")
    counter = [0]

    def tick() -> int:
        counter[0] += 1
        return 0

    def count_steps(conn: Any, _cursor: Any, *_args: Any) -> None:
        conn.connection.driver_connection.set_progress_handler(tick, 10)

    def steps_for_a_batch(day: int) -> int:
        counter[0] = 0
        event.listen(engine, "before_cursor_execute", count_steps)
        record_batch(engine=engine, items=a_day_of_use("tm-1", day), tz=UTC)
        event.remove(engine, "before_cursor_execute", count_steps)
        return counter[0]

    empty = steps_for_a_batch(0)
    old = [device("tm-1", "usage", {"event_id": f"old-{n}", "event": "start"}, -n - 1) for n in range(30_000)]
    for start in range(0, len(old), 5000):
        record_batch(engine=engine, items=old[start : start + 5000], tz=UTC)
    full = steps_for_a_batch(1)
    engine.dispose()
    assert full < 1.5 * empty + 50, f"{full * 10} VM steps with 30,000 events stored, {empty * 10} with none"
