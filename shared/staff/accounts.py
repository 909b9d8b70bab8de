"""Staff accounts: memory-hard password hashes, sign-in with lock-out, roles and what each may do."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import math
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from typing import Literal

from sqlalchemy import Engine, update
from sqlmodel import Session, col, select

from shared.staff.models import ROLES, AuditEntry, StaffAccount
from shared.staff.sign_in_guard import SourceGuard
from shared.store.db import read_session, unit_of_work
from shared.store.errors import NotFound, ValidationFailed
from shared.store.types import utcnow

# scrypt with N=2^15, r=8: 32 MiB and ~100 ms per guess, so a copied database resists offline guessing.
SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**15, 8, 1
MAX_FAILED_SIGN_INS = 5  # failures in a row before the account pauses
LOCK_STEPS_MIN = (1, 5, 15)  # how long each further pause lasts; 15 minutes at most, never for good
NO_ACCOUNT = -1  # the id counted for an unknown or locked account: no row, but the same statement
REFUSED = "Wrong username or password. After several wrong tries, sign-in pauses for a few minutes."
USERNAME_RE = re.compile(r"^[a-z0-9][a-z0-9._-]{1,63}$")
MIN_PASSWORD = 10

# Pages, plus actions that several pages offer: "register_devices" (register a station, an unknown device that
# sends messages included, and set device broker passwords) is one rule wherever the button is.
Area = Literal[
    "board", "arrivals", "patients", "appointments", "plans", "equipment", "staff", "audit", "chain",
    "register_devices",
]  # fmt: skip
PERMISSIONS: dict[str, frozenset[str]] = {
    "technician": frozenset({"board", "arrivals"}),
    "front_desk": frozenset({"board", "arrivals", "patients", "appointments"}),
    "admin": frozenset({"board", "arrivals", "patients", "appointments", "plans", "equipment", "staff", "audit",
                       "chain", "register_devices"}),
}


@dataclass(frozen=True, slots=True)
class StaffUser:
    """The signed-in user as the app keeps it (no password hash, no ORM object)."""

    id: int
    username: str
    display_name: str
    role: str

    def can(self, area: Area) -> bool:
        """Whether this user's role may use `area`."""
        return can(self.role, area)


@dataclass(frozen=True, slots=True)
class SignIn:
    """The answer to a sign-in attempt; the message never says whether the username exists."""

    user: StaffUser | None
    message: str


def can(role: str, area: Area) -> bool:
    """The role table: technicians see the board and arrivals; front desk adds patients and appointments."""
    return area in PERMISSIONS.get(role, frozenset())


def hash_password(password: str) -> str:
    """A salted scrypt hash in a self-describing text form."""
    salt = secrets.token_bytes(16)
    digest = _scrypt(password, salt, SCRYPT_N, SCRYPT_R, SCRYPT_P)
    return f"scrypt${SCRYPT_N}${SCRYPT_R}${SCRYPT_P}${_b64(salt)}${_b64(digest)}"


def verify_password(password: str, stored: str) -> bool:
    """Constant-time check of a password against a stored hash."""
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        if scheme != "scrypt":
            return False
        actual = _scrypt(password, base64.b64decode(salt), int(n), int(r), int(p))
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(actual, base64.b64decode(digest))


def create_account(
    engine: Engine, *, username: str, password: str, role: str, display_name: str = "", actor: str = "cli"
) -> StaffUser:
    """Add a staff account (the username is unique and case-insensitive)."""
    name = username.strip().lower()
    if not USERNAME_RE.match(name):
        raise ValidationFailed(f"username {username!r} must be 2-64 characters: a-z, 0-9, '.', '_' or '-'")
    _check_role(role)
    _check_password(password)
    password_hash = hash_password(password)  # ~100 ms: before the transaction, which then stays short
    with unit_of_work(engine) as session:
        if session.exec(select(StaffAccount).where(StaffAccount.username == name)).first() is not None:
            raise ValidationFailed(f"username {name!r} is taken")
        account = StaffAccount(username=name, role=role, display_name=display_name.strip()[:100],
                               password_hash=password_hash)  # fmt: skip
        session.add(account)
        audit(session, actor=actor, action="staff.create", target=name, detail={"role": role})
        session.flush()
        return _user(account)


def sign_in(
    engine: Engine,
    username: str,
    password: str,
    *,
    now: datetime | None = None,
    source: str = "",
    guard: SourceGuard | None = None,
) -> SignIn:
    """Check credentials; every refusal reads the same and costs the same, whoever and whatever was asked.

    An unknown user, a wrong password and a locked account each take one password check (~100 ms of scrypt,
    outside any transaction) and one counting UPDATE, and all get `REFUSED`. Every fifth failure in a row locks
    the account for longer (1, 5, then 15 minutes at most: never for good), but only against sources that have
    failed recently (`guard`), so a stranger cannot lock the admin out; the source itself waits longer after
    each failure. Failures are counted with an atomic increment: parallel guesses all count.
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
    right = verify_password(password, account.password_hash if usable and account else _dummy_hash())
    if usable and right and not locked:
        assert account is not None
        with unit_of_work(engine) as session:
            session.execute(
                update(StaffAccount)
                .where(col(StaffAccount.id) == account.id)
                .values(failed_attempts=0, locked_until=None, last_login_at=now)
            )
            audit(session, actor=account.username, action="staff.sign_in", target=account.username)
        return SignIn(_user(account), "Signed in.")
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


def refresh_user(engine: Engine, user: StaffUser) -> StaffUser | None:
    """The signed-in `user` as the store has them now (a changed role applies at once); None once the account
    is disabled or gone, so an open session does not outlive an admin's decision."""
    with read_session(engine) as session:
        account = session.get(StaffAccount, user.id)
        if account is None or account.disabled or account.username != user.username:
            return None
        return _user(account)


def list_accounts(engine: Engine) -> list[StaffAccount]:
    """Every account, by username (for the admin page; hashes stay server-side)."""
    with read_session(engine) as session:
        return list(session.exec(select(StaffAccount).order_by(col(StaffAccount.username))).all())


def update_account(
    engine: Engine,
    *,
    username: str,
    actor: str,
    role: str | None = None,
    disabled: bool | None = None,
    password: str | None = None,
) -> None:
    """Change a role, disable/enable, or set a new password (which also clears a lock-out).

    Nobody can disable their own account, and an admin cannot take the admin role from themselves, so a
    clinic is never left without an admin by a slip of the mouse.
    """
    if role is not None:
        _check_role(role)
    if password is not None:
        _check_password(password)
    password_hash = hash_password(password) if password is not None else None  # outside the transaction
    with unit_of_work(engine) as session:
        account = session.exec(select(StaffAccount).where(StaffAccount.username == username)).first()
        if account is None:
            raise NotFound(f"no staff account {username!r}")
        if account.username == actor:
            if disabled:
                raise ValidationFailed("you cannot disable your own account")
            if role is not None and account.role == "admin" and role != "admin":
                raise ValidationFailed("you cannot take the admin role from your own account")
        changes: dict[str, object] = {}
        if role is not None:
            account.role, changes["role"] = role, role
        if disabled is not None:
            account.disabled, changes["disabled"] = disabled, disabled
        if password_hash is not None:
            account.password_hash, account.locked_until, account.failed_attempts = password_hash, None, 0
            changes["password"] = "changed"
        session.add(account)
        audit(session, actor=actor, action="staff.update", target=username, detail=changes)


def audit(
    session: Session, *, actor: str, action: str, target: str = "", detail: dict[str, object] | None = None
) -> None:
    """Add an audit entry to the caller's transaction (so the change and its record commit together)."""
    session.add(AuditEntry(actor=actor, action=action, target=target[:200], detail=json.dumps(detail or {})))


def recent_audit(engine: Engine, *, limit: int = 200) -> list[AuditEntry]:
    """The newest audit entries first."""
    with read_session(engine) as session:
        query = select(AuditEntry).order_by(col(AuditEntry.at).desc(), col(AuditEntry.id).desc()).limit(limit)
        return list(session.exec(query).all())


def _check_role(role: str) -> None:
    if role not in ROLES:
        raise ValidationFailed(f"role {role!r} is not one of {', '.join(ROLES)}")


def _check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise ValidationFailed(f"password must be at least {MIN_PASSWORD} characters")


def _user(account: StaffAccount) -> StaffUser:
    assert account.id is not None
    return StaffUser(account.id, account.username, account.display_name or account.username, account.role)


def _scrypt(password: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    return hashlib.scrypt(password.encode(), salt=salt, n=n, r=r, p=p, maxmem=256 * 1024 * 1024, dklen=32)


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


@cache
def _dummy_hash() -> str:
    return hash_password(secrets.token_urlsafe(16))
