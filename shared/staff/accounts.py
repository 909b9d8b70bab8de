"""Staff accounts: create, change, list, and the signed-in user as the app keeps it."""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import Engine
from sqlmodel import Session, col, select

from shared.staff.audit import audit
from shared.staff.models import ROLES, StaffAccount
from shared.staff.passwords import check_password, hash_password
from shared.staff.permissions import Area, can
from shared.store.db import unit_of_work
from shared.store.errors import NotFound, ValidationFailed

USERNAME_RE = re.compile(r"^[a-z0-9][a-z0-9._-]{1,63}$")


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


def create_account(
    *, engine: Engine, username: str, password: str, role: str, display_name: str = "", actor: str = "cli"
) -> StaffUser:
    """Add a staff account (the username is unique and case-insensitive).

    Takes the engine, not a session: the password is hashed (~100 ms of scrypt) before the write transaction.
    """
    name = username.strip().lower()
    if not USERNAME_RE.match(name):
        raise ValidationFailed(f"username {username!r} must be 2-64 characters: a-z, 0-9, '.', '_' or '-'")
    _check_role(role)
    check_password(password)
    password_hash = hash_password(password)  # ~100 ms: before the transaction, which then stays short
    with unit_of_work(engine) as session:
        if session.exec(select(StaffAccount).where(StaffAccount.username == name)).first() is not None:
            raise ValidationFailed(f"username {name!r} is taken")
        account = StaffAccount(username=name, role=role, display_name=display_name.strip()[:100],
                               password_hash=password_hash)  # fmt: skip
        session.add(account)
        audit(session, actor=actor, action="staff.create", target=name, detail={"role": role})
        session.flush()
        return staff_user(account)


def list_accounts(*, session: Session) -> list[StaffAccount]:
    """Every account, by username (for the admin page; hashes stay server-side)."""
    return list(session.exec(select(StaffAccount).order_by(col(StaffAccount.username))).all())


def update_account(
    *,
    engine: Engine,
    username: str,
    actor: str,
    role: str | None = None,
    disabled: bool | None = None,
    password: str | None = None,
) -> None:
    """Change a role, disable/enable, or set a new password (which also clears a lock-out).

    Nobody can disable their own account, and an admin cannot take the admin role from themselves, so a
    clinic is never left without an admin by a slip of the mouse. Takes the engine, not a session: a new
    password is hashed (~100 ms of scrypt) before the write transaction.
    """
    if role is not None:
        _check_role(role)
    if password is not None:
        check_password(password)
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


def _check_role(role: str) -> None:
    if role not in ROLES:
        raise ValidationFailed(f"role {role!r} is not one of {', '.join(ROLES)}")


def staff_user(account: StaffAccount) -> StaffUser:
    """The account as the app keeps it: no hash, no ORM object."""
    assert account.id is not None
    return StaffUser(account.id, account.username, account.display_name or account.username, account.role)
