"""Arrivals: the therapist's alerts (a pain of 7 or more or a "very hard" session, until someone acknowledges
them), today's appointments with who is waiting (refreshing by itself), the front-desk actions, the patients'
feedback after their session (high pain highlighted), and patients who scanned a card without an appointment
today; the walk-in forms come after the queue, which is what the front desk watches."""

from __future__ import annotations

from datetime import datetime

import streamlit as st

from kiosk import resources
from kiosk.failsafe import safe_callback, staff_guarded
from kiosk.staff.actions import run_action
from kiosk.staff.auth import require
from kiosk.staff.kit import acting_user, bidi_safe, notify, show_notice
from kiosk.staff.walk_in import check_in as check_in_walk_in
from kiosk.staff.walk_in import walk_in_panel
from kiosk.theme import literal
from shared.care.appointments import next_statuses, set_appointment_status
from shared.care.arrivals import (
    Arrival,
    describe_arrival,
    queue_order,
    todays_arrivals,
    todays_walk_ins,
    waits_too_long,
)
from shared.care.feedback import Feedback, describe_exercises, describe_feedback, latest_feedback
from shared.outcomes.alerts import OpenAlert, acknowledge_alert, open_alerts
from shared.store.db import read_session
from shared.store.types import utcnow

REFRESH_S = 10
# The buttons of the workflow's steps (`next_statuses` without corrections; those are on the Appointments page).
ACTION_LABELS = {"arrived": "Mark arrived", "in_session": "Start session", "done": "Mark done",
                 "no_show": "Mark no-show"}  # fmt: skip
DONE_WORDS = {"arrived": "marked arrived", "in_session": "in session", "done": "done", "no_show": "marked no-show"}

user = require("arrivals")
cfg = resources.settings()
st.title("Arrivals")


@safe_callback("arrivals status")
def _set_status(appointment_id: int, status: str, patient_name: str) -> None:
    """Button callback: runs before the fragment redraws, so the list shows the change at once."""
    actor = acting_user("arrivals")
    if actor is None:
        return
    done = run_action(lambda session: set_appointment_status(session=session, appointment_id=appointment_id,
                                                             status=status, actor=actor.username),
                      refused=lambda exc: notify(str(exc), "error"))  # fmt: skip
    if done is not None:
        notify(f"{bidi_safe(patient_name)}: {DONE_WORDS[status]}.")


@safe_callback("arrivals acknowledge")
def _acknowledge(alert_id: int, patient_name: str) -> None:
    """Button callback: a staff member has seen the alert (audited); it leaves the list."""
    actor = acting_user("arrivals")
    if actor is None:
        return
    done = run_action(lambda session: acknowledge_alert(session=session, alert_id=alert_id, actor=actor.username),
                      refused=lambda exc: notify(str(exc), "error"))  # fmt: skip
    if done is not None:
        notify(f"{bidi_safe(patient_name)}: alert acknowledged.")


def _alerts(alerts: list[OpenAlert]) -> None:
    """Each open alert once, with the button that acknowledges it."""
    if not alerts:
        return
    st.header("Alerts for the therapist")
    for alert in alerts:
        with st.container(border=True, key=f"alert-{alert.id}"):
            words, button = st.columns([6, 2], vertical_alignment="center")
            at = alert.raised_at.astimezone(cfg.tz)
            words.error(literal(f"{bidi_safe(alert.patient_name)}: {alert.words} ({at:%a %H:%M})."))
            button.button("Acknowledge", key=f"alert-ack-{alert.id}", on_click=_acknowledge,
                          args=(alert.id, alert.patient_name))  # fmt: skip


def _row(row: Arrival, answers: Feedback | None, now: datetime) -> None:
    with st.container(border=True, key=f"arrival-{row.appointment_id}"):
        when, who, status, buttons = st.columns([0.9, 2.2, 3.4, 5.4], vertical_alignment="center")
        when.text(f"{row.starts_at.astimezone(cfg.tz):%H:%M}\n{row.minutes} min")
        who.text(bidi_safe(row.patient_name) + (f"\nwith {bidi_safe(row.clinician)}" if row.clinician else ""))
        status.text(describe_arrival(row, cfg.tz, now))
        actions = [(new, ACTION_LABELS[new]) for new in next_statuses(row.status, corrections=False)]
        row_buttons = buttons.container(horizontal=True, horizontal_alignment="right")  # each as wide as its words
        for new_status, label in actions:
            row_buttons.button(label, key=f"arrivals-{new_status}-{row.appointment_id}", on_click=_set_status,
                               args=(row.appointment_id, new_status, row.patient_name))  # fmt: skip
        if waits_too_long(row, cfg.waiting_alert_min):
            st.warning(f"Waiting {row.waiting_min} min: longer than {cfg.waiting_alert_min} min.")
        if answers is not None:
            _feedback(answers)


def _feedback(answers: Feedback) -> None:
    """The patient's answers after the session; a pain of 7 or more stands out for the clinician."""
    words = describe_feedback(answers, cfg.tz)
    if answers.pain_alert:
        st.error(literal(f"{words}. High pain: check with the patient before they leave."))
    else:
        st.info(literal(words))
    per_exercise = describe_exercises(answers)
    if per_exercise:
        st.text(bidi_safe(per_exercise))


@st.fragment(run_every=REFRESH_S)
@staff_guarded("arrivals")
def live_arrivals() -> None:
    """Today's list; redraws itself every few seconds without reloading the page."""
    now = utcnow()
    show_notice()
    with read_session(resources.engine()) as session:
        rows = todays_arrivals(session=session, site=cfg.site, tz=cfg.tz, now=now)
        answers = latest_feedback(session=session, appointment_ids=[r.appointment_id for r in rows])
        alerts = open_alerts(session=session, site=cfg.site)
    _alerts(alerts)
    waiting = sum(1 for r in rows if r.status == "arrived")
    st.caption(f"{len(rows)} appointment(s) today · {waiting} waiting · updated {now.astimezone(cfg.tz):%H:%M:%S}")
    if not rows:
        st.info("No appointments today.")
    flagged = frozenset(aid for aid, feedback in answers.items() if feedback.pain_alert)
    for row in queue_order(rows, flagged=flagged):
        _row(row, answers.get(row.appointment_id), now)
    _scans_without_appointment(now)


def _scans_without_appointment(now: datetime) -> None:
    """Who scanned a card with no appointment today and is not sorted out yet; the front desk checks them in
    as a walk-in from their row."""
    st.header("Scanned without an appointment today")
    with read_session(resources.engine()) as session:
        walk_ins = todays_walk_ins(session=session, site=cfg.site, tz=cfg.tz, now=now)
    if not walk_ins:
        st.caption("Nobody waiting to be sorted out.")
        return
    can_check_in = user.can("patients")
    widths = [3, 2, 3] if can_check_in else [3, 2]
    header = st.columns(widths)
    for column, words in zip(header, ("Patient", "Scanned at", "Action"), strict=False):
        column.markdown(f"**{words}**")
    for w in walk_ins:
        with st.container(key=f"scan-{w.patient_id}"):
            cells = st.columns(widths, vertical_alignment="center")
            cells[0].text(bidi_safe(w.patient_name))
            cells[1].text(f"{w.at.astimezone(cfg.tz):%H:%M}")
            if can_check_in:
                cells[2].button("Check in as a walk-in", key=f"scan-walk-in-{w.patient_id}", on_click=check_in_walk_in,
                                kwargs={"patient_id": w.patient_id})  # fmt: skip


live_arrivals()
if user.can("patients"):
    walk_in_panel()
