"""The care pages of the staff app through AppTest: arrivals, patients, appointments, exercises and plans.

Each page's happy path and bad input, every action's effect in the store and its audit entry under the
signed-in username, hostile text shown as typed, and who may open which page.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Engine
from streamlit.testing.v1 import AppTest

from kiosk.staff.kit import bidi_safe
from shared.care.appointments import add_appointment, set_appointment_status
from shared.care.arrivals import day_appointments
from shared.care.cards import active_cards, issue_card
from shared.care.exercises import add_exercise, list_exercises
from shared.care.patients import get_patient, search_patients
from shared.care.plans import add_plan_item, list_plan_items
from shared.store.db import read_session, unit_of_work
from shared.store.settings import Settings
from tests import factories as make
from tests import lobby_steps
from tests.kiosk.staff_app import (
    CARE_PAGES,
    CLINIC_TZ_NAME,
    KIOSK,
    REFUSED,
    add_staff,
    click,
    errors,
    go_idle,
    new_app,
    open_page,
    session_of,
    sign_in,
    successes,
    texts,
)
from tests.pdf_support import pdf_pages, read_qr_codes

pytestmark = pytest.mark.usefixtures("care_env")

HOSTILE = "<img src=x onerror=alert(1)> **bold** [x](javascript:alert(1))"
SQL = "Robert'); DROP TABLE patient;--"
RTL = "\u202eمريم"  # a right-to-left override, then Arabic
RAW_MARKUP = re.compile(r"(?<!\\)<img|(?<!\\)\*(?<!\\)\*bold|(?<!\\)\]\(javascript")


CLINIC_TZ = ZoneInfo(CLINIC_TZ_NAME)
MARKDOWN_ELEMENTS = ("title", "header", "subheader", "success", "info", "warning", "error", "markdown", "caption")


def plain_texts(app: AppTest) -> list[str]:
    """Everything shown as plain text: st.text elements and the cells of every table."""
    out = [str(t.value) for t in app.text]
    for frame in app.dataframe:
        out.extend(str(cell) for cell in frame.value.astype(str).to_numpy().ravel())
    return out


def assert_no_raw_markup(app: AppTest) -> None:
    """No element that renders Markdown carries an unescaped tag, emphasis or link from HOSTILE."""
    for kind in MARKDOWN_ELEMENTS:
        for element in getattr(app, kind):
            value = str(element.value)
            assert not RAW_MARKUP.search(value), (kind, value)


def today_at(hour: int, minute: int = 0) -> datetime:
    return datetime.combine(datetime.now(CLINIC_TZ).date(), time(hour, minute), tzinfo=CLINIC_TZ)


# --- arrivals --------------------------------------------------------------------------------------------------


@pytest.fixture
def todays_visits(engine: Engine) -> dict[str, int]:
    """Today's appointments in every state, and a walk-in who scanned without one; name -> appointment id."""
    out = {}
    for hour, (first, last, status) in enumerate(
        [
            ("Maria", "Gonzalez", "arrived"),
            ("James", "Okafor", "scheduled"),
            ("Sam", "Lee", "in_session"),
            ("Ann", "Park", "done"),
            ("Bob", "Stone", "no_show"),
        ],
        start=8,
    ):
        pid = make.new_patient_id(engine, first, last)
        with unit_of_work(engine) as session:
            booked = add_appointment(
                session=session, patient_id=pid, starts_at=today_at(hour), site="main", clinician="Alex"
            )
        assert booked.id is not None
        if status != "scheduled":
            with unit_of_work(engine) as session:
                set_appointment_status(
                    session=session,
                    appointment_id=booked.id,
                    status=status,
                    now=datetime.now(UTC) - timedelta(minutes=20),
                )
        out[first] = booked.id
    walk_in = make.new_patient_id(engine, "Zed", "Walker")
    settings = Settings(_env_file=None, timezone=CLINIC_TZ_NAME)  # type: ignore[call-arg]
    with unit_of_work(engine) as session:
        scanned = issue_card(session=session, patient_id=walk_in, base_url="https://x").url
    outcome = lobby_steps.check_in(
        engine=engine,
        settings=settings,
        scan=scanned,
    )
    assert outcome.result == "no_appointment"
    return out


def test_arrivals_list_today_in_words_and_warn_about_a_long_wait(engine: Engine, todays_visits: dict[str, int]) -> None:
    add_staff(engine, "tech", "technician")
    app = open_page("tech", "arrivals.py")
    lines = [str(t.value) for t in app.text]
    arrived_at = (datetime.now(CLINIC_TZ) - timedelta(minutes=20)).strftime("%H:%M")
    assert lines[:15] == [
        "08:00\n45 min", "Maria Gonzalez\nwith Alex", f"arrived at {arrived_at}, late (appt 08:00), waiting 20 min",
        "09:00\n45 min", "James Okafor\nwith Alex", "scheduled",
        "10:00\n45 min", "Sam Lee\nwith Alex", "in session",
        "11:00\n45 min", "Ann Park\nwith Alex", "done",
        "12:00\n45 min", "Bob Stone\nwith Alex", "no-show",
    ]  # fmt: skip
    assert [w.value for w in app.warning] == ["Waiting 20 min: longer than 15 min."]
    maria = todays_visits["Maria"]
    assert [b.label for b in app.button if (b.key or "").endswith(f"-{maria}")] == [
        "Start session", "Mark done", "Mark no-show",
    ]  # fmt: skip
    assert [b.label for b in app.button if (b.key or "").endswith(f"-{todays_visits['James']}")] == [
        "Mark arrived", "Start session", "Mark no-show",
    ]  # fmt: skip
    assert not [b for b in app.button if (b.key or "").endswith(f"-{todays_visits['Ann']}")]
    assert app.header[0].value == "Scanned without an appointment today"
    assert lines[15] == "Zed Walker" and re.fullmatch(r"\d\d:\d\d", lines[16]), lines[15:]
    assert not [b for b in app.button if (b.key or "").startswith("scan-walk-in-")], "a technician adds no walk-in"


def test_each_arrivals_action_changes_the_store_and_names_who_did_it(
    engine: Engine, todays_visits: dict[str, int]
) -> None:
    add_staff(engine, "tech", "technician")
    app = open_page("tech", "arrivals.py")
    james, maria, sam = todays_visits["James"], todays_visits["Maria"], todays_visits["Sam"]
    click(app, f"arrivals-arrived-{james}")
    assert successes(app) == ["James Okafor: marked arrived."]
    click(app, f"arrivals-in_session-{maria}")
    click(app, f"arrivals-done-{sam}")
    click(app, f"arrivals-no_show-{james}")
    assert not app.exception and not errors(app)
    with read_session(engine) as session:
        statuses = {r.appointment_id: r.status for r in day_appointments(
            session=session, site="main", tz=CLINIC_TZ, day=datetime.now(CLINIC_TZ).date(),
            now=datetime.now(UTC))}  # fmt: skip
    assert (statuses[james], statuses[maria], statuses[sam]) == ("no_show", "in_session", "done")
    assert [(actor, action, target, detail["to"]) for actor, action, target, detail in make.audit_log(engine)] == [
        ("tech", "appointment.status", f"appointment {james}", "arrived"),
        ("tech", "appointment.status", f"appointment {maria}", "in_session"),
        ("tech", "appointment.status", f"appointment {sam}", "done"),
        ("tech", "appointment.status", f"appointment {james}", "no_show"),
    ]
    assert "Waiting" not in texts(app)  # Maria is in her session now
    assert [str(t.value) for t in app.text][5] == "no-show"


def test_a_button_pressed_after_the_session_timed_out_changes_nothing(
    engine: Engine, todays_visits: dict[str, int]
) -> None:
    add_staff(engine, "tech", "technician")
    app = open_page("tech", "arrivals.py")
    go_idle(engine, app, 31 * 60)
    click(app, f"arrivals-arrived-{todays_visits['James']}")
    assert [t.value for t in app.title] == ["Staff sign-in"]
    assert make.audit_log(engine) == []


# --- patients --------------------------------------------------------------------------------------------------


def add_via_form(app: AppTest, first: str, last: str, dob: str, phone: str = "") -> AppTest:
    app.text_input(key="add_first").set_value(first)
    app.text_input(key="add_last").set_value(last)
    app.text_input(key="add_dob").set_value(dob)
    app.text_input(key="add_phone").set_value(phone)
    return click(app, "add_patient_submit")


def test_add_find_edit_a_patient_and_issue_and_revoke_a_card(engine: Engine) -> None:
    add_staff(engine, "desk", "front_desk")
    app = open_page("desk", "patients.py")
    add_via_form(app, " Maria ", "Gonzalez", "1950-04-17", "555 0101")
    assert not errors(app)
    maria = int(successes(app)[0].split("#")[1].rstrip("."))
    assert successes(app) == [f"Added Maria Gonzalez as patient #{maria}."]
    assert app.text_input(key="patients_search").value == f"#{maria}", "the new patient is opened"
    assert list(app.dataframe[0].value["Last name"]) == ["Gonzalez"]
    app.text_input(key=f"edit_last_{maria}").set_value("Gonzalez Ruiz")
    app.text_input(key=f"edit_phone_{maria}").set_value("")
    click(app, f"edit_save_{maria}")
    assert successes(app) == [f"Saved the changes to patient #{maria}."]
    with read_session(engine) as session:
        saved = get_patient(session=session, patient_id=maria)
    assert (saved.last_name, saved.phone, saved.dob) == ("Gonzalez Ruiz", None, date(1950, 4, 17))

    click(app, f"issue_card_{maria}")
    assert successes(app) == [f"New card for patient #{maria}; older cards no longer work."]
    with read_session(engine) as session:
        assert active_cards(session=session, patient_id=maria) == 1
    previews = [m.value for m in app.markdown if m.value.startswith("<img")]
    assert len(previews) == 1 and f'alt="The new check-in card of patient #{maria}: a QR code' in previews[0]
    assert [b.label for b in app.download_button] == ["Download the card (PNG)", "Print card (PDF)"]
    [printed] = pdf_pages(app.session_state["patients_new_card"][2])
    assert (round(printed.width_mm, 1), round(printed.height_mm, 1)) == (85.7, 54.0)
    [code] = read_qr_codes(printed.image)
    assert code.text.startswith("http://localhost:8501/?t=")
    assert "?t=" not in texts(app) and "?t=" not in " ".join(plain_texts(app)), "no token outside the card"

    click(app, f"revoke_cards_{maria}")
    assert successes(app) == [f"Revoked 1 card(s) of patient #{maria}."]
    with read_session(engine) as session:
        assert active_cards(session=session, patient_id=maria) == 0
    assert not [m for m in app.markdown if m.value.startswith("<img")], "the revoked card is no longer shown"
    assert not app.download_button, "nor offered"
    assert [(a, action) for a, action, _, _ in make.audit_log(engine)] == [
        ("desk", "patient.add"), ("desk", "patient.update"), ("desk", "patient.card_issued"),
        ("desk", "patient.cards_revoked"),
    ]  # fmt: skip


def test_a_bad_new_patient_is_refused_with_the_reason(engine: Engine) -> None:
    add_staff(engine, "desk", "front_desk")
    app = open_page("desk", "patients.py")
    for first, dob, message in (
        ("", "1950-04-17", "First name must not be empty"),
        ("Maria", "17/04/1950", "Date of birth '17/04/1950' is not a date like 1950-04-17"),
        ("Maria", "", "Date of birth '' is not a date like 1950-04-17"),
        ("Maria", "2999-01-01", "Date of birth 2999-01-01 is not a plausible birth date"),
    ):
        add_via_form(app, first, "Gonzalez", dob)
        assert errors(app) == [message]
        assert not successes(app)
    assert make.audit_log(engine) == []
    app.text_input(key="patients_search").set_value("Gonzalez")
    assert "No patient matches that search." in texts(app.run())


def test_a_bad_edit_is_refused_and_changes_nothing(engine: Engine) -> None:
    add_staff(engine, "desk", "front_desk")
    maria = make.new_patient_id(engine, "Maria", "Gonzalez")
    app = open_page("desk", "patients.py")
    app.text_input(key="patients_search").set_value("gonz")
    app.run()
    app.text_input(key=f"edit_dob_{maria}").set_value("1950-13-01")
    click(app, f"edit_save_{maria}")
    assert errors(app) == ["Date of birth '1950-13-01' is not a date like 1950-04-17"]
    with read_session(engine) as session:
        assert get_patient(session=session, patient_id=maria).dob == date(1950, 4, 17)


def test_hostile_names_are_stored_and_shown_exactly_as_typed(engine: Engine) -> None:
    add_staff(engine, "desk", "front_desk")
    app = open_page("desk", "patients.py")
    for name in (HOSTILE, SQL, RTL, "Ω" * 100):
        add_via_form(app, name, "Gonzalez", "1950-04-17")
        assert not errors(app)
        pid = int(successes(app)[0].rsplit("#", 1)[1].rstrip("."))
        with read_session(engine) as session:
            stored = get_patient(session=session, patient_id=pid)
        assert (stored.first_name, stored.last_name) == (name, "Gonzalez")
        assert name in plain_texts(app), "in the table of matches, as typed"
        assert successes(app) == [f"Added {bidi_safe(name + ' Gonzalez')} as patient #{pid}."]
        assert_no_raw_markup(app)
    with read_session(engine) as session:
        assert len(search_patients(session=session, text="gonzalez")) == 4, "the SQL was data, not a statement"


def test_a_very_long_name_is_cut_at_the_fields_limit(engine: Engine) -> None:
    add_staff(engine, "desk", "front_desk")
    app = add_via_form(open_page("desk", "patients.py"), "x" * 5000, "Gonzalez", "1950-04-17")
    assert not errors(app)  # the field takes 100 characters, as the browser's does; the service refuses more
    with read_session(engine) as session:
        assert [p.first_name for p in search_patients(session=session, text="gonzalez")] == ["x" * 100]


# --- appointments ----------------------------------------------------------------------------------------------


def test_a_days_appointments_are_listed_and_the_date_picker_changes_the_day(engine: Engine) -> None:
    add_staff(engine, "desk", "front_desk")
    maria, james = make.new_patient_id(engine, "Maria", "Gonzalez"), make.new_patient_id(engine, "James", HOSTILE)
    with unit_of_work(engine) as session:
        add_appointment(session=session, patient_id=maria, starts_at=today_at(9, 30), site="main", clinician="Alex")
    with unit_of_work(engine) as session:
        add_appointment(
            session=session, patient_id=james, starts_at=today_at(11) + timedelta(days=1), site="main", minutes=30
        )
    app = open_page("desk", "appointments.py")
    table = app.dataframe[0].value
    assert table[["Time", "Minutes", "Patient", "Clinician", "Status"]].values.tolist() == [
        ["09:30", 45, "Maria Gonzalez", "Alex", "scheduled"]
    ]
    app.date_input(key="appointments_day").set_value(datetime.now(CLINIC_TZ).date() + timedelta(days=1))
    app.run()
    assert app.dataframe[0].value[["Time", "Patient"]].values.tolist() == [["11:00", f"James {HOSTILE}"]]
    assert_no_raw_markup(app)


def book(app: AppTest, search: str, clock: str, minutes: int = 30, clinician: str = "Alex") -> AppTest:
    app.text_input(key="book_search").set_value(search)
    app.run()
    app.text_input(key="book_time").set_value(clock)
    app.number_input(key="book_minutes").set_value(minutes)
    app.text_input(key="book_clinician").set_value(clinician)
    return click(app, "book_submit")


def test_booking_an_appointment_and_a_bad_time(engine: Engine) -> None:
    add_staff(engine, "desk", "front_desk")
    maria = make.new_patient_id(engine, "Maria", "Gonzalez")
    app = book(open_page("desk", "appointments.py"), "maria", "25:99")
    assert errors(app) == ["Time '25:99' is not like 10:30, 3pm, 3:30 pm or 2026-11-23 10:30"]
    app = book(app, "maria", "14:15")
    assert not errors(app)
    assert successes(app)[0].startswith("Booked appointment #")
    today = datetime.now(CLINIC_TZ).date()
    with read_session(engine) as session:
        rows = day_appointments(session=session, site="main", tz=CLINIC_TZ, day=today, now=datetime.now(UTC))
    assert [(r.patient_id, r.starts_at, r.minutes, r.clinician) for r in rows] == [
        (maria, today_at(14, 15), 30, "Alex")
    ]
    assert app.dataframe[-1].value["Time"].tolist() == ["14:15"]
    assert [(a, action) for a, action, _, _ in make.audit_log(engine)] == [("desk", "appointment.add")]


def test_changing_an_appointment(engine: Engine) -> None:
    add_staff(engine, "desk", "front_desk")
    maria = make.new_patient_id(engine, "Maria", "Gonzalez")
    with unit_of_work(engine) as session:
        booked = add_appointment(
            session=session, patient_id=maria, starts_at=today_at(9), site="main", clinician="Alex"
        )
    aid = booked.id
    app = open_page("desk", "appointments.py")
    app.text_input(key=f"change_time_{aid}").set_value("09:45")
    app.number_input(key=f"change_minutes_{aid}").set_value(60)
    app.text_input(key=f"change_clinician_{aid}").set_value("Sam")
    app.selectbox(key=f"change_status_{aid}").set_value("arrived")
    click(app, f"change_submit_{aid}")
    assert successes(app) == [f"Saved the changes to appointment #{aid}."]
    with read_session(engine) as session:
        row = day_appointments(
            session=session, site="main", tz=CLINIC_TZ, day=today_at(0).date(), now=datetime.now(UTC)
        )[0]
    assert (row.starts_at, row.minutes, row.clinician, row.status) == (today_at(9, 45), 60, "Sam", "arrived")
    assert row.arrived_at is not None
    assert make.audit_log(engine)[-1][:3] == ("desk", "appointment.update", f"appointment {aid}")
    app.number_input(key=f"change_minutes_{aid}").set_value(5)
    app.text_input(key=f"change_time_{aid}").set_value("9h45")
    click(app, f"change_submit_{aid}")
    assert errors(app) == ["Time '9h45' is not like 10:30, 3pm, 3:30 pm or 2026-11-23 10:30"]


def upload(app: AppTest, content: bytes) -> AppTest:
    app.file_uploader(key="appointments_csv").set_value(("export.csv", content, "text/csv"))
    app.run()
    return click(app, "appointments_import")


def test_importing_a_csv_all_or_nothing(engine: Engine) -> None:
    add_staff(engine, "desk", "front_desk")
    maria, james = make.new_patient_id(engine, "Maria", "Gonzalez"), make.new_patient_id(engine, "James", "Okafor")
    app = open_page("desk", "appointments.py")
    bad = f"patient_id,start,minutes,clinician\n{maria},10:00,30,Alex\n{james},10:30,three,Sam\n".encode()
    upload(app, bad)
    assert errors(app) == ["Line 3: minutes 'three' is not a whole number; nothing was imported"]
    assert make.audit_log(engine) == []
    upload(app, b"\xff\xfe not utf-8")
    assert errors(app) == ["The file is not UTF-8 text: save it as 'CSV UTF-8'"]
    good = f"\ufeffpatient_id,start,minutes,clinician\n{maria},10:00,30,Alex\n{james},10:30,,\n".encode()
    upload(app, good)
    assert successes(app) == ["Imported 2 appointment(s)."]
    with read_session(engine) as session:
        rows = day_appointments(
            session=session, site="main", tz=CLINIC_TZ, day=today_at(0).date(), now=datetime.now(UTC)
        )
    assert [(r.patient_name, r.minutes) for r in rows] == [("Maria Gonzalez", 30), ("James Okafor", 45)]
    assert make.audit_log(engine) == [("desk", "appointment.import", "site main", {"imported": 2})]
    click(app, "appointments_import")
    assert errors(app) == ["This file was imported already; upload it again to import it a second time"]
    with read_session(engine) as session:
        assert (
            len(
                day_appointments(
                    session=session, site="main", tz=CLINIC_TZ, day=today_at(0).date(), now=datetime.now(UTC)
                )
            )
            == 2
        )


# --- exercises and plans ---------------------------------------------------------------------------------------


def test_the_exercise_library_add_edit_and_bad_names(engine: Engine) -> None:
    add_staff(engine, "boss", "admin")
    app = open_page("boss", "plans.py")
    assert "The library is empty: add the first exercise below." in texts(app)
    app.text_input(key="exercise_add_name").set_value("  ")
    click(app, "exercise_add_submit")
    assert errors(app) == ["Exercise name must be 1 to 120 characters"]
    app.text_input(key="exercise_add_name").set_value("Heel raises")
    app.text_area(key="exercise_add_instructions").set_value("Rise onto your toes.")
    click(app, "exercise_add_submit")
    assert successes(app) == ["Added Heel raises to the library."]
    click(app, "exercise_add_submit")
    assert errors(app) == ["An exercise named 'Heel raises' is already in the library; edit that one"]
    with read_session(engine) as session:
        heel = list_exercises(session=session)[0]
    app.text_input(key=f"exercise_name_{heel.id}").set_value("Calf raises")
    app.text_input(key=f"exercise_kind_{heel.id}").set_value("step")
    click(app, f"exercise_save_{heel.id}")
    assert successes(app) == ["Saved the exercise; plans that use it show the change."]
    with read_session(engine) as session:
        edited = list_exercises(session=session)[0]
    assert (edited.name, edited.instructions, edited.equipment_kind) == ("Calf raises", "Rise onto your toes.", "step")
    assert app.dataframe[0].value["Exercise"].tolist() == ["Calf raises"]
    assert [(a, action) for a, action, _, _ in make.audit_log(engine)] == [("boss", "exercise.add"),
                                                                      ("boss", "exercise.update")]  # fmt: skip


@pytest.fixture
def maria_plan(engine: Engine) -> int:
    """Maria with Bridges then Heel raises since last week; the library also has Treadmill walk."""
    maria = make.new_patient_id(engine, "Maria", "Gonzalez")
    for name in ("Bridges", "Heel raises", "Treadmill walk"):
        with unit_of_work(engine) as session:
            add_exercise(session=session, name=name)
    week_ago = datetime.now(CLINIC_TZ).date() - timedelta(days=7)
    with unit_of_work(engine) as session:
        add_plan_item(session=session, patient_id=maria, exercise="Bridges", sets=3, reps=12, active_from=week_ago)
    with unit_of_work(engine) as session:
        add_plan_item(session=session, patient_id=maria, exercise="Heel raises", sets=2, reps=10, active_from=week_ago)
    return maria


def open_plan(username: str, search: str) -> AppTest:
    app = open_page(username, "plans.py")
    app.text_input(key="plan_search").set_value(search)
    return app.run()


def plan_names(engine: Engine, patient_id: int) -> list[str]:
    with read_session(engine) as session:
        return [
            r.exercise
            for r in list_plan_items(session=session, patient_id=patient_id, today=datetime.now(CLINIC_TZ).date())
        ]


def test_a_plan_line_is_added_edited_moved_and_ended(engine: Engine, maria_plan: int) -> None:
    add_staff(engine, "boss", "admin")
    app = open_plan("boss", "gonzalez")
    assert [str(t.value) for t in app.text][1::3] == ["Bridges: 3 x 12", "Heel raises: 2 x 10"]
    form = f"plan_add_{maria_plan}"
    app.selectbox(key=f"{form}_exercise").set_value("Treadmill walk")
    app.number_input(key=f"{form}_minutes").set_value(10.0)
    app.text_input(key=f"{form}_notes").set_value("easy pace")
    click(app, f"{form}_submit")
    assert successes(app) == ["Added Treadmill walk to the plan."]
    assert plan_names(engine, maria_plan) == ["Bridges", "Heel raises", "Treadmill walk"]
    assert "Treadmill walk: 10 min\nNotes: easy pace" in [str(t.value) for t in app.text]

    with read_session(engine) as session:
        walk = list_plan_items(session=session, patient_id=maria_plan)[2]
    click(app, f"plan_up_{walk.id}")
    assert plan_names(engine, maria_plan) == ["Bridges", "Treadmill walk", "Heel raises"]
    with read_session(engine) as session:
        bridges = list_plan_items(session=session, patient_id=maria_plan)[0]
    click(app, f"plan_down_{bridges.id}")
    assert plan_names(engine, maria_plan) == ["Treadmill walk", "Bridges", "Heel raises"]
    assert app.button(key=f"plan_up_{walk.id}").disabled, "the first line cannot go up"

    app.selectbox(key="plan_edit_pick").set_value(bridges.id)
    app.run()
    app.number_input(key=f"plan_edit_{bridges.id}_sets").set_value(4)
    app.text_input(key=f"plan_edit_{bridges.id}_load").set_value("2 kg")
    click(app, f"plan_edit_{bridges.id}_submit")
    assert successes(app) == ["Saved line 2."]
    with read_session(engine) as session:
        edited = list_plan_items(session=session, patient_id=maria_plan)[1]
    assert (edited.exercise, edited.dose) == ("Bridges", "4 x 12, 2 kg")

    click(app, f"plan_end_{bridges.id}")
    assert successes(app) == ["Ended Bridges: it no longer shows."]
    assert plan_names(engine, maria_plan) == ["Treadmill walk", "Heel raises"]
    with read_session(engine) as session:
        assert list_plan_items(session=session, patient_id=maria_plan)[1].active_to == datetime.now(
            CLINIC_TZ
        ).date() - timedelta(days=1)
    assert not any(str(t.value).startswith("Bridges") for t in app.text)
    assert [action for _, action, _, _ in make.audit_log(engine)] == [
        "plan.add", "plan.move", "plan.move", "plan.update", "plan.end",
    ]  # fmt: skip
    assert {actor for actor, _, _, _ in make.audit_log(engine)} == {"boss"}


def test_bad_plan_lines_are_refused(engine: Engine, maria_plan: int) -> None:
    add_staff(engine, "boss", "admin")
    app = open_plan("boss", "maria")
    form = f"plan_add_{maria_plan}"
    click(app, f"{form}_submit")
    assert errors(app) == ["Choose an exercise for the line"]
    app.selectbox(key=f"{form}_exercise").set_value("Bridges")
    app.date_input(key=f"{form}_to").set_value(datetime.now(CLINIC_TZ).date() - timedelta(days=1))
    click(app, f"{form}_submit")
    assert errors(app) == ["The plan cannot end before it starts"]
    assert plan_names(engine, maria_plan) == ["Bridges", "Heel raises"]
    assert make.audit_log(engine) == []


# --- who may open which page -----------------------------------------------------------------------------------

ALLOWED = {
    "technician": {"arrivals.py"},
    "front_desk": {"arrivals.py", "patients.py", "appointments.py"},
    "admin": set(CARE_PAGES),
}


@pytest.mark.parametrize("role", sorted(ALLOWED))
def test_each_role_reaches_its_care_pages_and_no_other(engine: Engine, role: str) -> None:
    add_staff(engine, "someone", role)
    app = sign_in(new_app(), "someone")
    for page in CARE_PAGES:
        if page in ALLOWED[role]:
            app.switch_page(f"screens/{page}").run()
            assert not app.exception, (page, app.exception)
            assert [t.value for t in app.title] == [CARE_PAGES[page]]
            assert REFUSED not in errors(app)
        else:  # hidden from the navigation; opened anyway, the page refuses
            app.switch_page(f"screens/{page}").run()
            assert not app.exception, (page, app.exception)
            assert errors(app) == [REFUSED] and not app.title


@pytest.mark.parametrize("role", ["technician", "front_desk"])
def test_a_care_page_itself_refuses_a_role_that_may_not_use_it(engine: Engine, role: str) -> None:
    """Opened directly (as a stale link or a changed role would), the page checks the role itself."""
    add_staff(engine, "someone", role)
    make.new_patient_id(engine, "Maria", "Gonzalez")
    for page in sorted(set(CARE_PAGES) - ALLOWED[role]):
        direct = AppTest.from_file(str(KIOSK / "screens" / page), default_timeout=30)
        session_of(engine, direct, "someone")
        direct.run()
        assert not direct.exception
        assert errors(direct) == [REFUSED], page
        assert len(direct.main.children) == 1, "nothing else of the page"
        assert "Maria" not in texts(direct)


def test_right_to_left_text_cannot_reorder_the_words_around_it() -> None:
    assert bidi_safe("Maria Gonzalez") == "Maria Gonzalez"
    assert bidi_safe("\u202eمريم (x)") == "\u2068مريم (x)\u2069", "the override is dropped, the name isolated"
    assert bidi_safe("a\u2069\u202eb") == "\u2068ab\u2069", "a closing isolate inside cannot break out"
