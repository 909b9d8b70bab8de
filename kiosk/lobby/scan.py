"""Every way in ends in one code path: throttle the scan, check in, and pick the screen the outcome leads to."""

from __future__ import annotations

import time
from datetime import date

import streamlit as st

from kiosk import resources
from kiosk.lobby.dob import parse_birth_date
from kiosk.lobby.language import _, apply_patient_language, lang
from kiosk.lobby.state import notify
from shared.care import checkin
from shared.care.arrivals import note_waiting_patient
from shared.care.checkin_messages import headline
from shared.store.db import unit_of_work
from shared.store.types import utcnow

AFTER_SESSION = ("in_session", "done")  # a scan at these appointment statuses goes straight to the questions


def _kiosk_id() -> str:
    """Which kiosk is scanning: the client's address (counted for the invalid-scan throttle)."""
    address = st.context.ip_address
    return address if isinstance(address, str) and address else "kiosk"


def handle_scan(text: str) -> None:
    """Every way in ends here: throttle, then the check-in service decides what comes next."""
    throttle = resources.scan_throttle()
    wait = throttle.wait_s(_kiosk_id(), time.monotonic())
    if wait > 0:
        notify(_("Please wait {n} seconds, then scan again.").format(n=int(wait) + 1))
        return
    outcome = checkin.begin(engine=resources.engine(), settings=resources.settings(), scan=text, kiosk=_kiosk_id())
    if outcome.result in checkin.REFUSED:
        throttle.failed(_kiosk_id(), time.monotonic())
        notify(headline(outcome, resources.settings().tz, lang()))
        st.session_state["screen"] = "welcome"
        return
    throttle.succeeded(_kiosk_id())
    apply_patient_language(outcome.language)
    st.session_state["notice"] = None
    st.session_state["token"] = outcome.token
    _show(outcome)


def _show(outcome: checkin.Outcome) -> None:
    """The screen an outcome leads to: the birth date, the questions after a session, or the result."""
    st.session_state["outcome"] = outcome
    if outcome.result in ("needs_dob", "wrong_dob"):
        st.session_state["screen"] = "dob"
        return
    again = outcome.result == "already_checked_in" and outcome.appointment_id is not None
    if again and outcome.appointment_status in AFTER_SESSION:
        ask_feedback()
        return
    if again and outcome.appointment_status == "arrived":
        cfg = resources.settings()
        assert outcome.appointment_id is not None
        with unit_of_work(resources.engine()) as session:
            st.session_state["waiting_told"] = note_waiting_patient(
                session=session, appointment_id=outcome.appointment_id, limit_min=cfg.waiting_alert_min,
                now=utcnow(), kiosk=_kiosk_id(),
            )  # fmt: skip
    st.session_state["screen"] = "result"


def ask_feedback() -> None:
    """Start the questions after a session."""
    st.session_state["feedback_step"] = "pain"
    st.session_state["screen"] = "feedback"


def confirm_birth_date(month: str, day: str, year: str) -> None:
    """Check the typed date; the fields keep what was typed, so a wrong try is corrected, not retyped."""
    dob = parse_birth_date(month, day, year, today=date.today())
    if not isinstance(dob, date):
        st.warning(dob)
        return
    token = st.session_state["token"]
    _show(checkin.confirm(engine=resources.engine(), settings=resources.settings(), token=token, dob=dob,
                          kiosk=_kiosk_id()))
    st.rerun()
