"""Staff sign-in, one use case in one transaction: the password check, the web session and the audit entry; every
refusal reads and costs the same; failures counted atomically, with growing lock-outs."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import update
from sqlmodel import Session, col, select

from shared.staff.accounts import StaffUser, staff_user
from shared.staff.audit import audit
from shared.staff.models import StaffAccount
from shared.staff.passwords import dummy_hash, verify_password
from shared.staff.sign_in_guard import SourceGuard
from shared.staff.web_sessions import Opened, open_session
from shared.store.types import utcnow

MAX_FAILED_SIGN_INS = 5  # failures in a row before the account pauses
LOCK_STEPS_MIN = (1, 5, 15)  # how long each further pause lasts; 15 minutes at most, never for good
NO_ACCOUNT = -1  # the id counted for an unknown or locked account: no row, but the same statement
DEFAULT_MAX_HOURS = 12  # a web session's lifetime when the caller does not say (the app passes its setting)
REFUSED = "Wrong username or password. After several wrong tries, sign-in pauses for a few minutes."


@dataclass(frozen=True, slots=True)
class SignIn:
    """The answer to a sign-in attempt: the user and their new web session, or neither; the message never says
    whether the username exists."""

    user: StaffUser | None
    message: str
    opened: Opened | None = None


def sign_in(
    *,
    session: Session,
    username: str,
    password: str,
    user_agent: str = "",
    max_hours: int = DEFAULT_MAX_HOURS,
    now: datetime | None = None,
    source: str = "",
    guard: SourceGuard | None = None,
) -> SignIn:
    """Staff sign-in as one use case in the caller's unit of work (its one transaction): check the credentials
    and, when they are right, open the web session (for the browser's `user_agent`, at most `max_hours`) and
    audit it; every refusal reads the same and costs the same, whoever and whatever was asked.

    An unknown user, a wrong password and a locked account each take one password check (~100 ms of scrypt) and
    one counting UPDATE, and all get `REFUSED`. Every fifth failure in a row locks the account for longer (1, 5,
    then 15 minutes at most: never for good), but only against sources that have failed recently (`guard`), so
    a stranger cannot lock the admin out; the source itself waits longer after each failure, refused before
    the store is asked. Failures are counted with an atomic increment: parallel guesses all count. The check
    runs inside the transaction (it needs the stored hash, read in it): on SQLite the write lock is held that
    long, which the listener's next batch waits out (sign-ins are a person's, and a guessing source waits).
    """
    now = now or utcnow()
    clock = now.timestamp()
    if guard is not None and (wait := guard.wait_s(source, clock)) > 0:
        return SignIn(None, f"Too many failed sign-ins from this device. Please wait {math.ceil(wait)} seconds.")
    account = session.exec(select(StaffAccount).where(StaffAccount.username == username.strip().lower())).first()
    usable = account is not None and not account.disabled
    locked = usable and account is not None and account.locked_until is not None and account.locked_until > now
    if locked and guard is not None and not guard.has_failed(source, clock):
        locked = False  # this source never failed: the lock is meant for someone else
    right = verify_password(password, account.password_hash if usable and account else dummy_hash())
    if usable and right and not locked:
        assert account is not None
        session.execute(
            update(StaffAccount)
            .where(col(StaffAccount.id) == account.id)
            .values(failed_attempts=0, locked_until=None, last_login_at=now)
        )
        audit(session, actor=account.username, action="staff.sign_in", target=account.username)
        user = staff_user(account)
        opened = open_session(session=session, user=user, user_agent=user_agent, max_hours=max_hours, now=now)
        return SignIn(user, "Signed in.", opened)
    if guard is not None:
        guard.failed(source, clock)
    counted = account.id if usable and not locked and account is not None else NO_ACCOUNT
    _count_failure(session, counted, account.username if account else "", now)
    return SignIn(None, REFUSED)


def _count_failure(session: Session, account_id: int | None, username: str, now: datetime) -> None:
    """One more failed sign-in (atomic; the same statement for nobody, so timing tells nothing); every fifth
    in a row locks the account, each lock longer than the last."""
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
