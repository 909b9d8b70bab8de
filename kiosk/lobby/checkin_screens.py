"""The check-in screens: welcome (scan the card), confirm the birth date, and the result with today's plan."""

from __future__ import annotations

import time
from html import escape

import streamlit as st

from kiosk import resources
from kiosk.failsafe import patient_guarded
from kiosk.lobby.camera import read_qr
from kiosk.lobby.dob import birth_date_form
from kiosk.lobby.language import _, follow_the_patients_choice, lang
from kiosk.lobby.plan import plan_cards, take_home
from kiosk.lobby.scan import ask_feedback, confirm_birth_date, handle_scan
from kiosk.lobby.state import notify, reset
from kiosk.lobby.text import SCAN_LABEL, WAITING_TOLD, tries_left
from kiosk.page_scripts import keep_scan_field_focused
from kiosk.theme import literal
from shared.care import checkin
from shared.care.checkin_messages import clock, headline
from shared.care.todays_plan import todays_plan
from shared.store.clock import local_today
from shared.store.db import read_session
from shared.store.types import utcnow

NOTICE_S = 15  # a message on the welcome screen ("couldn't read that card") clears itself after this


def welcome_screen() -> None:
    """The clinic's name and the scan field, with the camera as a way in for a card without a scanner."""
    cfg = resources.settings()
    st.title(cfg.clinic_name)
    welcome = escape(_("Welcome! Please scan the code on your card to check in."))
    st.markdown(f'<p class="kiosk-message">{welcome}</p>', unsafe_allow_html=True)
    if st.session_state.get("notice"):
        st.error(literal(st.session_state["notice"]))
        _notice_timer()
    scan = st.text_input(_(SCAN_LABEL), key="scan", placeholder=_("Hold your card under the scanner"))
    keep_scan_field_focused("scan")
    with st.expander(_("No scanner? Use the camera")):
        picture = st.camera_input(_("Show your card to the camera"), key="camera")
    if scan:
        st.session_state["clear_scan"] = True
        handle_scan(scan)
        st.rerun()
    if picture is not None and picture.file_id != st.session_state.get("camera_done"):
        st.session_state["camera_done"] = picture.file_id  # each picture is read once, even across reruns
        text = read_qr(picture.getvalue())
        if text is None:
            notify(_("We couldn't see a code in that picture. Please hold the card closer."))
        else:
            handle_scan(text)
        st.rerun()


def birth_date_screen() -> None:
    """Ask for the birth date before anything personal is shown."""
    outcome: checkin.Outcome = st.session_state["outcome"]
    st.title(_("Please confirm it's you"))
    message = headline(outcome, resources.settings().tz, lang())
    if outcome.result == "wrong_dob":
        st.error(literal(f"{message} {tries_left(outcome, lang())}"))
    else:
        st.markdown(f'<p class="kiosk-message">{escape(message)}</p>', unsafe_allow_html=True)
    typed = birth_date_form()
    if st.button(_("Start over"), key="cancel_dob", width="stretch"):
        reset()
        st.rerun()
    if typed is not None:
        confirm_birth_date(*typed)


def result_screen() -> None:
    """Checked in with today's plan and its take-home code, or where to go instead."""
    outcome: checkin.Outcome = st.session_state["outcome"]
    cfg = resources.settings()
    message = headline(outcome, cfg.tz, lang())
    if outcome.ok:
        st.title(_("You're checked in"))
        st.success(literal(message))
        if st.session_state.get("waiting_told"):
            st.info(literal(_(WAITING_TOLD)))
        _plan(outcome.patient_id, outcome.site or cfg.site)
        if outcome.patient_id is not None:
            take_home(outcome.patient_id, outcome.site or cfg.site)
    else:
        st.title(_("Please see the front desk"))
        st.warning(literal(message))
        if outcome.result == "locked" and outcome.locked_until:
            after = clock(outcome.locked_until, cfg.tz, lang())
            st.markdown(literal(_("You can try again after {time}.").format(time=after)))
    if st.button(_("Done"), key="done", type="primary", width="stretch"):
        reset()
        st.rerun()
    finished = outcome.ok and outcome.appointment_id is not None
    if finished:
        st.divider()  # apart from "Done": this one starts the questions after the session
    if finished and st.button(_("I'm done with my session"), key="im_done", width="stretch"):
        ask_feedback()
        st.rerun()


@st.fragment(run_every=2)
@patient_guarded("notice_timer")
def _notice_timer() -> None:
    """The welcome screen's message goes away by itself, so the next patient never reads it."""
    follow_the_patients_choice()
    if time.time() - st.session_state.get("notice_at", time.time()) > NOTICE_S:
        st.session_state["notice"] = None
        st.rerun(scope="app")


@st.fragment(run_every=5)
@patient_guarded("plan")
def _plan(patient_id: int | None, site: str) -> None:
    """Today's plan, re-read every few seconds so each station's status stays live."""
    follow_the_patients_choice()
    if patient_id is None:
        return
    cfg = resources.settings()
    now = utcnow()
    with read_session(resources.engine()) as session:
        lines = todays_plan(session=session, patient_id=patient_id, day=local_today(now, cfg.tz), site=site,
                            tz=cfg.tz, now=now, contact_time_min=cfg.contact_time_min)  # fmt: skip
    if not lines:
        st.markdown(_("Your therapist will go through today's exercises with you."))
        return
    st.header(_("Today's exercises"))
    st.markdown(plan_cards(lines, now), unsafe_allow_html=True)
