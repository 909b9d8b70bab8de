"""Sign-in for the staff app: the form, the server-side session (which a cookie carries across page loads), the
idle timeout, sign-out, and the per-page role guard."""

from __future__ import annotations

import streamlit as st

from kiosk import resources
from kiosk.page_scripts import run_in_page
from kiosk.staff.session_routes import CLAIM_PATH, END_PATH
from shared.staff.accounts import StaffUser
from shared.staff.permissions import Area
from shared.staff.sign_in import sign_in
from shared.staff.web_sessions import (
    COOKIE_NAME,
    Checked,
    check_session,
    digest,
    end_session,
    resume_session,
)
from shared.store.db import unit_of_work

USER_KEY = "staff_user"
SESSION_KEY = "staff_session"  # the server-side session's row id (never the cookie's secret)
HANDOFF_KEY = "staff_handoff"  # the one-time code the page posts to get its cookie, until it has it
CLEAR_KEY = "staff_clear_cookie"
DEAD_KEY = "staff_dead_cookie"  # hash of a cookie already found ended, so it is not looked up on every run
NOTICE_KEY = "sign_in_notice"


def current_user(*, touch: bool = True) -> StaffUser | None:
    """The signed-in user, checked against the server-side session on every run; None when signed out.

    A page load starts a new Streamlit session: the browser's cookie then names the session to resume.
    `touch=False` is for automatic refreshes, which must not count as the user being active.
    """
    idle_s = resources.settings().staff_session_timeout_min * 60
    session_id: int | None = st.session_state.get(SESSION_KEY)
    if session_id is None:
        return _resume(idle_s)
    checked = check_session(engine=resources.engine(), session_id=session_id, idle_s=idle_s, touch=touch)
    return _accept(checked)


def _resume(idle_s: float) -> StaffUser | None:
    """Sign in from the cookie a page load brought, once per Streamlit session."""
    token = _cookie()
    if not token or st.session_state.get(DEAD_KEY) == digest(token):
        return None
    resumed = resume_session(engine=resources.engine(), token=token, user_agent=_agent(), idle_s=idle_s)
    if resumed is None or resumed[1].user is None:
        st.session_state[DEAD_KEY] = digest(token)
        st.session_state[CLEAR_KEY] = True
        if resumed is not None and resumed[1].reason != "ended":
            st.session_state[NOTICE_KEY] = resumed[1].message
        return None
    st.session_state[SESSION_KEY] = resumed[0]
    return _accept(resumed[1])


def _accept(checked: Checked) -> StaffUser | None:
    if checked.user is None:
        _forget(checked.message)
        return None
    st.session_state[USER_KEY] = checked.user
    if checked.claimed:
        st.session_state.pop(HANDOFF_KEY, None)
    return checked.user


def sign_out(message: str | None = None) -> None:
    """End the session server-side (its cookie then signs nobody in) and forget everything this session held."""
    session_id = st.session_state.get(SESSION_KEY)
    if session_id is not None:
        with unit_of_work(resources.engine()) as session:
            end_session(session=session, session_id=session_id, reason="signed_out")
    _forget(message)


def _forget(message: str | None) -> None:
    for key in list(st.session_state.keys()):
        del st.session_state[key]
    token = _cookie()
    if token:
        st.session_state[DEAD_KEY] = digest(token)
    st.session_state[CLEAR_KEY] = True
    if message:
        st.session_state[NOTICE_KEY] = message


def keep_signed_in_on_this_device() -> None:
    """Until the browser holds its cookie, have the page claim it with the sign-in's one-time code."""
    handoff = st.session_state.get(HANDOFF_KEY)
    if handoff:
        run_in_page(f"fetch({CLAIM_PATH!r}, {{method: 'POST', body: {handoff!r}, credentials: 'same-origin'}});")


def sign_in_form() -> None:
    """The sign-in page; a wrong password and an unknown username get the same answer."""
    if st.session_state.pop(CLEAR_KEY, False):
        run_in_page(f"fetch({END_PATH!r}, {{method: 'POST', credentials: 'same-origin'}});")
    st.title("Staff sign-in")
    notice = st.session_state.get(NOTICE_KEY)
    if notice:
        st.info(notice)
    with st.form("sign_in"):
        username = st.text_input("Username", key="sign_in_username", autocomplete="username")
        password = st.text_input("Password", type="password", key="sign_in_password", autocomplete="current-password")
        submitted = st.form_submit_button("Sign in", type="primary")
    if not submitted:
        return
    with unit_of_work(resources.engine()) as session:  # the sign-in's one transaction
        answer = sign_in(session=session, username=username, password=password, user_agent=_agent(),
                         max_hours=resources.settings().staff_session_max_hours, source=resources.client_address(),
                         guard=resources.sign_in_guard())  # fmt: skip
    opened = answer.opened
    if answer.user is None or opened is None:
        st.error(answer.message)
        return
    st.session_state.pop(NOTICE_KEY, None)
    st.session_state[USER_KEY] = answer.user
    st.session_state[SESSION_KEY] = opened.session_id
    st.session_state[HANDOFF_KEY] = opened.handoff
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


def _cookie() -> str | None:
    """The session cookie the browser sent when this Streamlit session opened (None outside a browser)."""
    value = st.context.cookies.get(COOKIE_NAME)
    return value if isinstance(value, str) and value else None


def _agent() -> str:
    """The browser's User-Agent (the session is bound to it)."""
    value = st.context.headers.get("User-Agent")
    return value if isinstance(value, str) else ""
