"""The lobby kiosk (Streamlit script): scan a card, confirm the birth date, see today's plan, reset.

Three ways in, one code path (`_handle_scan`): a USB scanner typing into the focused field, the tablet camera,
or a phone opening the card's link (`?t=`). The scan field is read on every run rather than through an
`on_change` callback, which Streamlit can skip right after a server restart or a reconnect.
"""

from __future__ import annotations

import time
from datetime import date
from html import escape

import streamlit as st

from kiosk import resources
from kiosk.camera import read_qr
from kiosk.lobby_text import MONTHS, SCAN_LABEL, clock, headline, plan_card_html, tries_left
from kiosk.theme import apply_kiosk_theme, idle_reset, keep_scan_field_focused, literal, status_badge
from shared import checkin
from shared.clock import local_today
from shared.models import utcnow
from shared.plans import todays_plan

SERVER_IDLE_FACTOR = 5  # if the browser's idle timer is not running, the server resets after 5x the idle time


def main() -> None:
    """Render the screen the session is on."""
    st.set_page_config(page_title="Check in", page_icon=None, layout="centered", initial_sidebar_state="collapsed")
    apply_kiosk_theme()
    _init_state()
    if "t" in st.query_params:  # a phone (or the tablet) opened a card's link
        scan = "t=" + st.query_params["t"]
        st.query_params.clear()  # the token must not linger in the address bar or history
        _handle_scan(scan)
    if st.session_state.pop("clear_scan", False):
        st.session_state["scan"] = ""
    screen = st.session_state["screen"]
    if screen != "welcome":
        idle_reset(resources.settings().lobby_idle_s)
        _server_idle_guard()
    {"welcome": _welcome, "dob": _birth_date, "result": _result}[screen]()


def _init_state() -> None:
    defaults = {"screen": "welcome", "token": None, "outcome": None, "notice": None, "last_seen": time.time()}
    for key, value in defaults.items():
        st.session_state.setdefault(key, value)
    st.session_state["last_seen"] = time.time()


def _reset() -> None:
    """Back to the welcome screen; nothing of the previous patient stays in the session."""
    for key in ("token", "outcome", "notice", "camera"):
        st.session_state.pop(key, None)
    st.session_state["screen"] = "welcome"
    st.session_state["clear_scan"] = True


def _kiosk_id() -> str:
    """Which kiosk is scanning: the client's address (counted for the invalid-scan throttle)."""
    address = st.context.ip_address
    return address if isinstance(address, str) and address else "kiosk"


def _handle_scan(text: str) -> None:
    """Every way in ends here: throttle, then the check-in service decides what comes next."""
    throttle = resources.scan_throttle()
    wait = throttle.wait_s(_kiosk_id(), time.monotonic())
    if wait > 0:
        st.session_state["notice"] = f"Please wait {int(wait) + 1} seconds, then scan again."
        return
    outcome = checkin.begin(resources.engine(), resources.settings(), text, kiosk=_kiosk_id())
    if outcome.result == "invalid":
        throttle.failed(_kiosk_id(), time.monotonic())
        st.session_state["notice"] = headline(outcome, resources.settings().tz)
        st.session_state["screen"] = "welcome"
        return
    throttle.succeeded(_kiosk_id())
    st.session_state["notice"] = None
    st.session_state["token"] = outcome.token
    st.session_state["outcome"] = outcome
    st.session_state["screen"] = "dob" if outcome.result == "needs_dob" else "result"


def _welcome() -> None:
    cfg = resources.settings()
    st.title(cfg.clinic_name)
    st.markdown('<p class="kiosk-message">Welcome! Please scan the code on your card to check in.</p>',
                unsafe_allow_html=True)  # fmt: skip
    if st.session_state.get("notice"):
        st.error(st.session_state["notice"])
    scan = st.text_input(SCAN_LABEL, key="scan", placeholder="Hold your card under the scanner")
    keep_scan_field_focused(SCAN_LABEL)
    with st.expander("No scanner? Use the camera"):
        picture = st.camera_input("Show your card to the camera", key="camera")
    if scan:
        st.session_state["clear_scan"] = True
        _handle_scan(scan)
        st.rerun()
    if picture is not None and picture.file_id != st.session_state.get("camera_done"):
        st.session_state["camera_done"] = picture.file_id  # each picture is read once, even across reruns
        text = read_qr(picture.getvalue())
        if text is None:
            st.session_state["notice"] = "We couldn't see a code in that picture. Please hold the card closer."
        else:
            _handle_scan(text)
        st.rerun()


def _birth_date() -> None:
    outcome: checkin.Outcome = st.session_state["outcome"]
    st.title("Please confirm it's you")
    message = headline(outcome, resources.settings().tz)
    if outcome.result == "wrong_dob":
        st.error(literal(f"{message} {tries_left(outcome)}"))
    else:
        st.markdown(f'<p class="kiosk-message">{escape(message)}</p>', unsafe_allow_html=True)
    this_year = date.today().year
    with st.form("dob", clear_on_submit=True, border=False):
        month = st.selectbox("Month", MONTHS, index=None, placeholder="Month", key="dob_month")
        day = st.selectbox("Day", list(range(1, 32)), index=None, placeholder="Day", key="dob_day")
        year = st.selectbox("Year", list(range(this_year, 1899, -1)), index=None, placeholder="Year", key="dob_year")
        submitted = st.form_submit_button("Continue", type="primary", use_container_width=True)
    if st.button("Start over", key="cancel_dob", use_container_width=True):
        _reset()
        st.rerun()
    if submitted:
        _confirm_birth_date(month, day, year)


def _confirm_birth_date(month: str | None, day: int | None, year: int | None) -> None:
    if month is None or day is None or year is None:
        st.warning("Please choose the month, the day and the year.")
        return
    try:
        dob = date(year, MONTHS.index(month) + 1, day)
    except ValueError:
        st.warning(f"{month} {day} is not a date. Please check the day.")
        return
    token = st.session_state["token"]
    outcome = checkin.confirm(resources.engine(), resources.settings(), token, dob, kiosk=_kiosk_id())
    st.session_state["outcome"] = outcome
    st.session_state["screen"] = "dob" if outcome.result == "wrong_dob" else "result"
    st.rerun()


def _result() -> None:
    outcome: checkin.Outcome = st.session_state["outcome"]
    cfg = resources.settings()
    message = headline(outcome, cfg.tz)
    if outcome.ok:
        st.title("You're checked in")
        st.success(literal(message))
        _plan(outcome.patient_id, outcome.site or cfg.site)
    else:
        st.title("Please see the front desk")
        st.warning(literal(message))
        if outcome.result == "locked" and outcome.locked_until:
            st.markdown(f"You can try again after {clock(outcome.locked_until, cfg.tz)}.")
    if st.button("Done", key="done", type="primary", use_container_width=True):
        _reset()
        st.rerun()


@st.fragment(run_every=5)
def _plan(patient_id: int | None, site: str) -> None:
    """Today's plan, re-read every few seconds so each station's status stays live."""
    if patient_id is None:
        return
    cfg = resources.settings()
    lines = todays_plan(
        resources.engine(), patient_id=patient_id, day=local_today(utcnow(), cfg.tz), site=site, tz=cfg.tz
    )
    if not lines:
        st.markdown("Your therapist will go through today's exercises with you.")
        return
    st.header("Today's exercises")
    cards = [plan_card_html(n, line, status_badge(line.equipment_status)) for n, line in enumerate(lines, 1)]
    st.markdown("".join(cards), unsafe_allow_html=True)


@st.fragment(run_every=10)
def _server_idle_guard() -> None:
    """A safety net for a browser whose idle timer is not running: reset after a long silence."""
    limit = resources.settings().lobby_idle_s * SERVER_IDLE_FACTOR
    if time.time() - st.session_state.get("last_seen", time.time()) > limit:
        _reset()
        st.rerun(scope="app")


main()
