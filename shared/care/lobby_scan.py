"""The lobby's two patient actions, each one use case in one transaction: a scan (throttled, then checked in or
asked for the birth date) and the birth date typed (in the caller's unit of work); each says which screen is next.

The rules the lobby page used to hold live here: repeated invalid scans from one kiosk are slowed down; a scan
at an appointment in session or done goes straight to the questions after the session; a patient already
arrived who scans again after waiting too long is noted for the team (`note_waiting_patient`), in the same
transaction as the scan. Once the patient is checked in, an `after_check_in` hook says in the same transaction
whether more is asked before the plan (the lobby passes the questionnaires' due check).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Literal

from sqlalchemy import Engine
from sqlmodel import Session

from shared.care.arrivals import note_waiting_patient
from shared.care.checkin import REFUSED, Outcome, confirm_birth_date, scan_card
from shared.care.scan_throttle import ScanThrottle
from shared.store.db import read_first
from shared.store.settings import Settings
from shared.store.types import utcnow

Screen = Literal["welcome", "dob", "feedback", "result"]
AFTER_SESSION = ("in_session", "done")  # a scan at these appointment statuses goes straight to the questions
# Asked in the scan's or birth date's own transaction once the patient is checked in: is there more to ask before
# the plan (the questionnaires due at this visit, shared.outcomes.schedule.due_after_check_in)? Must not raise.
AfterCheckIn = Callable[[Session, Outcome, datetime], bool]


@dataclass(frozen=True, slots=True)
class LobbyStep:
    """Where a lobby action leads: the screen, the check-in's outcome, and what to tell the patient."""

    screen: Screen
    outcome: Outcome | None = None  # None only when the scan was not looked at (`wait_s`)
    wait_s: float = 0.0  # the kiosk must wait this long before its next scan is looked at
    waiting_told: bool = False  # a waiting patient asked again: the team has been told
    ask_more: bool = False  # checked in, and `after_check_in` has more to ask first (questionnaires due)


def lobby_scan(
    *,
    engine: Engine,
    settings: Settings,
    throttle: ScanThrottle,
    scan: str,
    kiosk: str,
    now: datetime | None = None,
    clock: float | None = None,
    after_check_in: AfterCheckIn | None = None,
) -> LobbyStep:
    """A card scanned at the lobby (scanner, camera or a phone opening the card's link), in one transaction.

    A kiosk that must still wait (too many invalid scans) gets `wait_s` and nothing is looked at; a refused card
    counts as a failed guess once recorded, and goes back to the welcome screen. `clock` is the throttle's
    monotonic time (`time.monotonic()` by default).

    Takes the engine: a good card only reads, so the scan's transaction begins as a read and takes SQLite's write
    lock only to record a refused scan (`shared.store.db.read_first`); a patient never waits behind the listener.
    """
    now = now or utcnow()
    clock = time.monotonic() if clock is None else clock
    wait = throttle.wait_s(kiosk, clock)
    if wait > 0:
        return LobbyStep("welcome", wait_s=wait)
    step = read_first(engine, lambda session: _scanned(session, settings, scan, now, kiosk, after_check_in))
    if step.outcome is not None and step.outcome.result in REFUSED:
        throttle.failed(kiosk, clock)
    else:
        throttle.succeeded(kiosk)
    return step


def lobby_confirm(
    *,
    session: Session,
    settings: Settings,
    token: str,
    dob: date,
    kiosk: str,
    now: datetime | None = None,
    after_check_in: AfterCheckIn | None = None,
) -> LobbyStep:
    """The birth date typed at the lobby, in one transaction: checked in (with the waiting note when due), asked
    again, or refused."""
    now = now or utcnow()
    outcome = confirm_birth_date(session=session, settings=settings, token=token, dob=dob, now=now, kiosk=kiosk)
    return _next_step(session, settings, outcome, now, kiosk, after_check_in)


def _scanned(
    session: Session, settings: Settings, scan: str, now: datetime, kiosk: str, after_check_in: AfterCheckIn | None
) -> LobbyStep:
    """The scan's one transaction: a refused card back to the welcome screen, else the step its outcome leads to."""
    outcome = scan_card(session=session, settings=settings, scan=scan, now=now, kiosk=kiosk)
    if outcome.result in REFUSED:
        return LobbyStep("welcome", outcome)
    return _next_step(session, settings, outcome, now, kiosk, after_check_in)


def _next_step(
    session: Session, settings: Settings, outcome: Outcome, now: datetime, kiosk: str,
    after_check_in: AfterCheckIn | None = None,
) -> LobbyStep:
    """The birth date, the questions after a session, or the result (noting a patient who waits too long)."""
    if outcome.result in ("needs_dob", "wrong_dob"):
        return LobbyStep("dob", outcome)
    again = outcome.result == "already_checked_in" and outcome.appointment_id is not None
    if again and outcome.appointment_status in AFTER_SESSION:
        return LobbyStep("feedback", outcome)
    told = False
    if again and outcome.appointment_status == "arrived":
        assert outcome.appointment_id is not None
        told = note_waiting_patient(session=session, appointment_id=outcome.appointment_id,
                                    limit_min=settings.waiting_alert_min, now=now, kiosk=kiosk)  # fmt: skip
    more = outcome.ok and after_check_in is not None and after_check_in(session, outcome, now)
    return LobbyStep("result", outcome, waiting_told=told, ask_more=more)
