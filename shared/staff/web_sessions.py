"""Staff web sessions: a sign-in that survives page loads on the same browser, ended server-side.

A sign-in opens a session row and a one-time handoff code (valid for a minute); the browser posts that code to
the staff app's own endpoint, which answers with an HttpOnly, SameSite=Strict cookie holding a fresh random id.
Only SHA-256 hashes of the code and of the id are stored. Every run of the app checks the row: ended (sign-out),
idle too long, past its absolute lifetime, or its account disabled means signed out; the role is read each time,
so a new role applies at once. A cookie is also bound to the browser's User-Agent.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from sqlalchemy import Engine, update
from sqlmodel import Session, col, select

from shared.staff.accounts import StaffUser
from shared.staff.models import StaffAccount, StaffWebSession
from shared.store.db import read_session, unit_of_work
from shared.store.types import utcnow

COOKIE_NAME = "clinic_staff_session"
HANDOFF_S = 60  # the browser claims its cookie right after the sign-in; a code left unused soon stops working
TOUCH_EVERY_S = 15  # last-seen is written at most this often, so clicks do not each cost a write
EndReason = Literal["signed_out", "idle", "expired", "disabled", "ended"]
MESSAGES: dict[str, str] = {
    "idle": "You were signed out after a period of inactivity.",
    "expired": "Your sign-in has expired: please sign in again.",
    "disabled": "You were signed out: your account is disabled.",
    "ended": "You were signed out.",
}


@dataclass(frozen=True, slots=True)
class Opened:
    """A new session: its row id (kept server-side) and the one-time code the browser claims its cookie with."""

    session_id: int
    handoff: str


@dataclass(frozen=True, slots=True)
class Checked:
    """A session as it stands: the user (None once it is over, with the reason) and whether the cookie is set."""

    user: StaffUser | None
    reason: EndReason | None = None
    claimed: bool = False

    @property
    def message(self) -> str:
        """What the sign-in page says about why the session ended."""
        return MESSAGES.get(self.reason or "", "")


def digest(secret: str) -> str:
    """SHA-256 hex of a token or code (the only form stored)."""
    return hashlib.sha256(secret.encode()).hexdigest()


def open_session(
    *, session: Session, user: StaffUser, user_agent: str, max_hours: int, now: datetime | None = None
) -> Opened:
    """Open a session for a user who has just given their password."""
    now = now or utcnow()
    handoff = secrets.token_urlsafe(32)
    row = StaffWebSession(
        account_id=user.id,
        handoff_hash=digest(handoff),
        handoff_until=now + timedelta(seconds=HANDOFF_S),
        agent_hash=digest(user_agent),
        created_at=now,
        last_seen_at=now,
        expires_at=now + timedelta(hours=max_hours),
    )
    session.add(row)
    session.flush()
    assert row.id is not None
    return Opened(row.id, handoff)


def claim_session(*, session: Session, handoff: str, user_agent: str, now: datetime | None = None) -> str | None:
    """Exchange a handoff code (once, within a minute, from the same browser) for the cookie's random id."""
    now = now or utcnow()
    token = secrets.token_urlsafe(32)
    row = session.exec(select(StaffWebSession).where(StaffWebSession.handoff_hash == digest(handoff))).first()
    if row is None or row.ended_at is not None or row.handoff_until is None or row.handoff_until < now:
        return None
    if not hmac.compare_digest(row.agent_hash, digest(user_agent)):
        return None
    row.handoff_hash, row.handoff_until, row.token_hash = None, None, digest(token)
    session.add(row)
    return token


def resume_session(
    *, engine: Engine, token: str, user_agent: str, idle_s: float, now: datetime | None = None
) -> tuple[int, Checked] | None:
    """The session a cookie names (a page load on a browser signed in before), checked; None for no such one.

    Takes the engine: it reads, then checks the session with `check_session` (which may write).
    """
    with read_session(engine) as session:
        row = session.exec(select(StaffWebSession).where(StaffWebSession.token_hash == digest(token))).first()
    if row is None or row.id is None or not hmac.compare_digest(row.agent_hash, digest(user_agent)):
        return None
    return row.id, check_session(engine=engine, session_id=row.id, idle_s=idle_s, touch=True, now=now)


def check_session(
    *, engine: Engine, session_id: int, idle_s: float, touch: bool, now: datetime | None = None
) -> Checked:
    """Whether the session still signs its user in (run on every page run); `touch` counts this as activity.

    Takes the engine: it reads first and writes (ends or touches the session) only when needed, so most page
    runs take no write lock.
    """
    now = now or utcnow()
    with read_session(engine) as session:
        row = session.get(StaffWebSession, session_id)
        account = session.get(StaffAccount, row.account_id) if row is not None else None
    if row is None or account is None:
        return Checked(None, "ended")
    if row.ended_at is not None:
        return Checked(None, "ended" if row.end_reason == "signed_out" else _reason(row.end_reason))
    reason: EndReason | None = None
    if account.disabled:
        reason = "disabled"
    elif now >= row.expires_at:
        reason = "expired"
    elif (now - row.last_seen_at).total_seconds() > idle_s:
        reason = "idle"
    if reason is not None:
        with unit_of_work(engine) as session:
            end_session(session=session, session_id=session_id, reason=reason, now=now)
        return Checked(None, reason)
    if touch and (now - row.last_seen_at).total_seconds() >= TOUCH_EVERY_S:
        with unit_of_work(engine) as session:
            session.execute(update(StaffWebSession).where(col(StaffWebSession.id) == session_id)
                            .values(last_seen_at=now))  # fmt: skip
    assert account.id is not None
    user = StaffUser(account.id, account.username, account.display_name or account.username, account.role)
    return Checked(user, claimed=row.token_hash is not None)


def end_session(*, session: Session, session_id: int, reason: EndReason, now: datetime | None = None) -> None:
    """End a session for good (its cookie then signs nobody in); ending it twice keeps the first reason."""
    session.execute(
        update(StaffWebSession)
        .where(col(StaffWebSession.id) == session_id, col(StaffWebSession.ended_at).is_(None))
        .values(ended_at=now or utcnow(), end_reason=reason, handoff_hash=None, handoff_until=None)
    )


def _reason(stored: str) -> EndReason:
    return stored if stored in ("idle", "expired", "disabled") else "ended"  # type: ignore[return-value]
