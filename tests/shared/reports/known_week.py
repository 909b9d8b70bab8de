"""A known week at a New York clinic, 2026-W44 (Mon 26 Oct to Sun 1 Nov 2026), which ends daylight-saving time
(Sun 1 Nov, 02:00 EDT becomes 01:00 EST: the week is 169 hours). Built through the device contract: the payloads
a station's device publishes, decoded and recorded by the ingest functions the listener uses; the front desk's
appointments through the appointment services (their audit entries stamped at the moment of each change).

The figures the report must give are worked out by hand in the tests beside each event.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import time_machine
from sqlalchemy import Engine

from shared.care.appointments import add_appointment, set_appointment_status
from shared.equipment.events import Decoded
from shared.equipment.ingest import record_batch
from shared.equipment.payloads import decode
from tests.factories import new_patient_id, station

NY = ZoneInfo("America/New_York")
WEEK = "2026-W44"
EDT = timedelta(hours=-4)  # before Sun 1 Nov 02:00 local
EST = timedelta(hours=-5)  # after


def at(day: int, hour: int, minute: int = 0, *, month: int = 10, offset: timedelta | None = None) -> datetime:
    """A New York wall-clock time in the week; `offset` picks which of the repeated 01:00-02:00 hour is meant."""
    local = datetime(2026, month, day, hour, minute)
    if offset is None:
        return local.replace(tzinfo=NY)
    return (local - offset).replace(tzinfo=ZoneInfo("UTC"))


def message(equipment_id: str, channel: str, when: datetime, body: dict[str, object] | str) -> Decoded:
    """What the station's device publishes at `when` (received at once)."""
    topic = f"clinic/main/equipment/{equipment_id}/{channel}"
    if isinstance(body, str):  # status: "online" or "offline"
        return decode(topic, body.encode(), prefix="clinic", received_at=when)
    payload = json.dumps({**body, "ts": when.isoformat()}).encode()
    return decode(topic, payload, prefix="clinic", received_at=when)


def use(equipment_id: str, n: int, began: datetime, ended: datetime) -> list[Decoded]:
    """One use: a start, and a stop with its duration."""
    return [
        message(equipment_id, "usage", began, {"event_id": f"{equipment_id}-s{n}", "event": "start"}),
        message(equipment_id, "usage", ended, {"event_id": f"{equipment_id}-e{n}", "event": "stop",
                                               "duration_s": (ended - began).total_seconds()}),
    ]  # fmt: skip


def cleaned(equipment_id: str, n: int, when: datetime) -> Decoded:
    """A cleaning reported by the station (a wipe by Mark)."""
    return message(equipment_id, "cleaning", when, {"event_id": f"{equipment_id}-c{n}", "event": "cleaned",
                                                    "by": "Mark", "method": "wipe"})  # fmt: skip


def fault(equipment_id: str, n: int, when: datetime, event: str, code: str) -> Decoded:
    """A critical fault (out of service) or its clearing."""
    body: dict[str, object] = {"event_id": f"{equipment_id}-f{n}", "event": event, "code": code}
    return message(equipment_id, "fault", when, {**body, "severity": "critical"} if event == "fault" else body)


def build_equipment_week(engine: Engine) -> None:
    """Three stations' week, recorded in time order in a few batches, as the listener would."""
    station(engine, "bike-1", "Bike 1", zone="gym", kind="bike", clean_after_use=True)
    station(engine, "table-1", "Table 1", zone="treatment", kind="table", clean_after_use=True)
    station(engine, "scale-1", "Scale 1", zone="gym", kind="scale", clean_after_use=False)
    # fmt: off
    bike = [
        *use("bike-1", 1, at(26, 9), at(26, 9, 30)), cleaned("bike-1", 1, at(26, 9, 40)),  # 10 min: in time
        *use("bike-1", 2, at(26, 10), at(26, 10, 45)), cleaned("bike-1", 2, at(26, 11, 20)),  # 35 min: late
        *use("bike-1", 3, at(27, 14), at(27, 14, 20)),  # never cleaned before the next use: not cleaned
        *use("bike-1", 4, at(27, 15), at(27, 15, 30)), cleaned("bike-1", 4, at(27, 15, 35)),  # 5 min, but...
        *use("bike-1", 5, at(27, 15, 36), at(27, 16)),  # ...used 1 min after (contact time 2): before contact time
        cleaned("bike-1", 5, at(27, 16, 10)),  # 10 min: in time
        message("bike-1", "status", at(28, 8), "offline"), message("bike-1", "status", at(28, 12), "online"),  # 4 h
        # 01:30 EDT to 01:30 EST: one real hour the wall clock does not show; cleaned 15 min after (in time)
        *use("bike-1", 6, at(1, 1, 30, month=11, offset=EDT), at(1, 1, 30, month=11, offset=EST)),
        cleaned("bike-1", 6, at(1, 1, 45, month=11, offset=EST)),
    ]
    table = [
        *use("table-1", 0, at(25, 23), at(25, 23, 50)), cleaned("table-1", 0, at(26, 0, 5)),  # the week before
        *use("table-1", 1, at(26, 23, 30), at(27, 0, 30)), cleaned("table-1", 1, at(27, 0, 40)),  # across midnight
        fault("table-1", 1, at(29, 10), "fault", "motor"), fault("table-1", 2, at(30, 16), "cleared", "motor"),
        # offline from 00:30 EDT to 03:00 EST: 3.5 real hours (2.5 on the wall clock)
        message("table-1", "status", at(1, 0, 30, month=11, offset=EDT), "offline"),
        message("table-1", "status", at(1, 3, 0, month=11, offset=EST), "online"),
        fault("table-1", 3, at(1, 20, month=11), "fault", "power"),  # still out of service at the end: 4 h
    ]
    # fmt: on
    scale = use("scale-1", 1, at(28, 9), at(28, 9, 10))  # no cleaning needed
    for batch in (bike, table, scale):
        record_batch(engine=engine, items=sorted(batch, key=lambda m: m.received_at), tz=NY)


def build_front_desk_week(engine: Engine) -> None:
    """Four appointments: waits of 10, 20 and 30 minutes and one no-show."""
    from shared.store.db import unit_of_work

    patient = new_patient_id(engine)
    visits = [  # starts, then (status, when) changes
        (at(26, 9), [("arrived", at(26, 8, 50)), ("in_session", at(26, 9, 10))]),  # early: waits from 09:00, 10 min
        (at(26, 10), [("arrived", at(26, 10, 5)), ("in_session", at(26, 10, 25))]),  # late: waits from 10:05, 20 min
        (at(26, 11), [("no_show", at(26, 11, 30))]),
        (at(1, 9, month=11), [("arrived", at(1, 9, 2, month=11)), ("in_session", at(1, 9, 32, month=11))]),  # 30
    ]
    booked_ids = []
    for starts, changes in visits:
        with unit_of_work(engine) as session:
            booked = add_appointment(session=session, patient_id=patient, starts_at=starts, site="main")
            assert booked.id is not None
            booked_id = booked.id
        booked_ids.append(booked_id)
        for status, when in changes:
            with time_machine.travel(when, tick=False), unit_of_work(engine) as session:
                set_appointment_status(session=session, appointment_id=booked_id, status=status, now=when,
                                       actor="frontdesk")  # fmt: skip
    build_outcomes(engine, patient, booked_ids[0], booked_ids[3])


NOTES = "Leakage 0.1 mA: $ok <b>fine</b>"  # a note as typed, shown as typed


def build_maintenance(engine: Engine) -> None:
    """Four tasks: at the week's end (Mon 2 Nov 00:00 EST) one missed, one overdue, one due soon, one done."""
    from shared.equipment.maintenance import add_task, mark_done
    from shared.store.db import unit_of_work

    tasks = [  # station, task, every N days, added at
        ("table-1", "Calibration", 7, at(30, 9, month=9)),  # due 7 Oct, missed since 14 Oct
        ("scale-1", "Calibration", 30, at(25, 12, month=9)),  # due 25 Oct: overdue (missed from 24 Nov)
        ("bike-1", "Belt check", 8, at(25, 10)),  # due 2 Nov 09:00 EST (8 x 24 h): due soon (within 2 days)
        ("bike-1", "Electrical safety check", 30, at(1, 12, month=10)),  # done Sun 1 Nov: due 1 Dec
    ]
    for equipment_id, task, days, added in tasks:
        with unit_of_work(engine) as session:
            add_task(session=session, site="main", equipment_id=equipment_id, task=task, every_days=days,
                     by="admin", now=added)  # fmt: skip
    with unit_of_work(engine) as session:
        mark_done(session=session, site="main", equipment_id="bike-1", task="Electrical safety check", by="Mark",
                  notes=NOTES, now=at(1, 10, month=11))  # fmt: skip


def build_outcomes(engine: Engine, patient: int, monday_visit: int, sunday_visit: int) -> None:
    """Pain (NPRS) answered at two visits, 6 then 4; and Lena on the home programme: two exercises a day all
    week (14 prescribed), 4 ticked (28.6%, under half)."""
    from shared.outcomes.home_log import tick
    from shared.outcomes.responses import answer
    from shared.outcomes.schedule import assign
    from shared.store.db import unit_of_work
    from tests.shared.outcomes.home_support import plan_with_link

    with unit_of_work(engine) as session:
        assign(session=session, patient_id=patient, questionnaire="nprs", every_visits=1, actor="admin",
               now=at(26, 8))  # fmt: skip
    for visit, pain, when in ((monday_visit, 6, at(26, 9, 12)), (sunday_visit, 4, at(1, 9, 33, month=11))):
        with unit_of_work(engine) as session:
            answer(session=session, patient_id=patient, appointment_id=visit, questionnaire="nprs", link_id="pain",
                   value=pain, now=when)  # fmt: skip
    _, (heel, squat), token = plan_with_link(engine, first="Lena", active_from=at(26, 8).date(), now=at(26, 8))
    for item, day in ((heel, 26), (heel, 27), (heel, 28), (squat, 26)):
        with unit_of_work(engine) as session:
            tick(session=session, token=token, plan_item_id=item, tz=NY, limit=30, now=at(day, 18))


def build_known_week(engine: Engine) -> None:
    """The whole known week."""
    build_equipment_week(engine)
    build_maintenance(engine)
    build_front_desk_week(engine)
