"""Staff sign-in: every refusal reads and costs the same; failures counted atomically, with growing lock-outs."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Engine, update
from sqlmodel import col, select

from shared.staff.accounts import StaffUser, staff_user
from shared.staff.audit import audit
from shared.staff.models import StaffAccount
from shared.staff.passwords import dummy_hash, verify_password
from shared.staff.sign_in_guard import SourceGuard
from shared.store.db import read_session, unit_of_work
from shared.store.types import utcnow

MAX_FAILED_SIGN_INS = 5  # failures in a row before the account pauses
LOCK_STEPS_MIN = (1, 5, 15)  # how long each further pause lasts; 15 minutes at most, never for good
NO_ACCOUNT = -1  # the id counted for an unknown or locked account: no row, but the same statement
REFUSED = "Wrong username or password. After several wrong tries, sign-in pauses for a few minutes."


@dataclass(frozen=True, slots=True)
class SignIn:
    """The answer to a sign-in attempt; the message never says whether the username exists."""

    user: StaffUser | None
    message: str


def sign_in(
    *,
    engine: Engine,
    username: str,
    password: str,
    now: datetime | None = None,
    source: str = "",
    guard: SourceGuard | None = None,
) -> SignIn:
    """Check credentials; every refusal reads the same and costs the same, whoever and whatever was asked.

    An unknown user, a wrong password and a locked account each take one password check (~100 ms of scrypt,
    outside any transaction) and one counting UPDATE, and all get `REFUSED`. Every fifth failure in a row locks
    the account for longer (1, 5, then 15 minutes at most: never for good), but only against sources that have
    failed recently (`guard`), so a stranger cannot lock the admin out; the source itself waits longer after
    each failure. Failures are counted with an atomic increment: parallel guesses all count. Takes the engine,
    not a session: it reads, checks the password outside any transaction, then writes in a short one.
    """
    now = now or utcnow()
    clock = now.timestamp()
    if guard is not None and (wait := guard.wait_s(source, clock)) > 0:
        return SignIn(None, f"Too many failed sign-ins from this device. Please wait {math.ceil(wait)} seconds.")
    with read_session(engine) as session:
        account = session.exec(select(StaffAccount).where(StaffAccount.username == username.strip().lower())).first()
    usable = account is not None and not account.disabled
    locked = usable and account is not None and account.locked_until is not None and account.locked_until > now
    if locked and guard is not None and not guard.has_failed(source, clock):
        locked = False  # this source never failed: the lock is meant for someone else
    right = verify_password(password, account.password_hash if usable and account else dummy_hash())
    if usable and right and not locked:
        assert account is not None
        with unit_of_work(engine) as session:
            session.execute(
                update(StaffAccount)
                .where(col(StaffAccount.id) == account.id)
                .values(failed_attempts=0, locked_until=None, last_login_at=now)
            )
            audit(session, actor=account.username, action="staff.sign_in", target=account.username)
        return SignIn(staff_user(account), "Signed in.")
    if guard is not None:
        guard.failed(source, clock)
    counted = account.id if usable and not locked and account is not None else NO_ACCOUNT
    _count_failure(engine, counted, account.username if account else "", now)
    return SignIn(None, REFUSED)


def _count_failure(engine: Engine, account_id: int | None, username: str, now: datetime) -> None:
    """One more failed sign-in (atomic; the same statement for nobody, so timing tells nothing); every fifth
    in a row locks the account, each lock longer than the last."""
    with unit_of_work(engine) as session:
        failed = session.execute(
            update(StaffAccount)
            .where(col(StaffAccount.id) == account_id)
            .values(failed_attempts=col(StaffAccount.failed_attempts) + 1)
            .returning(col(StaffAccount.failed_attempts))
        ).scalar_one_or_none()
        if failed is None or failed % MAX_FAILED_SIGN_INS:
            return
        minutes = LOCK_STEPS_MIN[min(failed // MAX_FAILED_SIGN_INS, len(LOCK_STEPS_MIN)) - 1]
        session.execute(
            update(StaffAccount)
            .where(col(StaffAccount.id) == account_id)
            .values(locked_until=now + timedelta(minutes=minutes))
        )
        audit(session, actor=username, action="staff.locked", target=username, detail={"minutes": minutes})
