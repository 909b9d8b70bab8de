"""The staff app's side of the clinic workflow through AppTest: the board's "Clean next" queue (who needs which
station and when, cleaning from the queue, the contact-time countdown), and on arrivals the patients' feedback
(high pain highlighted), waiting alerts after CLINIC_WAITING_ALERT_MIN, and when a waiting patient asked."""

from __future__ import annotations

import json
import re
from datetime import UTC, date, datetime, timedelta

import pytest
import streamlit as st
from sqlalchemy import Engine
from streamlit.testing.v1 import AppTest

from kiosk import resources
from shared.care.appointments import add_appointment, set_appointment_status
from shared.care.arrivals import note_waiting_patient
from shared.care.exercises import add_exercise
from shared.care.feedback import record_feedback
from shared.care.patients import add_patient
from shared.care.plans import add_plan_item
from shared.equipment.events import Decoded
from shared.equipment.ingest import record_batch
from shared.equipment.payloads import decode
from shared.equipment.stations import get_station, register_equipment
from shared.staff.audit import recent_audit
from shared.store.db import read_session, unit_of_work
from shared.store.settings import get_settings
from tests.kiosk.staff_app import (
    STAFF,
    add_staff,
    errors,
    sign_in,
    signed_in,
    texts,
)

pytestmark = pytest.mark.usefixtures("clock", "staff_env")  # midday of a fixed day: no test depends on the hour
HOSTILE = "<img src=x onerror=alert(1)> **Walk**"
QUEUE_STATUS = re.compile(r"id='next-status-([^']+)'><span [^>]*>([^<]*)</span>")


def hh_mm(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%H:%M")


def patient(engine: Engine, first: str, last: str, starts_at: datetime, status: str, *, arrived_min_ago: float = 20,
            stations: tuple[str, ...] = ()) -> tuple[int, int]:  # fmt: skip
    """A patient booked at `starts_at` whose appointment is at `status`, with a plan on `stations`."""
    with unit_of_work(engine) as session:
        created = add_patient(session=session, first=first, last=last, dob=date(1950, 4, 17))
    assert created.id is not None
    with unit_of_work(engine) as session:
        booked = add_appointment(
            session=session, patient_id=created.id, starts_at=starts_at, site="main", clinician="Alex"
        )
    assert booked.id is not None
    if status != "scheduled":
        with unit_of_work(engine) as session:
            set_appointment_status(
                session=session,
                appointment_id=booked.id,
                status=status,
                now=datetime.now(UTC) - timedelta(minutes=arrived_min_ago),
            )
    for station in stations:
        with unit_of_work(engine) as session:
            add_plan_item(session=session, patient_id=created.id, exercise=HOSTILE, equipment_id=station,
                          active_from=date.today() - timedelta(days=1))  # fmt: skip
    return created.id, booked.id


def used(equipment_id: str, stopped_min_ago: float) -> list[Decoded]:
    stopped = datetime.now(UTC) - timedelta(minutes=stopped_min_ago)
    out = []
    for event, at in (("start", stopped - timedelta(minutes=10)), ("stop", stopped)):
        body = json.dumps({"event_id": f"{equipment_id}-{event}", "event": event, "ts": at.isoformat()}).encode()
        out.append(decode(f"clinic/main/equipment/{equipment_id}/usage", body, prefix="clinic", received_at=at))
    return out


def queue(app: AppTest) -> list[tuple[str, str]]:
    """(station id, status words) of the "Clean next" rows, in order."""
    found: list[tuple[str, str]] = []
    for block in app.markdown:
        found.extend(QUEUE_STATUS.findall(block.value))
    return found


# --- Clean next --------------------------------------------------------------------------------------------------


@pytest.fixture
def busy_gym(engine: Engine) -> dict[str, datetime]:
    """Maria checked in (treadmill), James starting in 30 min (bars), a bike waiting longest that nobody needs
    soon, and Ruth starting in 3 hours (stairs); every one of these stations needs cleaning."""
    with unit_of_work(engine) as session:
        add_exercise(session=session, name=HOSTILE)
    for station, name in (("tm-1", "Treadmill 1"), ("bike-1", "Bike 1"), ("bars-1", "Parallel bars"),
                          ("stairs-1", "Stairs")):  # fmt: skip
        with unit_of_work(engine) as session:
            register_equipment(session=session, site="main", equipment_id=station, name=name, zone="Gym A")
    now = datetime.now(UTC).replace(second=0, microsecond=0)
    times = {
        "Maria": now + timedelta(minutes=5),
        "James": now + timedelta(minutes=30),
        "Ruth": now + timedelta(hours=3),
    }
    patient(engine, "Maria", "Gonzalez", times["Maria"], "arrived", stations=("tm-1",))
    patient(engine, "James", "Okafor", times["James"], "scheduled", stations=("bars-1",))
    patient(engine, "Ruth", "Lindqvist", times["Ruth"], "scheduled", stations=("stairs-1",))
    uses = [*used("tm-1", 2), *used("bars-1", 10), *used("bike-1", 50), *used("stairs-1", 5)]
    record_batch(engine=engine, items=uses, tz=UTC)
    add_staff(engine, "ana", "technician", "Ana K.")
    return times


def test_clean_next_lists_what_checked_in_patients_need_first_then_soon_then_the_longest_waiting(
    busy_gym: dict[str, datetime],
) -> None:
    app = signed_in("ana")
    assert app.header[0].value == "Clean next"
    assert [station for station, _ in queue(app)] == ["tm-1", "bars-1", "bike-1", "stairs-1"]
    rows = "\n".join(m.value for m in app.markdown)  # each queue row: its number, name and who needs it
    assert f"Needed by Maria G., {hh_mm(busy_gym['Maria'])} (checked in)" in rows
    assert re.search(rf"Needed by James O\., {hh_mm(busy_gym['James'])} \(in (29|30) min\)", rows)
    assert "Nobody booked needs it soon; waiting 50 min" in rows
    assert "Gonzalez" not in texts(app), "first name and last initial, as in the lobby"
    assert [b.proto.type for b in app.button if (b.key or "").startswith("next-clean-")] == [
        "primary", "secondary", "secondary", "secondary",
    ]  # fmt: skip


def test_cleaning_from_the_queue_starts_the_contact_time_countdown(
    engine: Engine, busy_gym: dict[str, datetime]
) -> None:
    app = signed_in("ana")
    app.button(key="next-clean-tm-1").click()
    app.run()
    assert not app.exception and not errors(app)
    with read_session(engine) as session:
        assert get_station(session=session, site="main", equipment_id="tm-1", tz=UTC).last_cleaned_by == "ana"
        entry = recent_audit(session=session, limit=1)[0]
    assert (entry.actor, entry.action, entry.target) == ("ana", "equipment.cleaned", "main/tm-1")
    assert queue(app)[0] == ("tm-1", "cleaning, ready in 2 min"), "still listed: Maria waits for the contact time"
    assert [b.disabled for b in app.button if b.key == "next-clean-tm-1"] == [True], "nothing to do but wait"
    assert 'id=\'status-tm-1\'><span class="kiosk-badge" style="background:#1f4e8c">cleaning, ready in 2 min' in (
        "\n".join(m.value for m in app.markdown)
    )


def test_an_empty_queue_says_so(engine: Engine) -> None:
    with unit_of_work(engine) as session:
        register_equipment(session=session, site="main", equipment_id="tm-1", name="Treadmill 1")
    add_staff(engine, "ana", "technician")
    app = signed_in("ana")
    assert "Nothing waits to be cleaned." in [c.value for c in app.caption]
    assert not queue(app)


# --- arrivals ----------------------------------------------------------------------------------------------------


@pytest.fixture
def day(engine: Engine) -> dict[str, int]:
    """Maria waiting 20 min who asked at the lobby, Sam done in pain (8, too hard), Ann in session (3, easy);
    name -> appointment id."""
    with unit_of_work(engine) as session:
        add_exercise(session=session, name=HOSTILE)
    with unit_of_work(engine) as session:
        register_equipment(session=session, site="main", equipment_id="tm-1", name="Treadmill 1")
    # Booked for 20 min ago and arrived then: the wait counts from the later of the two. (The `clock` fixture
    # puts the day at midday, so the booking is today whatever the hour the suite runs at.)
    start = datetime.now(UTC).replace(second=0, microsecond=0) - timedelta(minutes=20)
    _, maria = patient(engine, "Maria", "Gonzalez", start, "arrived")
    sam_id, sam = patient(engine, "Sam", "Whitfield", start - timedelta(minutes=1), "done")
    ann_id, ann = patient(engine, "Ann", "Park", start - timedelta(minutes=2), "in_session")
    with unit_of_work(engine) as session:
        assert note_waiting_patient(session=session, appointment_id=maria, limit_min=15, now=datetime.now(UTC))
    with unit_of_work(engine) as session:
        record_feedback(session=session, appointment_id=sam, patient_id=sam_id, pain=8, difficulty="too_hard",
                        exercises={HOSTILE: "too_hard"})  # fmt: skip
    with unit_of_work(engine) as session:
        record_feedback(session=session, appointment_id=ann, patient_id=ann_id, pain=3, difficulty="easy")
    add_staff(engine, "tech", "technician")
    return {"Maria": maria, "Sam": sam, "Ann": ann}


def arrivals(username: str) -> AppTest:
    app = sign_in(AppTest.from_file(STAFF, default_timeout=30).run(), username)
    app.switch_page("screens/arrivals.py").run()
    assert not app.exception, app.exception
    assert [t.value for t in app.title] == ["Arrivals"]
    return app


def test_arrivals_show_feedback_with_high_pain_highlighted_and_when_a_waiting_patient_asked(
    day: dict[str, int],
) -> None:
    app = arrivals("tech")
    now = datetime.now(UTC)
    lines = [str(t.value) for t in app.text]
    maria = next(line for line in lines if line.startswith("arrived at "))
    assert re.fullmatch(r"arrived at \d\d:\d\d, waiting 20 min; asked at \d\d:\d\d", maria), maria
    assert maria.endswith(f"asked at {hh_mm(now)}") or maria.endswith(f"asked at {hh_mm(now - timedelta(minutes=1))}")
    assert [w.value for w in app.warning] == ["Waiting 20 min: longer than 15 min."]
    assert len(app.error) == 1
    high = errors(app)[0]
    assert re.fullmatch(r"Feedback at \d\d:\d\d: pain 8/10, too hard\. High pain: check with the patient before "
                        r"they leave\.", high), high  # fmt: skip
    assert [re.sub(r"\d\d:\d\d", "HH:MM", str(i.value).replace("\\", "")) for i in app.info] == [
        "Feedback at HH:MM: pain 3/10, easy"
    ]
    assert f"{HOSTILE}: too hard" in lines, "exercise names as typed, as plain text"
    assert "<img" not in "\n".join(str(m.value) for m in (*app.markdown, *app.error, *app.info))


def set_waiting_alert(monkeypatch: pytest.MonkeyPatch, minutes: int) -> None:
    """A new setting, read afresh by the app (its pooled connections closed first)."""
    monkeypatch.setenv("CLINIC_WAITING_ALERT_MIN", str(minutes))
    resources.engine().dispose()
    st.cache_resource.clear()
    get_settings.cache_clear()


def test_the_waiting_alert_follows_the_setting(monkeypatch: pytest.MonkeyPatch, day: dict[str, int]) -> None:
    set_waiting_alert(monkeypatch, 30)
    app = arrivals("tech")
    assert not app.warning, "20 min is not longer than 30"
    set_waiting_alert(monkeypatch, 10)
    assert [w.value for w in arrivals("tech").warning] == ["Waiting 20 min: longer than 10 min."]
