"""Staff accounts on real SQLite and PostgreSQL: hashing, sign-in, lock-out, roles, audit."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine

from shared.staff.accounts import create_account, update_account
from shared.staff.audit import recent_audit
from shared.staff.passwords import hash_password, verify_password
from shared.staff.permissions import can
from shared.staff.sign_in import REFUSED, SignIn, sign_in
from shared.store.db import read_session, unit_of_work
from shared.store.errors import ValidationFailed

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
PASSWORD = "correct horse battery"


def signing_in(engine: Engine, **kwargs: Any) -> SignIn:
    """A sign-in as the staff app runs it: in a unit of work of its own."""
    with unit_of_work(engine) as session:
        return sign_in(session=session, **kwargs)


def test_passwords_are_stored_as_salted_scrypt_hashes() -> None:
    first, second = hash_password(PASSWORD), hash_password(PASSWORD)
    assert first.startswith("scrypt$32768$8$1$") and first != second
    assert PASSWORD not in first
    assert verify_password(PASSWORD, first) and not verify_password("wrong password", first)
    assert not verify_password(PASSWORD, "garbage")


def test_sign_in_with_the_right_password_and_refuse_the_wrong_one_alike(engine: Engine) -> None:
    create_account(engine=engine, username="Ana", password=PASSWORD, role="technician", display_name="Ana K.")
    good = signing_in(engine, username="ana", password=PASSWORD, now=NOW)
    wrong = signing_in(engine, username="ana", password="not the password", now=NOW)
    nobody = signing_in(engine, username="nobody", password=PASSWORD, now=NOW)
    assert good.user is not None and (good.user.username, good.user.role) == ("ana", "technician")
    assert (wrong.user, wrong.message) == (None, REFUSED)
    assert nobody.message == wrong.message, "the answer must not reveal which usernames exist"


def test_five_failures_pause_the_account_and_each_pause_is_longer_up_to_fifteen_minutes(engine: Engine) -> None:
    create_account(engine=engine, username="ana", password=PASSWORD, role="technician")
    at = NOW
    for pause_min in (1, 5, 15, 15):
        answers = [signing_in(engine, username="ana", password="bad password!", now=at).message for _ in range(5)]
        assert answers == [REFUSED] * 5, "a paused account answers like a wrong password"
        early = at + timedelta(minutes=pause_min - 0.5)
        assert signing_in(engine, username="ana", password=PASSWORD, now=early).user is None
        at += timedelta(minutes=pause_min + 0.5)
    assert signing_in(engine, username="ana", password=PASSWORD, now=at).user is not None, "never locked for good"


def test_a_new_password_from_an_admin_clears_the_lock(engine: Engine) -> None:
    create_account(engine=engine, username="ana", password=PASSWORD, role="technician")
    for _ in range(5):
        signing_in(engine, username="ana", password="bad password!", now=NOW)
    update_account(engine=engine, username="ana", actor="admin", password="a brand new secret")
    assert signing_in(engine, username="ana", password="a brand new secret", now=NOW).user is not None


def test_a_disabled_account_cannot_sign_in(engine: Engine) -> None:
    create_account(engine=engine, username="ana", password=PASSWORD, role="technician")
    update_account(engine=engine, username="ana", actor="admin", disabled=True)
    assert signing_in(engine, username="ana", password=PASSWORD, now=NOW).user is None


@pytest.mark.parametrize(
    ("username", "password", "role", "message"),
    [
        ("", PASSWORD, "admin", "username '' must be 2-64 characters"),
        ("<script>", PASSWORD, "admin", "username '<script>' must be"),
        ("ana", "short", "admin", "password must be at least 10 characters"),
        ("ana", PASSWORD, "boss", "role 'boss' is not one of technician, front_desk, manager, admin"),
    ],
)
def test_bad_account_details_are_refused(engine: Engine, username: str, password: str, role: str, message: str) -> None:
    with pytest.raises(ValidationFailed, match="^" + message.replace("(", r"\(")):
        create_account(engine=engine, username=username, password=password, role=role)


def test_usernames_are_unique_whatever_the_case(engine: Engine) -> None:
    create_account(engine=engine, username="ana", password=PASSWORD, role="technician")
    with pytest.raises(ValidationFailed, match="username 'ana' is taken"):
        create_account(engine=engine, username="ANA", password=PASSWORD, role="admin")


@pytest.mark.parametrize(
    ("role", "allowed"),
    [
        ("technician", {"board", "arrivals", "devices", "bind_devices"}),
        ("front_desk", {"board", "arrivals", "patients", "appointments"}),
        ("admin", {"board", "arrivals", "patients", "appointments", "plans", "equipment", "staff", "audit", "devices",
                   "bind_devices"}),
        ("intruder", set()),
    ],
)
def test_what_each_role_may_use(role: str, allowed: set[str]) -> None:
    areas = ("board", "arrivals", "patients", "appointments", "plans", "equipment", "staff", "audit", "devices",
             "bind_devices")
    assert {a for a in areas if can(role, a)} == allowed  # type: ignore[arg-type]


def test_changes_are_attributed_in_the_audit_log(engine: Engine) -> None:
    create_account(engine=engine, username="boss", password=PASSWORD, role="admin", actor="cli")
    create_account(engine=engine, username="ana", password=PASSWORD, role="technician", actor="boss")
    update_account(engine=engine, username="ana", actor="boss", role="front_desk")
    with read_session(engine) as session:
        entries = [(e.actor, e.action, e.target) for e in recent_audit(session=session)]
    assert entries[:2] == [("boss", "staff.update", "ana"), ("boss", "staff.create", "ana")]


def test_an_admin_cannot_disable_or_demote_their_own_account(engine: Engine) -> None:
    create_account(engine=engine, username="boss", password=PASSWORD, role="admin")
    create_account(engine=engine, username="kim", password=PASSWORD, role="admin")
    with pytest.raises(ValidationFailed, match=r"^you cannot disable your own account$"):
        update_account(engine=engine, username="boss", actor="boss", disabled=True)
    with pytest.raises(ValidationFailed, match=r"^you cannot take the admin role from your own account$"):
        update_account(engine=engine, username="boss", actor="boss", role="technician")
    update_account(engine=engine, username="boss", actor="boss", role="admin", disabled=False, password="a new secret!")
    own = signing_in(engine, username="boss", password="a new secret!", now=NOW)
    assert own.user is not None, "their own password they may change"
    with read_session(engine) as session:
        updates = [e.action for e in recent_audit(session=session)].count("staff.update")
    assert updates == 1, "refusals change and record nothing"
    update_account(engine=engine, username="boss", actor="kim", role="technician")
    update_account(engine=engine, username="boss", actor="kim", disabled=True)
    assert signing_in(engine, username="boss", password="a new secret!", now=NOW).user is None
