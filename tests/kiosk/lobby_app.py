"""Driving the lobby kiosk through Streamlit's AppTest: scans, the birth-date fields and what is shown.

The lobby's fixtures (`lobby_env`, and `patient_id`, `card_url`: Maria booked with a plan, and her card) are in
tests/kiosk/conftest.py.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from streamlit.testing.v1 import AppTest

from tests.kiosk.staff_app import shown

LOBBY = str(Path(__file__).resolve().parents[2] / "kiosk" / "lobby" / "app.py")


def soon(minutes: int) -> datetime:
    """An appointment start `minutes` from now (the lobby's tests run with the clock at midday: `lobby_env`)."""
    return datetime.now(UTC).replace(second=0, microsecond=0) + timedelta(minutes=minutes)


def new_app() -> AppTest:
    app = AppTest.from_file(LOBBY, default_timeout=30)
    app.run()
    return app


def scan(app: AppTest, text: str) -> None:
    app.text_input(key="scan").set_value(text)
    app.run()


def type_dob(app: AppTest, month: str, day: str, year: str) -> None:
    """Type into the three birth-date fields as a patient would (digits), then Continue."""
    app.text_input(key="dob_month").input(month)
    app.text_input(key="dob_day").input(day)
    app.text_input(key="dob_year").input(year)
    app.button(key="dob_continue").click()
    app.run()


def enter_dob(app: AppTest, dob: date) -> None:
    type_dob(app, f"{dob.month:02d}", str(dob.day), str(dob.year))


def texts(app: AppTest) -> str:
    parts = [e.value for e in (*app.title, *app.success, *app.warning, *app.error, *app.markdown)]
    return "\n".join(shown(str(p)) for p in parts)
