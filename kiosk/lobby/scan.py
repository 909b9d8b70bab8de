"""Every way in ends in one code path: one call into `shared.care.lobby_scan` (one transaction), then the screen
it leads to."""

from __future__ import annotations

from datetime import date
from functools import partial

import streamlit as st

from kiosk import resources
from kiosk.lobby.dob import parse_birth_date
from kiosk.lobby.language import _, apply_patient_language, lang
from kiosk.lobby.questionnaire import QUESTIONNAIRE_SCREEN
from kiosk.lobby.state import notify
from shared.care.checkin_messages import headline
from shared.care.lobby_scan import AfterCheckIn, LobbyStep, lobby_confirm, lobby_scan
from shared.outcomes.schedule import due_after_check_in
from shared.store.db import unit_of_work


def _kiosk_id() -> str:
    """Which kiosk is scanning: the client's address (counted for the invalid-scan throttle)."""
    address = st.context.ip_address
    return address if isinstance(address, str) and address else "kiosk"


def handle_scan(text: str) -> None:
    """Every way in ends here: the lobby's scan use case decides what comes next."""
    step = lobby_scan(engine=resources.engine(), settings=resources.settings(), throttle=resources.scan_throttle(),
                      scan=text, kiosk=_kiosk_id(), after_check_in=_questionnaires_due())  # fmt: skip
    if step.outcome is None:
        notify(_("Please wait {n} seconds, then scan again.").format(n=int(step.wait_s) + 1))
        return
    if step.screen == "welcome":
        notify(headline(step.outcome, resources.settings().tz, lang()))
        st.session_state["screen"] = "welcome"
        return
    apply_patient_language(step.outcome.language)
    st.session_state["notice"] = None
    st.session_state["token"] = step.outcome.token
    _show(step)


def _show(step: LobbyStep) -> None:
    """Go to the screen a step leads to, keeping its outcome for that screen."""
    st.session_state["outcome"] = step.outcome
    if step.screen == "feedback":
        ask_feedback()
        return
    if step.screen == "result":
        st.session_state["waiting_told"] = step.waiting_told
    st.session_state["screen"] = step.screen
    if step.screen == "result" and step.ask_more:
        st.session_state["screen"] = QUESTIONNAIRE_SCREEN  # a due questionnaire first (kiosk/lobby/questionnaire.py)


def _questionnaires_due() -> AfterCheckIn:
    """Asked in the check-in's transaction: a questionnaire due at this visit (one indexed query when none is
    assigned to the patient)."""
    return partial(due_after_check_in, tz=resources.settings().tz)


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
    with unit_of_work(resources.engine()) as session:
        step = lobby_confirm(session=session, settings=resources.settings(), token=st.session_state["token"],
                             dob=dob, kiosk=_kiosk_id(), after_check_in=_questionnaires_due())  # fmt: skip
    _show(step)
    st.rerun()
