"""The cleaning record per use (#26): each use of a station cleaned after use with who cleaned it, when, with
which disinfectant, and the verdict an inspector reads; compliance as the issue defines it. Uses and device
cleanings come through the device contract (MQTT payloads decoded and ingested), staff cleanings through the
board's "Mark cleaned", an undone cleaning through Undo."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine, text

from shared.equipment import board, undo
from shared.equipment.cleaning_records import UseCleaning, cleaning_per_use, compliance_pct
from shared.equipment.disinfectants import add_disinfectant, list_disinfectants
from shared.equipment.events import Decoded
from shared.equipment.ingest import record_batch
from shared.equipment.payloads import decode
from shared.equipment.record_chain import correct_record
from shared.store.db import read_session, unit_of_work
from shared.store.errors import NotFound
from tests import factories as make

DAY = datetime(2026, 12, 1, tzinfo=UTC)


def at(hhmm: str) -> datetime:
    hours, minutes = hhmm.split(":")
    return DAY + timedelta(hours=int(hours), minutes=int(minutes))


def sent(equipment_id: str, channel: str, when: str, **body: object) -> Decoded:
    """What a device sends on `channel` at `when` (its own clock right)."""
    moment = at(when)
    payload = json.dumps({**body, "ts": moment.isoformat()}).encode()
    return decode(f"clinic/main/equipment/{equipment_id}/{channel}", payload, prefix="clinic", received_at=moment)


def use(equipment_id: str, n: int, start: str, stop: str) -> list[Decoded]:
    return [sent(equipment_id, "usage", start, event_id=f"s{n}", event="start", session_id=f"u{n}"),
            sent(equipment_id, "usage", stop, event_id=f"e{n}", event="stop", session_id=f"u{n}")]  # fmt: skip


def clean(engine: Engine, when: str, disinfectant: str | None = None, by: str = "ana") -> None:
    with unit_of_work(engine) as session:
        board.mark_cleaned(session=session, site="main", equipment_id="tm-1", by=by, tz=UTC, now=at(when),
                           disinfectant=disinfectant)  # fmt: skip


@pytest.fixture
def day(engine: Engine) -> Engine:
    """A treadmill's morning: five uses, cleaned in time, late, too soon reused, not at all, and an undone
    cleaning followed by a real one; a bike that is not cleaned after use."""
    make.station(engine, "tm-1", "Treadmill 1", zone="Gym A", kind="treadmill")
    make.station(engine, "bike-1", "Bike 1", clean_after_use=False)
    with unit_of_work(engine) as session:
        add_disinfectant(session=session, name="Quat wipes", contact_min=2, by="cli:admin", default=True)
        add_disinfectant(session=session, name="Bleach 1:10", contact_min=10, by="cli:admin")
    record_batch(engine=engine, items=use("tm-1", 1, "10:00", "10:20") + use("bike-1", 9, "10:00", "10:30"), tz=UTC)
    clean(engine, "10:25", "Bleach 1:10")  # contact until 10:35, next use 10:40: in time
    record_batch(engine=engine, items=use("tm-1", 2, "10:40", "11:00"), tz=UTC)
    record_batch(engine=engine, items=[sent("tm-1", "cleaning", "11:30", event_id="c2", event="cleaned", by="ben",
                                            method="spray")], tz=UTC)  # fmt: skip
    record_batch(engine=engine, items=use("tm-1", 3, "12:00", "12:10"), tz=UTC)
    clean(engine, "12:12", "Quat wipes")  # contact until 12:14: the next use at 12:13 came too soon
    record_batch(engine=engine, items=use("tm-1", 4, "12:13", "12:30"), tz=UTC)
    record_batch(engine=engine, items=use("tm-1", 5, "13:00", "13:10"), tz=UTC)  # use 4 was never cleaned
    with unit_of_work(engine) as session:
        done = undo.act(session=session, action="cleaned", site="main", equipment_id="tm-1", by="cleo", tz=UTC,
                        now=at("13:12"))  # fmt: skip
    with unit_of_work(engine) as session:
        undo.undo(session=session, done=done, by="cleo", tz=UTC, now=at("13:13"))
    clean(engine, "13:20", by="dan")
    record_batch(engine=engine, items=use("tm-1", 6, "13:40", "13:50"), tz=UTC)
    return engine


def per_use(engine: Engine, start: str = "00:00", end: str = "14:00") -> list[UseCleaning]:
    with read_session(engine) as session:
        return cleaning_per_use(session=session, start=at(start), end=at(end))


def test_each_use_has_who_cleaned_it_when_with_what_and_a_verdict(day: Engine) -> None:
    rows = per_use(day)
    table = [(r.station, r.use_start.strftime("%H:%M"), r.use_end.strftime("%H:%M"),
              r.cleaned_at.strftime("%H:%M") if r.cleaned_at else None, r.cleaned_by, r.disinfectant, r.contact_min,
              r.next_use_start.strftime("%H:%M") if r.next_use_start else None, r.verdict)
             for r in rows]  # fmt: skip
    assert table == [
        ("tm-1", "10:00", "10:20", "10:25", "ana", "Bleach 1:10", 10.0, "10:40", "cleaned_in_time"),
        # a device's cleaning: the disinfectant the station was last cleaned with
        ("tm-1", "10:40", "11:00", "11:30", "ben", "Bleach 1:10", 10.0, "12:00", "late"),
        ("tm-1", "12:00", "12:10", "12:12", "ana", "Quat wipes", 2.0, "12:13", "used_before_contact_time"),
        ("tm-1", "12:13", "12:30", None, None, None, 2.0, "13:00", "not_cleaned"),
        # cleo's cleaning at 13:12 was undone: dan's at 13:20 is the one that counts
        ("tm-1", "13:00", "13:10", "13:20", "dan", "Quat wipes", 2.0, "13:40", "cleaned_in_time"),
        ("tm-1", "13:40", "13:50", None, None, None, 2.0, None, "not_cleaned"),
    ]
    assert [r.station_name for r in rows] == ["Treadmill 1"] * 6


def test_compliance_counts_uses_cleaned_before_the_next_use_and_within_the_window(day: Engine) -> None:
    rows = per_use(day, end="13:30")  # uses ending 10:20 .. 13:10: in time, late, too soon, not at all, in time
    assert len(rows) == 5
    assert [r.compliant for r in rows] == [True, False, True, False, True]
    assert compliance_pct(rows) == pytest.approx(60.0)
    assert [round(r.minutes_to_clean or -1) for r in rows] == [5, 30, 2, -1, 10]


def test_a_wider_window_forgives_the_late_cleaning(day: Engine) -> None:
    with read_session(day) as session:
        rows = cleaning_per_use(session=session, start=at("10:30"), end=at("11:30"), within_min=45)
    assert [(r.use_end.strftime("%H:%M"), r.verdict, r.compliant) for r in rows] == [("11:00", "cleaned_in_time",
                                                                                        True)]  # fmt: skip


def test_the_period_takes_uses_that_ended_in_it(day: Engine) -> None:
    assert [r.use_end.strftime("%H:%M") for r in per_use(day, "10:20", "12:10")] == ["10:20", "11:00"]
    assert per_use(day, "00:00", "10:20") == []
    assert compliance_pct([]) is None


def test_the_clinic_keeps_a_short_list_of_disinfectants(day: Engine) -> None:
    with read_session(day) as session:
        listed = [(d.name, d.contact_min, d.is_default) for d in list_disinfectants(session=session)]
    assert listed == [("Quat wipes", 2.0, True), ("Bleach 1:10", 10.0, False)]
    with pytest.raises(NotFound, match=r"no disinfectant 'Lysol' \(listed: Bleach 1:10, Quat wipes\)"):
        clean(day, "13:55", "Lysol")


def test_a_later_correction_names_the_disinfectant_the_cleaning_used(day: Engine) -> None:
    """Ben's device cleaning at 11:30 was recorded with bleach (the station's last); the manager corrects it."""
    with unit_of_work(day) as session:
        conn = session.connection()
        seq = conn.execute(text("SELECT seq FROM equipment_record WHERE event_id = 'c2'")).scalar_one()
        correct_record(conn, seq=int(seq), by="cli:manager", reason="ben used the quat wipes",
                       disinfectant="Quat wipes", contact_min=2.0)  # fmt: skip
    use = next(r for r in per_use(day) if r.use_end == at("11:00"))
    assert (use.cleaned_by, use.disinfectant, use.contact_min, use.verdict) == ("ben", "Quat wipes", 2.0, "late")
