"""The cleaning queue: stations checked-in patients need first, then those of patients starting soon, each with
who needs it and when; then the rest, the longest waiting first. Stations in their contact time are listed
with their need but after those that still need cleaning."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import Engine

from shared.care.appointments import add_appointment, set_appointment_status
from shared.care.cards import issue_card
from shared.care.exercises import add_exercise
from shared.care.patients import add_patient
from shared.care.plans import add_plan_item
from shared.equipment.cleaning_queue import Need, cleaning_queue, describe_item, order_queue, station_needs
from shared.equipment.events import Decoded
from shared.equipment.ingest import record_batch
from shared.equipment.payloads import decode
from shared.equipment.stations import StationView, register_equipment
from shared.store.db import read_session, unit_of_work
from shared.store.settings import Settings
from tests.lobby_steps import check_in

NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)


def view(equipment_id: str, status: str = "needs_cleaning", *, waited_min: float | None = 10,
         ready_in_min: float | None = None) -> StationView:  # fmt: skip
    """A station as the board reads it: waiting to be cleaned for `waited_min`, or in its contact time."""
    return StationView(
        site="main", id=equipment_id, name=equipment_id.title(), kind="other", zone="Gym A", clean_after_use=True,
        status=status,  # type: ignore[arg-type]
        online=True, online_changed_at=None, last_seen=None, in_use_since=None,
        needs_cleaning_since=NOW - timedelta(minutes=waited_min) if waited_min is not None else None,
        last_cleaned_at=None, last_cleaned_by=None, used_without_cleaning=0, uses_today=1, uses_total=1,
        in_use_seconds_total=0.0, fault_code=None, fault_severity=None, fault_message=None,
        maintenance_interval_hours=None, in_use_hours_since_service=0.0,
        ready_at=NOW + timedelta(minutes=ready_in_min) if ready_in_min is not None else None,
    )  # fmt: skip


def need(equipment_id: str, patient: str, hh_mm: str, *, checked_in: bool, position: int = 1) -> Need:
    hour, minute = map(int, hh_mm.split(":"))
    return Need("main", equipment_id, patient, NOW.replace(hour=hour, minute=minute), checked_in, position)


def ids(items: list) -> list[str]:  # type: ignore[type-arg]
    return [item.station.id for item in items]


def test_checked_in_patients_first_then_appointments_soon_then_the_longest_waiting() -> None:
    stations = [
        view("mat-1", waited_min=50),  # nobody needs it: waited longest of the rest
        view("mat-2", waited_min=5),
        view("bike-1", waited_min=1),  # James starts at 10:30
        view("tm-1", waited_min=2),  # Maria has checked in (10:15)
        view("bars-1", waited_min=30),  # Ruth checked in, earlier appointment (09:45)
        view("stairs-1", "in_use", waited_min=None),  # not in the queue
        view("plinth-1", "available", waited_min=None),  # not in the queue
    ]
    needs = [
        need("tm-1", "Maria G.", "10:15", checked_in=True),
        need("bars-1", "Ruth L.", "09:45", checked_in=True),
        need("bike-1", "James O.", "10:30", checked_in=False),
        need("plinth-1", "Maria G.", "10:15", checked_in=True),
    ]
    queue = order_queue(stations, needs, now=NOW)
    assert ids(queue) == ["bars-1", "tm-1", "bike-1", "mat-1", "mat-2"]
    assert [item.tier for item in queue] == [0, 0, 1, 2, 2]
    assert [describe_item(item, UTC, NOW) for item in queue] == [
        "Needed by Ruth L., 09:45 (checked in)",
        "Needed by Maria G., 10:15 (checked in)",
        "Needed by James O., 10:30 (in 30 min)",
        "Nobody booked needs it soon; waiting 50 min",
        "Nobody booked needs it soon; waiting 5 min",
    ]


def test_a_station_needed_by_several_lists_them_soonest_first_and_takes_the_most_urgent_place() -> None:
    stations = [view("tm-1"), view("bike-1")]
    needs = [
        need("tm-1", "James O.", "10:30", checked_in=False),
        need("bike-1", "Ann P.", "10:20", checked_in=False),
        need("tm-1", "Maria G.", "10:45", checked_in=True),  # checked in early: needs it before James
        need("tm-1", "Maria G.", "10:45", checked_in=True, position=3),  # twice in her plan: named once
    ]
    queue = order_queue(stations, needs, now=NOW)
    assert ids(queue) == ["tm-1", "bike-1"]
    assert describe_item(queue[0], UTC, NOW) == "Needed by Maria G., 10:45 (checked in); James O., 10:30 (in 30 min)"


def test_within_a_patient_the_earlier_exercise_first_and_contact_time_after_what_needs_cleaning() -> None:
    stations = [
        view("bars-1"),
        view("tm-1", "available", waited_min=None, ready_in_min=2),  # cleaned: only the contact time is left
        view("bike-1"),
        view("mat-1", "available", waited_min=None, ready_in_min=1),  # nobody needs it
        view("mat-2", waited_min=1),
    ]
    needs = [
        need("bars-1", "Maria G.", "10:15", checked_in=True, position=2),
        need("tm-1", "Maria G.", "10:15", checked_in=True, position=1),
        need("bike-1", "Maria G.", "10:15", checked_in=True, position=3),
    ]
    queue = order_queue(stations, needs, now=NOW)
    assert ids(queue) == ["bars-1", "bike-1", "tm-1", "mat-2", "mat-1"]
    assert describe_item(queue[-1], UTC, NOW) == "Nobody booked needs it soon"


def test_out_of_service_stations_and_other_sites_needs_are_left_out() -> None:
    elsewhere = replace(need("bike-1", "Maria G.", "10:15", checked_in=True), site="other")
    queue = order_queue([view("tm-1", "out_of_service"), view("bike-1")], [elsewhere], now=NOW)
    assert ids(queue) == ["bike-1"] and queue[0].tier == 2


# --- from the store --------------------------------------------------------------------------------------------


def device(equipment_id: str, n: int, stop_min_ago: float) -> list[Decoded]:
    def message(event: str, at: datetime) -> Decoded:
        body = json.dumps({"event_id": f"{equipment_id}-{event}-{n}", "event": event, "ts": at.isoformat()})
        return decode(f"clinic/main/equipment/{equipment_id}/usage", body.encode(), prefix="clinic", received_at=at)

    stopped = NOW - timedelta(minutes=stop_min_ago)
    return [message("start", stopped - timedelta(minutes=10)), message("stop", stopped)]


def test_the_queue_from_patients_appointments_and_plans_at_given_times(engine: Engine) -> None:
    settings = Settings(_env_file=None, timezone="UTC")  # type: ignore[call-arg]
    for station in ("tm-1", "bike-1", "bars-1", "mat-1", "stairs-1"):
        with unit_of_work(engine) as session:
            register_equipment(session=session, site="main", equipment_id=station, name=station.title(), zone="Gym A")
    with unit_of_work(engine) as session:
        add_exercise(session=session, name="Walk")
    people = {}
    for first, last, hh, mm, stations in (
        ("Maria", "Gonzalez", 10, 15, ["tm-1"]),  # checks in at 09:50
        ("James", "Okafor", 10, 40, ["bike-1"]),  # starts in 40 min
        ("Ruth", "Lindqvist", 11, 30, ["stairs-1"]),  # starts in 90 min: not soon
        ("Sam", "Whitfield", 9, 0, ["bars-1"]),  # done for today
    ):
        with unit_of_work(engine) as session:
            patient = add_patient(session=session, first=first, last=last, dob=date(1950, 1, 1))
        assert patient.id is not None
        with unit_of_work(engine) as session:
            booked = add_appointment(
                session=session, patient_id=patient.id, starts_at=NOW.replace(hour=hh, minute=mm), site="main"
            )
        for station in stations:
            with unit_of_work(engine) as session:
                add_plan_item(session=session, patient_id=patient.id, exercise="Walk", equipment_id=station,
                              active_from=NOW.date() - timedelta(days=3))  # fmt: skip
        people[first] = (patient.id, booked.id)
    with unit_of_work(engine) as session:
        scanned = issue_card(session=session, patient_id=people["Maria"][0], base_url="https://x").url
    check_in(engine=engine, settings=settings, scan=scanned,
             now=NOW - timedelta(minutes=10))  # fmt: skip
    with unit_of_work(engine) as session:
        set_appointment_status(
            session=session, appointment_id=people["Sam"][1] or 0, status="done", now=NOW - timedelta(minutes=30)
        )
    record_batch(engine=engine, items=[*device("tm-1", 1, 3), *device("bike-1", 2, 20), *device("bars-1", 3, 40),
                                       *device("mat-1", 4, 25), *device("stairs-1", 5, 60)], tz=UTC)  # fmt: skip

    with read_session(engine) as session:
        needs = station_needs(session=session, site="main", tz=UTC, now=NOW)
    assert sorted((n.equipment_id, n.patient, n.checked_in) for n in needs) == [
        ("bike-1", "James O.", False), ("tm-1", "Maria G.", True),
    ]  # fmt: skip
    with read_session(engine) as session:
        queue = cleaning_queue(session=session, site="main", tz=UTC, now=NOW, contact_time_min={"default": 2})
    assert ids(queue) == ["tm-1", "bike-1", "stairs-1", "bars-1", "mat-1"]
    assert describe_item(queue[0], UTC, NOW) == "Needed by Maria G., 10:15 (checked in)"
    assert describe_item(queue[1], UTC, NOW) == "Needed by James O., 10:40 (in 40 min)"
    assert describe_item(queue[2], UTC, NOW) == "Nobody booked needs it soon; waiting 60 min"

    # Ruth's start comes within the hour; James arrives; the treadmill is cleaned and stays in the queue
    # until its contact time has passed.
    later = NOW + timedelta(minutes=35)
    with unit_of_work(engine) as session:
        set_appointment_status(session=session, appointment_id=people["James"][1] or 0, status="arrived", now=later)
    record_batch(engine=engine, items=[decode("clinic/main/equipment/tm-1/cleaning", json.dumps(
        {"event_id": "c1", "event": "cleaned", "ts": later.isoformat()}).encode(), prefix="clinic",
        received_at=later)], tz=UTC)  # fmt: skip
    with read_session(engine) as session:
        queue = cleaning_queue(session=session, site="main", tz=UTC, now=later + timedelta(minutes=1),
                               contact_time_min={"default": 2})  # fmt: skip
    assert ids(queue) == ["bike-1", "tm-1", "stairs-1", "bars-1", "mat-1"]
    assert [item.tier for item in queue] == [0, 0, 1, 2, 2]
    assert queue[1].station.effective_status == "cleaning"
    with read_session(engine) as session:
        gone = cleaning_queue(
            session=session, site="main", tz=UTC, now=later + timedelta(minutes=2), contact_time_min={"default": 2}
        )
    assert "tm-1" not in ids(gone)
