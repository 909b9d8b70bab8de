"""Driving the staff app through Streamlit's AppTest: its environment, accounts, sign-in and what is shown.

The apps' environment fixtures (`staff_env`, `care_env`, `lobby_env`) are in tests/kiosk/conftest.py.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, time, timedelta
from html.parser import HTMLParser
from pathlib import Path
from zoneinfo import ZoneInfo

import pandas as pd
from sqlalchemy import Engine
from streamlit.testing.v1 import AppTest

from shared.staff.accounts import StaffUser, list_accounts
from shared.staff.models import StaffWebSession
from shared.staff.web_sessions import open_session
from shared.store.db import read_session, unit_of_work
from tests.clock import on_day
from tests.factories import PASSWORD
from tests.factories import staff_account as add_staff

KIOSK = Path(__file__).resolve().parents[2] / "kiosk" / "staff"
STAFF = str(KIOSK / "app.py")
REFUSED = "Your role does not give access to this page."
PAGES = {  # page file -> its title, for every staff page this suite covers
    "board.py": "Equipment board",
    "charts.py": "Usage and cleaning",
    "equipment.py": "Equipment",
    "devices.py": "Devices",
    "accounts.py": "Staff accounts",
    "audit.py": "Audit log",
}
CARE_PAGES = {  # the care pages (care_env): page file -> its title
    "arrivals.py": "Arrivals",
    "patients.py": "Patients",
    "appointments.py": "Appointments",
    "plans.py": "Exercises and plans",
}


__all__ = ["PASSWORD", "add_staff"]  # from tests.factories, for the staff tests
CLINIC_TZ_NAME = "America/Chicago"  # the care pages' clinic (care_env): a zone away from UTC (UTC-6 in December)
# The care pages' tests run with the clock at 12:30 there (tests/clock.py): the day's bookings at 08:00-12:00 have
# begun, and "today" is the same day in the clinic and in UTC, whatever the hour the suite runs at.
CARE_CLOCK = on_day(time(12, 30), ZoneInfo(CLINIC_TZ_NAME))
ALLOWED = {
    "technician": {"board.py", "charts.py", "devices.py"},
    "front_desk": {"board.py", "charts.py"},
    "admin": set(PAGES),
}


def session_of(engine: Engine, app: AppTest, username: str) -> None:
    """Put `username` in the app's session as a sign-in would (a server-side session, before any run: the way
    a bookmark or a typed URL opens a page of a browser signed in)."""
    with read_session(engine) as session:
        account = next(a for a in list_accounts(session=session) if a.username == username)
    assert account.id is not None
    user = StaffUser(account.id, account.username, account.display_name, account.role)
    app.session_state["staff_user"] = user
    with unit_of_work(engine) as session:
        opened = open_session(session=session, user=user, user_agent="", max_hours=12)
    app.session_state["staff_session"] = opened.session_id


def go_idle(engine: Engine, app: AppTest, seconds: float) -> None:
    """Pretend the signed-in person last clicked `seconds` ago (the idle clock is the server-side session's)."""
    with unit_of_work(engine) as session:
        row = session.get(StaffWebSession, app.session_state["staff_session"])
        assert row is not None
        row.last_seen_at = datetime.now(UTC) - timedelta(seconds=seconds)
        session.add(row)


def new_app() -> AppTest:
    app = AppTest.from_file(STAFF, default_timeout=30)
    app.run()
    return app


def sign_in(app: AppTest, username: str, password: str = PASSWORD) -> AppTest:
    """Fill in and submit the sign-in form."""
    app.text_input(key="sign_in_username").set_value(username)
    app.text_input(key="sign_in_password").set_value(password)
    app.button[0].click()  # the form's Sign in button
    return app.run()


def signed_in(username: str, page: str | None = None) -> AppTest:
    """A new session signed in as `username` (through the form), on `page` (a file in kiosk/staff/screens/) if given."""
    app = sign_in(new_app(), username)
    assert not app.exception, app.exception
    if page is not None:
        app.switch_page(f"screens/{page}").run()
        assert not app.exception, app.exception
        assert [t.value for t in app.title] == [PAGES[page]], texts(app)
    return app


def open_page(username: str, page: str) -> AppTest:
    """A new session signed in through the form as `username`, on the care page `page` (in kiosk/staff/screens/)."""
    app = sign_in(new_app(), username)
    assert not app.exception, app.exception
    app.switch_page(f"screens/{page}").run()
    assert not app.exception, app.exception
    assert [t.value for t in app.title] == [CARE_PAGES[page]], texts(app)
    return app


def click(app: AppTest, key: str) -> AppTest:
    """Press the button `key` and rerun (the caller looks at what is shown, exception included)."""
    app.button(key=key).click()
    return app.run()


def shown(markdown: str) -> str:
    """What a person reads: the Markdown source without its backslash escapes."""
    return re.sub(r"\\(.)", r"\1", markdown)


def texts(app: AppTest) -> str:
    """Every message, heading and text on the page, as read."""
    parts = [
        e.value
        for e in (
            *app.title,
            *app.header,
            *app.subheader,
            *app.success,
            *app.info,
            *app.warning,
            *app.error,
            *app.markdown,
            *app.text,
            *app.caption,
        )
    ]
    return "\n".join(shown(str(p)) for p in parts)


def errors(app: AppTest) -> list[str]:
    return [shown(str(e.value)) for e in app.error]


def successes(app: AppTest) -> list[str]:
    return [shown(str(e.value)) for e in app.success]


class _Cells(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.rows: list[list[str]] = []
        self._cell: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "tr":
            self.rows.append([])
        elif tag in ("th", "td"):
            self._cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag in ("th", "td") and self._cell is not None:
            self.rows[-1].append("".join(self._cell))
            self._cell = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)


def plain_table(app: AppTest, label: str) -> pd.DataFrame:
    """The rows of the page's `kit.plain_table` named `label`, as the person reads them (text, "-" for none)."""
    found = next(m.value for m in app.markdown if f'aria-label="{label}"' in str(m.value))
    parser = _Cells()
    parser.feed(str(found))
    header, *rows = parser.rows
    return pd.DataFrame(rows, columns=header)
