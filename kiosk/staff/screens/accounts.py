"""Staff accounts (admin): who may sign in, with which role; add, change role, disable/enable, new password.

Above them, what an administrator must act on for the whole site (shared/upkeep): a nearly full data disk, a
backup never made or too old, with the disk's fill and the last backup as figures.
"""

from __future__ import annotations

from datetime import timedelta

import pandas as pd
import streamlit as st

from kiosk import resources
from kiosk.staff.actions import attempt, show_error
from kiosk.staff.auth import require
from kiosk.staff.kit import local, rerun_with_notice, show_notice
from kiosk.theme import literal
from shared.staff.accounts import create_account, list_accounts, update_account
from shared.staff.models import ROLES, StaffAccount
from shared.staff.passwords import MIN_PASSWORD
from shared.store.db import read_session
from shared.store.types import utcnow
from shared.upkeep.warnings import upkeep

user = require("staff")
cfg = resources.settings()

st.title("Staff accounts")


def _role(role: str) -> str:
    return role.replace("_", " ")


def _state(account: StaffAccount) -> str:
    if account.disabled:
        return "disabled"
    if account.locked_until is not None and account.locked_until > utcnow():
        return f"locked until {local(account.locked_until, cfg.tz, '%H:%M')}"
    return "active"


def _ago(age: timedelta) -> str:
    minutes = max(0, int(age.total_seconds() // 60))
    if minutes < 60:
        return f"{minutes} min ago"
    if minutes < 48 * 60:
        return f"{minutes // 60} h ago"
    return f"{minutes // (24 * 60)} days ago"


def _upkeep() -> None:
    """The site's warnings (as boxes), then the data disk and the last backup (as plain text)."""
    now = utcnow()
    site = upkeep(settings=cfg, now=now)
    for warning in site.warnings:
        st.warning(literal(warning))
    st.text(f"Data disk: {site.disk.describe()}")
    backup = site.backup
    if backup is None:
        st.text("Last backup: none yet")
    else:
        st.text(f"Last backup: {local(backup.at, cfg.tz)} ({_ago(backup.age(now))}), {backup.path}")


def _table(accounts: list[StaffAccount]) -> None:
    rows = [
        {
            "Username": a.username,
            "Name": a.display_name,
            "Role": _role(a.role),
            "State": _state(a),
            "Last sign-in": local(a.last_login_at, cfg.tz),
            "Created": local(a.created_at, cfg.tz),
        }
        for a in accounts  # only these fields: the password hash never leaves the server's store
    ]
    st.dataframe(pd.DataFrame(rows), hide_index=True)


def _add() -> None:
    st.header("Add an account")
    with st.form("add_account"):
        left, right = st.columns(2)
        username = left.text_input("Username", key="add_username", help="a-z, 0-9, '.', '_' or '-'; 2-64 characters.")
        display = right.text_input("Name shown in the app", key="add_display")
        role = left.selectbox("Role", ROLES, index=None, format_func=_role, placeholder="Choose a role", key="add_role")
        left, right = st.columns(2)
        password = left.text_input(
            f"Password (at least {MIN_PASSWORD} characters)", type="password", key="add_password"
        )
        repeat = right.text_input("Repeat the password", type="password", key="add_repeat")
        submitted = st.form_submit_button("Add account", type="primary")
    if not submitted:
        return
    if password != repeat:
        show_error("The two passwords differ.")
        return
    made = attempt(lambda: create_account(engine=resources.engine(), username=username, password=password,
                                          role=role or "", display_name=display, actor=user.username))  # fmt: skip
    if made is not None:
        rerun_with_notice(f"Added {made.value.username} as {_role(made.value.role)}.")


def _manage(accounts: list[StaffAccount]) -> None:
    st.header("Change an account")
    by_name = {a.username: a for a in accounts}
    chosen = st.selectbox(
        "Account",
        list(by_name),
        key="manage_account",
        format_func=lambda n: f"{n} ({by_name[n].display_name or 'no name'})",
    )
    if chosen is None:
        return
    account = by_name[chosen]
    own = account.username == user.username
    if own:
        st.caption("This is your own account: you cannot disable it or take the admin role from it.")
    role_col, state_col = st.columns(2)
    with role_col:
        new_role = st.selectbox(
            "Role",
            ROLES,
            index=ROLES.index(account.role) if account.role in ROLES else None,
            format_func=_role,
            key=f"manage-role-{chosen}",
            disabled=own,
        )
        if st.button("Change role", key=f"manage-set-role-{chosen}", disabled=own):
            _update(chosen, f"{chosen} is now {_role(new_role or '')}.", role=new_role or "")
    with state_col:
        st.text(f"State: {_state(account)}")
        if account.disabled:
            if st.button("Enable account", key=f"manage-enable-{chosen}"):
                _update(chosen, f"{chosen} can sign in again.", disabled=False)
        elif st.button("Disable account", key=f"manage-disable-{chosen}", disabled=own):
            _update(chosen, f"{chosen} can no longer sign in.", disabled=True)
    with st.form(f"manage-password-{chosen}", clear_on_submit=True):
        st.text("Set a new password (this also lifts a lock-out after failed sign-ins).")
        password = st.text_input("New password", type="password", key=f"manage-password1-{chosen}")
        repeat = st.text_input("Repeat the new password", type="password", key=f"manage-password2-{chosen}")
        if st.form_submit_button("Set password"):
            if password != repeat:
                show_error("The two passwords differ.")
            else:
                _update(chosen, f"New password set for {chosen}.", password=password)


def _update(
    username: str, done: str, *, role: str | None = None, disabled: bool | None = None, password: str | None = None
) -> None:
    if attempt(lambda: update_account(engine=resources.engine(), username=username, actor=user.username, role=role,
                                      disabled=disabled, password=password)) is not None:  # fmt: skip
        rerun_with_notice(done)


show_notice()
_upkeep()
with read_session(resources.engine()) as session:
    accounts = list_accounts(session=session)
_table(accounts)
_add()
if accounts:
    _manage(accounts)
