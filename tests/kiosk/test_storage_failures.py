"""When the store cannot be written, the lobby and the staff app say so plainly: never Streamlit's error box.

The failure is real: another connection holds SQLite's write lock for longer than the (shortened) busy timeout,
exactly what a stuck writer does, so every write ends in "database is locked".
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.engine import make_url

from kiosk.failsafe import PATIENT_SORRY, STAFF_SORRY
from shared.care.models import Appointment
from shared.store import db
from tests.factories import DOB
from tests.kiosk.lobby_app import enter_dob, scan, texts
from tests.kiosk.lobby_app import new_app as new_lobby
from tests.kiosk.staff_app import add_staff, errors, new_app, sign_in

pytestmark = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)


@pytest.fixture(autouse=True)
def short_busy_timeout(monkeypatch: pytest.MonkeyPatch) -> None:
    """Writers give up on a held lock after 0.3 s instead of 10 s (the app's engine is built after this)."""
    monkeypatch.setattr(db, "SQLITE_BUSY_TIMEOUT_MS", 300)


@contextmanager
def write_locked(db_url: str) -> Iterator[None]:
    """Hold the store's write lock, as a stuck writer would."""
    holder = sqlite3.connect(str(make_url(db_url).database), isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        yield
    finally:
        holder.execute("ROLLBACK")
        holder.close()


def _start_again_from_the_birth_date(app):  # type: ignore[no-untyped-def]
    app.button(key="cancel_dob").click()
    return app.run()


def _start_again(app):  # type: ignore[no-untyped-def]
    app.button(key="failsafe_start_again").click()
    return app.run()


def test_a_patient_sees_a_plain_sorry_and_a_way_back_never_a_traceback(
    db_url: str, engine: Engine, card_url: str
) -> None:
    app = new_lobby()
    with write_locked(db_url):
        scan(app, card_url)  # a good card only reads: it does not wait for the lock
        assert app.title[0].value == "Please confirm it's you"
        _start_again_from_the_birth_date(app)
        scan(app, "t=" + "A" * 32)  # an unknown card is recorded (a write), which fails here
    assert not app.exception, app.exception
    assert [e.value for e in app.error] == [PATIENT_SORRY]
    assert "Maria" not in texts(app) and "locked" not in texts(app)
    _start_again(app)
    assert app.text_input(key="scan").label == "Scan your card", "back on the welcome screen"
    scan(app, card_url)
    assert app.title[0].value == "Please confirm it's you"


def test_a_check_in_that_fails_is_not_half_done(db_url: str, engine: Engine, card_url: str) -> None:
    app = new_lobby()
    scan(app, card_url)
    with write_locked(db_url):
        enter_dob(app, DOB)
    assert not app.exception, app.exception
    assert [e.value for e in app.error] == [PATIENT_SORRY]
    with engine.connect() as conn:
        assert conn.execute(select(Appointment.status)).scalar_one() == "scheduled", "not marked arrived"
    _start_again(app)
    scan(app, card_url)
    enter_dob(app, DOB)
    assert app.title[0].value == "You're checked in"


def test_a_wrong_birth_date_during_a_failure_is_not_counted(db_url: str, engine: Engine, card_url: str) -> None:
    app = new_lobby()
    scan(app, card_url)
    with write_locked(db_url):
        enter_dob(app, date(1961, 2, 3))
    assert [e.value for e in app.error] == [PATIENT_SORRY]
    _start_again(app)
    scan(app, card_url)
    enter_dob(app, date(1961, 2, 3))
    assert "4 tries left" in texts(app)


def test_staff_sign_in_during_a_failure_shows_one_line_and_can_be_retried(
    db_url: str, engine: Engine, staff_env: object
) -> None:
    add_staff(engine, "alex", "technician")
    app = new_app()
    with write_locked(db_url):
        sign_in(app, "alex")
    assert not app.exception, app.exception
    assert errors(app) == [STAFF_SORRY]
    assert app.button(key="failsafe_retry_sign-in") is not None
    sign_in(app, "alex")
    assert not app.exception and not errors(app)
    assert "Signed in as alex" in " ".join(t.value for t in app.text)
