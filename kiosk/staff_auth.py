"""Sign-in for the staff app: the form, the session timeout, sign-out, and the per-page role guard."""

from __future__ import annotations

import time

import streamlit as st

from kiosk import resources
from shared.staff import Area, StaffUser, refresh_user, sign_in

USER_KEY = "staff_user"
ACTIVE_KEY = "staff_last_active"


def current_user(*, touch: bool = True) -> StaffUser | None:
    """The signed-in user, or None (also when the session has been idle too long).

    `touch=False` is for automatic refreshes, which must not count as the user being active.
    """
    user: StaffUser | None = st.session_state.get(USER_KEY)
    if user is None:
        return None
    timeout_s = resources.settings().staff_session_timeout_min * 60
    if time.time() - st.session_state.get(ACTIVE_KEY, 0.0) > timeout_s:
        sign_out(message="You were signed out after a period of inactivity.")
        return None
    fresh = refresh_user(resources.engine(), user)  # disabling or a new role applies to open sessions too
    if fresh is None:
        sign_out(message="You were signed out: your account is disabled.")
        return None
    st.session_state[USER_KEY] = fresh
    if touch:
        st.session_state[ACTIVE_KEY] = time.time()
    return fresh


def sign_out(message: str | None = None) -> None:
    """Forget the user and everything the session held."""
    for key in list(st.session_state.keys()):
        del st.session_state[key]
    if message:
        st.session_state["sign_in_notice"] = message


def sign_in_form() -> None:
    """The sign-in page; a wrong password and an unknown username get the same answer."""
    st.title("Staff sign-in")
    notice = st.session_state.get("sign_in_notice")
    if notice:
        st.info(notice)
    with st.form("sign_in"):
        username = st.text_input("Username", key="sign_in_username")
        password = st.text_input("Password", type="password", key="sign_in_password")
        submitted = st.form_submit_button("Sign in", type="primary")
    if not submitted:
        return
    answer = sign_in(resources.engine(), username, password, source=resources.client_address(),
                     guard=resources.sign_in_guard())  # fmt: skip
    if answer.user is None:
        st.error(answer.message)
        return
    st.session_state.pop("sign_in_notice", None)
    st.session_state[USER_KEY] = answer.user
    st.session_state[ACTIVE_KEY] = time.time()
    st.rerun()


def require(area: Area) -> StaffUser:
    """Stop the page unless a signed-in user's role allows `area` (pages call this first, so a direct URL
    cannot skip it)."""
    user = current_user()
    if user is None:
        st.error("Please sign in.")
        st.stop()
    assert user is not None
    if not user.can(area):
        st.error("Your role does not give access to this page.")
        st.stop()
    return user
