"""Staff web sessions on SQLite and PostgreSQL: a cookie resumes a sign-in, and everything that should end it
does, server-side; the store never holds a secret the browser holds."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine
from sqlmodel import select

from shared.staff.accounts import StaffUser, create_account, update_account
from shared.staff.models import StaffWebSession
from shared.staff.web_sessions import (
    HANDOFF_S,
    Opened,
    check_session,
    claim_session,
    end_session,
    open_session,
    resume_session,
)
from shared.store.db import read_session, unit_of_work

AGENT = "Mozilla/5.0 (Linux; Android 14; Pixel 8) Chrome/131"
IDLE_S = 30 * 60
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@pytest.fixture
def ana(engine: Engine) -> StaffUser:
    create_account(engine=engine, username="boss", password="correct horse battery", role="admin")
    return create_account(engine=engine, username="ana", password="correct horse battery", role="technician")


def open_for(engine: Engine, user: StaffUser, now: datetime = T0) -> Opened:
    """The sign-in's request: a new session and its one-time code."""
    with unit_of_work(engine) as session:
        return open_session(session=session, user=user, user_agent=AGENT, max_hours=12, now=now)


def claim(engine: Engine, handoff: str, *, user_agent: str = AGENT, now: datetime = T0) -> str | None:
    """The browser's request that posts the one-time code for its cookie."""
    with unit_of_work(engine) as session:
        return claim_session(session=session, handoff=handoff, user_agent=user_agent, now=now)


def signed_in(engine: Engine, user: StaffUser, now: datetime = T0) -> tuple[int, str]:
    """A sign-in whose browser has claimed its cookie: the session id and the cookie's value."""
    opened = open_for(engine, user, now)
    token = claim(engine, opened.handoff, now=now + timedelta(seconds=1))
    assert token is not None
    return opened.session_id, token


def test_a_cookie_resumes_the_sign_in_on_a_page_load(engine: Engine, ana: StaffUser) -> None:
    session_id, token = signed_in(engine, ana)
    resumed = resume_session(engine=engine, token=token, user_agent=AGENT, idle_s=IDLE_S, now=T0 + timedelta(minutes=5))
    assert resumed is not None
    assert resumed[0] == session_id and resumed[1].user == ana and resumed[1].claimed


def test_only_hashes_are_stored(engine: Engine, ana: StaffUser) -> None:
    opened = open_for(engine, ana)
    token = claim(engine, opened.handoff)
    assert token is not None
    with read_session(engine) as session:
        row = session.exec(select(StaffWebSession)).one()
    stored = " ".join(str(v) for v in row.model_dump().values())
    assert token not in stored and opened.handoff not in stored
    assert row.token_hash is not None and len(row.token_hash) == 64


def test_a_handoff_code_works_once_within_a_minute_from_the_same_browser(engine: Engine, ana: StaffUser) -> None:
    late = open_for(engine, ana)
    assert claim(engine, late.handoff, now=T0 + timedelta(seconds=HANDOFF_S + 1)) is None
    other = open_for(engine, ana)
    assert claim(engine, other.handoff, user_agent="curl/8.5") is None
    assert claim(engine, other.handoff) is not None
    assert claim(engine, other.handoff) is None  # used up
    assert claim(engine, "made-up") is None


def test_a_cookie_copied_to_another_browser_signs_nobody_in(engine: Engine, ana: StaffUser) -> None:
    _, token = signed_in(engine, ana)
    assert resume_session(engine=engine, token=token, user_agent="Other/1.0", idle_s=IDLE_S, now=T0) is None
    assert resume_session(engine=engine, token=token + "x", user_agent=AGENT, idle_s=IDLE_S, now=T0) is None


def test_sign_out_ends_the_session_for_its_cookie_too(engine: Engine, ana: StaffUser) -> None:
    session_id, token = signed_in(engine, ana)
    with unit_of_work(engine) as session:
        end_session(session=session, session_id=session_id, reason="signed_out", now=T0 + timedelta(minutes=1))
    resumed = resume_session(engine=engine, token=token, user_agent=AGENT, idle_s=IDLE_S, now=T0 + timedelta(minutes=2))
    assert resumed is not None and resumed[1].user is None and resumed[1].reason == "ended"


def test_idle_too_long_ends_it_and_activity_keeps_it(engine: Engine, ana: StaffUser) -> None:
    session_id, token = signed_in(engine, ana)
    for minutes in (20, 40, 60):  # a click every 20 minutes keeps it alive past the 30-minute timeout
        checked = check_session(
            engine=engine, session_id=session_id, idle_s=IDLE_S, touch=True, now=T0 + timedelta(minutes=minutes)
        )
        assert checked.user == ana
    quiet = check_session(engine=engine, session_id=session_id, idle_s=IDLE_S, touch=False,
                          now=T0 + timedelta(minutes=89))  # fmt: skip
    assert quiet.user == ana  # an automatic refresh is not activity...
    idle = check_session(engine=engine, session_id=session_id, idle_s=IDLE_S, touch=True,
                         now=T0 + timedelta(minutes=91))  # fmt: skip
    assert idle.user is None and idle.message == "You were signed out after a period of inactivity."
    again = resume_session(engine=engine, token=token, user_agent=AGENT, idle_s=IDLE_S, now=T0 + timedelta(minutes=92))
    assert again is not None and again[1].user is None  # ...and the end is for good, a click later does not revive it


def test_a_session_expires_however_busy(engine: Engine, ana: StaffUser) -> None:
    session_id, _ = signed_in(engine, ana)
    at = T0
    while at + timedelta(minutes=20) < T0 + timedelta(hours=12):
        at += timedelta(minutes=20)
        assert check_session(engine=engine, session_id=session_id, idle_s=IDLE_S, touch=True, now=at).user == ana
    ended = check_session(engine=engine, session_id=session_id, idle_s=IDLE_S, touch=True, now=T0 + timedelta(hours=12))
    assert ended.user is None and ended.reason == "expired"


def test_a_role_change_applies_at_once_and_disabling_ends_it(engine: Engine, ana: StaffUser) -> None:
    session_id, token = signed_in(engine, ana)
    update_account(engine=engine, username="ana", actor="boss", role="front_desk")
    checked = check_session(engine=engine, session_id=session_id, idle_s=IDLE_S, touch=False, now=T0)
    assert checked.user is not None and checked.user.role == "front_desk"
    update_account(engine=engine, username="ana", actor="boss", disabled=True)
    checked = check_session(engine=engine, session_id=session_id, idle_s=IDLE_S, touch=False, now=T0)
    assert checked.user is None and checked.message == "You were signed out: your account is disabled."
    update_account(engine=engine, username="ana", actor="boss", disabled=False)  # re-enabled: a new sign-in is needed
    resumed = resume_session(engine=engine, token=token, user_agent=AGENT, idle_s=IDLE_S, now=T0)
    assert resumed is not None and resumed[1].user is None
