"""Driving the staff app through Streamlit's AppTest: its environment, accounts, sign-in and what is shown.

Test modules import the `staff_env` fixture from here (`from tests.kiosk.staff_app import staff_env`).
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import streamlit as st
from sqlalchemy import Engine
from streamlit.testing.v1 import AppTest

from clinic.apps import compose_staff
from kiosk import resources
from shared.staff.accounts import StaffUser, create_account, list_accounts
from shared.staff.models import StaffWebSession
from shared.staff.web_sessions import open_session
from shared.store.db import unit_of_work
from shared.store.settings import get_settings

KIOSK = Path(__file__).resolve().parents[2] / "kiosk" / "staff"
STAFF = str(KIOSK / "app.py")
PASSWORD = "correct horse battery"
REFUSED = "Your role does not give access to this page."
PAGES = {  # page file -> its title, for every staff page this suite covers
    "board.py": "Equipment board",
    "charts.py": "Usage and cleaning",
    "equipment.py": "Equipment",
    "accounts.py": "Staff accounts",
    "audit.py": "Audit log",
}
ALLOWED = {
    "technician": {"board.py", "charts.py"},
    "front_desk": {"board.py", "charts.py"},
    "admin": set(PAGES),
}


@pytest.fixture
def staff_env(monkeypatch: pytest.MonkeyPatch, db_url: str, tmp_path: Path) -> Iterator[Path]:
    """Point the app at the test store and a data folder of its own, with the adapters registered as the
    server does (AppTest runs the app's script, not the server); returns that data folder."""
    data = tmp_path / "data"
    for name in list(os.environ):
        if name.startswith("CLINIC_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("CLINIC_DATABASE_URL", db_url)
    monkeypatch.setenv("CLINIC_DATA_DIR", str(data))
    monkeypatch.setenv("CLINIC_TIMEZONE", "UTC")
    get_settings.cache_clear()
    st.cache_resource.clear()
    compose_staff()
    yield data
    resources.engine().dispose()  # the app's pooled connections, before the cache forgets the engine
    st.cache_resource.clear()
    get_settings.cache_clear()


def add_staff(engine: Engine, username: str, role: str, display_name: str = "") -> str:
    """Create an account with the suite's password; returns the username."""
    create_account(engine, username=username, password=PASSWORD, role=role, display_name=display_name or username)
    return username


def session_of(engine: Engine, app: AppTest, username: str) -> None:
    """Put `username` in the app's session as a sign-in would (a server-side session, before any run: the way
    a bookmark or a typed URL opens a page of a browser signed in)."""
    account = next(a for a in list_accounts(engine) if a.username == username)
    assert account.id is not None
    user = StaffUser(account.id, account.username, account.display_name, account.role)
    app.session_state["staff_user"] = user
    app.session_state["staff_session"] = open_session(engine, user=user, user_agent="", max_hours=12).session_id


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
    """A new session signed in as `username` (through the form), on `page` (a file in staff_pages/) if given."""
    app = sign_in(new_app(), username)
    assert not app.exception, app.exception
    if page is not None:
        app.switch_page(f"pages/{page}").run()
        assert not app.exception, app.exception
        assert [t.value for t in app.title] == [PAGES[page]], texts(app)
    return app


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
