"""A walk-in from Arrivals in one step (AppTest): from the no-appointment scans, a name search, or a new
patient; each is arrived at once, audited under the user, and a refusal keeps what was typed."""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import Engine
from streamlit.testing.v1 import AppTest

from shared.care.arrivals import todays_arrivals, todays_walk_ins
from shared.care.cards import issue_card
from shared.care.patients import add_patient, search_patients
from shared.staff.audit import recent_audit
from shared.store.db import read_session, unit_of_work
from shared.store.settings import Settings
from tests import lobby_steps
from tests.kiosk.staff_app import STAFF, add_staff, errors, sign_in, successes


def arrivals(username: str) -> AppTest:
    app = sign_in(AppTest.from_file(STAFF, default_timeout=30).run(), username)
    app.switch_page("screens/arrivals.py").run()
    assert not app.exception, app.exception
    assert [t.value for t in app.title] == ["Arrivals"]
    return app


def arrived(engine: Engine) -> list[tuple[str, str]]:
    with read_session(engine) as session:
        return [
            (r.patient_name, r.status)
            for r in todays_arrivals(session=session, site="main", tz=UTC, now=datetime.now(UTC))
        ]


def test_a_patient_who_scanned_without_an_appointment_is_checked_in_from_their_row(
    engine: Engine,
    staff_env: object,
) -> None:
    with unit_of_work(engine) as session:
        zed = add_patient(session=session, first="Zed", last="Walker", dob=date(1980, 5, 5))
    assert zed.id is not None
    settings = Settings(_env_file=None, timezone="UTC")  # type: ignore[call-arg]
    with unit_of_work(engine) as session:
        scanned = issue_card(session=session, patient_id=zed.id, base_url="https://x").url
    assert lobby_steps.check_in(
        engine=engine,
        settings=settings,
        scan=scanned,
    ).result == ("no_appointment")
    add_staff(engine, "desk", "front_desk")
    app = arrivals("desk")
    app.button(key=f"scan-walk-in-{zed.id}").click()
    app.run()
    assert not app.exception and not errors(app)
    assert successes(app) == ["Zed Walker is checked in as a walk-in."]
    assert arrived(engine) == [("Zed Walker", "arrived")]
    with read_session(engine) as session:
        assert todays_walk_ins(session=session, site="main", tz=UTC, now=datetime.now(UTC)) == []
    assert "Nobody waiting to be sorted out." in [c.value for c in app.caption]
    with read_session(engine) as session:
        assert recent_audit(session=session)[0].actor == "desk"


def test_a_known_patient_found_by_name_is_checked_in_with_one_button(
    engine: Engine,
    staff_env: object,
) -> None:
    with unit_of_work(engine) as session:
        add_patient(session=session, first="Maria", last="Gonzalez", dob=date(1950, 4, 17))
    add_staff(engine, "desk", "front_desk")
    app = arrivals("desk")
    assert app.button(key="walk_in_check_in").disabled, "nothing chosen yet"
    app.text_input(key="walk_in_search").input("gonz").run()
    app.button(key="walk_in_check_in").click()
    app.run()
    assert successes(app) == ["Maria Gonzalez is checked in as a walk-in."]
    assert arrived(engine) == [("Maria Gonzalez", "arrived")]
    app.text_input(key="walk_in_search").input("gonz").run()
    app.button(key="walk_in_check_in").click()
    app.run()
    assert errors(app)[0].startswith("Maria Gonzalez is already checked in since ")
    assert arrived(engine) == [("Maria Gonzalez", "arrived")]


def test_a_new_patient_is_added_and_checked_in_and_a_refusal_keeps_the_fields(
    engine: Engine,
    staff_env: object,
) -> None:
    add_staff(engine, "desk", "front_desk")
    app = arrivals("desk")
    app.text_input(key="walk_in_first").input("Ada")
    app.text_input(key="walk_in_last").input("Lovelace")
    app.text_input(key="walk_in_dob").input("10 December 1952")
    app.button(key="walk_in_add").click()
    app.run()
    assert errors(app) and "date of birth" in errors(app)[0]
    assert app.text_input(key="walk_in_first").value == "Ada", "what was typed is kept"
    with read_session(engine) as session:
        assert search_patients(session=session, text="lovelace") == []
    app.text_input(key="walk_in_dob").input("1952-12-10")
    app.button(key="walk_in_add").click()
    app.run()
    with read_session(engine) as session:
        [ada] = search_patients(session=session, text="lovelace")
    assert successes(app) == [f"Added Ada Lovelace as patient #{ada.id} and checked them in as a walk-in."]
    assert arrived(engine) == [("Ada Lovelace", "arrived")]
    assert app.text_input(key="walk_in_first").value == ""


def test_a_technician_sees_no_walk_in_panel(engine: Engine, staff_env: object) -> None:
    add_staff(engine, "tech", "technician")
    app = arrivals("tech")
    assert "Walk-in" not in [s.value for s in app.header]
    assert not [b for b in app.button if (b.key or "").startswith("walk_in")]
