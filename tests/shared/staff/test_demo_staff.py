"""The demo's staff accounts: one per role, so a new user can try each person's view (the manager's Reports too)."""

from __future__ import annotations

from sqlalchemy import Engine

from shared.demo.staff import ensure_demo_staff
from shared.staff.accounts import list_accounts
from shared.staff.permissions import can
from shared.store.db import read_session


def test_the_demo_has_an_account_for_every_role_and_new_passwords_each_start(engine: Engine) -> None:
    first = ensure_demo_staff(engine=engine)
    assert [(user, role) for user, role, _ in first] == [
        ("admin", "admin"), ("tech", "technician"), ("desk", "front_desk"), ("manager", "manager")
    ]
    with read_session(engine) as session:
        assert {a.username: a.role for a in list_accounts(session=session)}["manager"] == "manager"
    assert can("manager", "reports") and not can("technician", "reports")
    again = ensure_demo_staff(engine=engine)
    assert [p for _, _, p in again] != [p for _, _, p in first]
