"""The lobby's steps for tests and benchmarks that hold only an engine: each in a transaction of its own, as the
lobby runs them (shared/care/lobby_scan.py), around the session services of shared/care/checkin.py."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Engine

from shared.care.checkin import Outcome, check_in_card, confirm_birth_date, scan_card
from shared.store.db import read_first, unit_of_work
from shared.store.settings import Settings


def begin(*, engine: Engine, settings: Settings, scan: str, now: datetime | None = None, kiosk: str = "") -> Outcome:
    """A scan: no write lock for a good card (`read_first`), as the lobby's."""
    return read_first(engine, lambda session: scan_card(session=session, settings=settings, scan=scan, now=now,
                                                        kiosk=kiosk))  # fmt: skip


def confirm(
    *, engine: Engine, settings: Settings, token: str, dob: date, now: datetime | None = None, kiosk: str = ""
) -> Outcome:
    """A birth date typed at the lobby, in a unit of work of its own."""
    with unit_of_work(engine) as session:
        return confirm_birth_date(session=session, settings=settings, token=token, dob=dob, now=now, kiosk=kiosk)


def check_in(*, engine: Engine, settings: Settings, scan: str, now: datetime | None = None, kiosk: str = "") -> Outcome:
    """A check-in without the birth-date step, in a unit of work of its own."""
    with unit_of_work(engine) as session:
        return check_in_card(session=session, settings=settings, scan=scan, now=now, kiosk=kiosk)
