"""Disinfectant contact time: after a cleaning a station shows "cleaning, ready in N min" until the contact time
of its kind has passed, computed at read time; the stored status and the JSON `status` stay as they were."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any, TypeVar

import pytest
from sqlalchemy import Engine

from shared.care.exercises import add_exercise
from shared.care.patients import add_patient
from shared.care.plans import add_plan_item
from shared.care.todays_plan import PATIENT_STATUS_WORDS, PlanLine, todays_plan
from shared.equipment import board
from shared.equipment.events import Decoded
from shared.equipment.ingest import record_batch
from shared.equipment.payloads import decode
from shared.equipment.stations import StationView, describe_status, get_station, list_stations, register_equipment
from shared.store.db import read_session, unit_of_work
from shared.store.settings import Settings

T0 = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)  # the cleaning
TIMES = {"treadmill": 3.0, "default": 1.0}


T = TypeVar("T")


def act(engine: Engine, action: Callable[..., T], **kwargs: Any) -> T:
    """A board action as the staff app runs it: in a unit of work of its own."""
    with unit_of_work(engine) as session:
        return action(session=session, **kwargs)


def device(equipment_id: str, channel: str, body: dict[str, object], at: datetime) -> Decoded:
    payload = json.dumps({**body, "ts": at.isoformat()}).encode()
    return decode(f"clinic/main/equipment/{equipment_id}/{channel}", payload, prefix="clinic", received_at=at)


def used_then_cleaned(equipment_id: str, *, cleaned_at: datetime = T0) -> list[Decoded]:
    start, stop = cleaned_at - timedelta(minutes=20), cleaned_at - timedelta(minutes=10)
    return [
        device(equipment_id, "usage", {"event_id": f"{equipment_id}-s", "event": "start"}, start),
        device(equipment_id, "usage", {"event_id": f"{equipment_id}-e", "event": "stop"}, stop),
        device(equipment_id, "cleaning", {"event_id": f"{equipment_id}-c", "event": "cleaned"}, cleaned_at),
    ]


def at(engine: Engine, equipment_id: str, now: datetime) -> tuple[str, str, str]:
    view = get_station_at(engine, equipment_id, now)
    return view.status, view.effective_status, describe_status(view, now)


def get_station_at(engine: Engine, equipment_id: str, now: datetime) -> StationView:
    with read_session(engine) as session:
        views = list_stations(session=session, tz=UTC, now=now, contact_time_min=TIMES)
    return next(v for v in views if v.id == equipment_id)


@pytest.fixture
def gym(engine: Engine) -> Engine:
    with unit_of_work(engine) as session:
        register_equipment(
            session=session, site="main", equipment_id="tm-1", name="Treadmill 1", kind="treadmill", zone="Gym A"
        )
        register_equipment(
            session=session, site="main", equipment_id="bars-1", name="Parallel bars", kind="parallel_bars"
        )
        register_equipment(session=session, site="main", equipment_id="hot-1", name="Hot pack", kind="hot_pack",
                           clean_after_use=False)  # fmt: skip
    return engine


def test_the_countdown_rounds_up_and_ends_exactly_at_the_contact_time(gym: Engine) -> None:
    record_batch(engine=gym, items=used_then_cleaned("tm-1"), tz=UTC)
    assert at(gym, "tm-1", T0) == ("available", "cleaning", "cleaning, ready in 3 min")
    assert at(gym, "tm-1", T0 + timedelta(seconds=59)) == ("available", "cleaning", "cleaning, ready in 3 min")
    assert at(gym, "tm-1", T0 + timedelta(seconds=60))[2] == "cleaning, ready in 2 min"
    assert at(gym, "tm-1", T0 + timedelta(seconds=179.5))[2] == "cleaning, ready in 1 min", "never 'ready in 0 min'"
    assert at(gym, "tm-1", T0 + timedelta(minutes=3)) == ("available", "available", "available")
    view = get_station_at(gym, "tm-1", T0 + timedelta(minutes=1))
    assert view.ready_at == T0 + timedelta(minutes=3)
    assert get_station_at(gym, "tm-1", T0 + timedelta(minutes=3)).ready_at is None


def test_each_kind_has_its_own_contact_time_and_others_use_the_default(gym: Engine) -> None:
    record_batch(engine=gym, items=[*used_then_cleaned("tm-1"), *used_then_cleaned("bars-1")], tz=UTC)
    later = T0 + timedelta(seconds=90)
    assert at(gym, "tm-1", later)[1:] == ("cleaning", "cleaning, ready in 2 min")
    assert at(gym, "bars-1", later)[1:] == ("available", "available")
    with read_session(gym) as session:
        no_contact = list_stations(session=session, tz=UTC, now=T0, contact_time_min={"default": 0})
    assert {v.effective_status for v in no_contact} == {"available"}


def test_the_json_status_keeps_its_documented_values_and_ready_at_is_added(gym: Engine) -> None:
    record_batch(engine=gym, items=used_then_cleaned("tm-1"), tz=UTC)
    row = get_station_at(gym, "tm-1", T0 + timedelta(minutes=1)).as_json()
    assert (row["status"], row["ready_at"]) == ("available", "2026-11-23T10:03:00Z")
    assert "effective_status" not in row
    assert get_station_at(gym, "tm-1", T0 + timedelta(minutes=5)).as_json()["ready_at"] is None


def test_only_a_station_nobody_has_used_since_the_cleaning_counts_down(gym: Engine) -> None:
    cleaned_in_use = [
        device("tm-1", "usage", {"event_id": "s", "event": "start"}, T0 - timedelta(minutes=5)),
        device("tm-1", "cleaning", {"event_id": "c", "event": "cleaned"}, T0),  # a wipe-down mid-session
    ]
    record_batch(engine=gym, items=cleaned_in_use, tz=UTC)
    assert at(gym, "tm-1", T0 + timedelta(seconds=30))[:2] == ("in_use", "in_use")
    stop = device("tm-1", "usage", {"event_id": "e", "event": "stop"}, T0 + timedelta(seconds=40))
    record_batch(engine=gym, items=[stop], tz=UTC)
    assert at(gym, "tm-1", T0 + timedelta(seconds=50))[:2] == ("needs_cleaning", "needs_cleaning")
    # Not cleaned after each use: a use right after a cleaning leaves it available, and ends the countdown.
    record_batch(engine=gym, items=[device("hot-1", "cleaning", {"event_id": "hc", "event": "cleaned"}, T0)], tz=UTC)
    assert at(gym, "hot-1", T0 + timedelta(seconds=10))[1] == "cleaning"
    record_batch(engine=gym, items=[
        device("hot-1", "usage", {"event_id": "hs", "event": "start"}, T0 + timedelta(seconds=20)),
        device("hot-1", "usage", {"event_id": "he", "event": "stop"}, T0 + timedelta(seconds=30)),
    ], tz=UTC)  # fmt: skip
    assert at(gym, "hot-1", T0 + timedelta(seconds=40))[:2] == ("available", "available")


def test_out_of_service_wins_over_the_countdown(gym: Engine) -> None:
    record_batch(engine=gym, items=used_then_cleaned("tm-1"), tz=UTC)
    act(gym, board.take_out_of_service, site="main", equipment_id="tm-1", by="ana", reason="Belt torn", tz=UTC,
        now=T0 + timedelta(seconds=10))  # fmt: skip
    assert at(gym, "tm-1", T0 + timedelta(seconds=20)) == ("out_of_service",) * 2 + ("out of service (manual)",)


def test_the_board_orders_and_filters_by_the_status_shown(gym: Engine) -> None:
    now = datetime.now(UTC)
    record_batch(engine=gym, items=[
        *used_then_cleaned("tm-1", cleaned_at=now - timedelta(seconds=30)),
        device("bars-1", "usage", {"event_id": "b", "event": "start"}, now - timedelta(minutes=2)),
    ], tz=UTC)  # fmt: skip
    with read_session(gym) as session:
        assert get_station(session=session, site="main", equipment_id="tm-1", tz=UTC).effective_status == "cleaning"
        rows = board.board(session=session, tz=UTC)
        assert [r.station.id for r in rows] == ["tm-1", "hot-1", "bars-1"], "zone, then name"
        assert [r.station.id for r in board.board(session=session, tz=UTC, status="cleaning")] == ["tm-1"]
        assert [r.station.id for r in board.board(session=session, tz=UTC, status="available")] == ["hot-1"]


def test_the_patients_plan_says_being_cleaned_until_ready(gym: Engine) -> None:
    record_batch(engine=gym, items=used_then_cleaned("tm-1"), tz=UTC)
    with unit_of_work(gym) as session:
        patient = add_patient(session=session, first="Maria", last="Gonzalez", dob=date(1950, 4, 17))
    assert patient.id is not None
    with unit_of_work(gym) as session:
        add_exercise(session=session, name="Treadmill walk")
    with unit_of_work(gym) as session:
        add_plan_item(session=session, patient_id=patient.id, exercise="Treadmill walk", equipment_id="tm-1",
                      active_from=T0.date())

    def line(now: datetime) -> PlanLine:
        with read_session(gym) as session:
            return todays_plan(session=session, patient_id=patient.id or 0, day=now.date(), site="main", tz=UTC,
                               now=now, contact_time_min=TIMES)[0]  # fmt: skip

    during = line(T0 + timedelta(minutes=1))
    assert (during.equipment_status, during.station_status) == ("available", "cleaning")
    assert PATIENT_STATUS_WORDS[during.station_status] == "being cleaned"
    assert during.as_json()["equipment_ready_at"] == "2026-11-23T10:03:00Z"
    assert json.dumps(during.as_json())  # serialisable for `clinic checkin --json`
    after = line(T0 + timedelta(minutes=4))
    assert (after.station_status, after.equipment_ready_at) == ("available", None)


def test_contact_times_come_from_a_json_setting_with_a_default(monkeypatch: pytest.MonkeyPatch) -> None:
    assert Settings(_env_file=None).contact_time("anything") == timedelta(minutes=2)  # type: ignore[call-arg]
    monkeypatch.setenv("CLINIC_CONTACT_TIME_MIN", '{"treadmill": 2.5, "default": 1}')
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    assert settings.contact_time("treadmill") == timedelta(minutes=2.5)
    assert settings.contact_time("parallel_bars") == timedelta(minutes=1)
    monkeypatch.setenv("CLINIC_CONTACT_TIME_MIN", '{"treadmill": 4}')
    assert Settings(_env_file=None).contact_time("bike") == timedelta(minutes=2), "the default stays"  # type: ignore[call-arg]
    for bad in ('{"treadmill": -1}', '{"treadmill": 61}', "3", "not json"):
        monkeypatch.setenv("CLINIC_CONTACT_TIME_MIN", bad)
        with pytest.raises(ValueError):
            Settings(_env_file=None)  # type: ignore[call-arg]
