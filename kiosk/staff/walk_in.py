"""The walk-in panel of Arrivals: find the patient, or add one, and mark them arrived with one button."""

from __future__ import annotations

import streamlit as st

from kiosk import resources
from kiosk.failsafe import safe_callback
from kiosk.staff.kit import acting_user, bidi_safe, notify, pick_patient
from shared.care.walk_ins import NewPatient, WalkInResult, check_in_walk_in
from shared.store.db import unit_of_work
from shared.store.types import utcnow

NEW_FIELDS = ("walk_in_first", "walk_in_last", "walk_in_dob")


def walk_in_panel() -> None:
    """Two ways in, side by side: a patient found by name, or a new one (first, last name and birth date)."""
    st.header("Walk-in")
    found, new = st.columns(2, gap="large")
    with found, st.container(border=True, key="walk_in_found"):
        st.markdown("**A known patient**")
        chosen = pick_patient("walk_in", "Walk-in patient")
        st.button("Check in as a walk-in", key="walk_in_check_in", type="primary", disabled=chosen is None,
                  on_click=check_in, kwargs={"patient_id": chosen})  # fmt: skip
    with new, st.form("walk_in_new", border=True):
        st.markdown("**A new patient**")
        left, right = st.columns(2)
        left.text_input("First name", key="walk_in_first", max_chars=100)
        right.text_input("Last name", key="walk_in_last", max_chars=100)
        st.text_input("Date of birth (YYYY-MM-DD)", key="walk_in_dob", placeholder="1950-04-17", max_chars=40)
        st.form_submit_button("Add and check in", key="walk_in_add", on_click=_add_and_check_in)


@safe_callback("walk-in")
def check_in(*, patient_id: int | None) -> None:
    """A known patient (chosen here, or a row of the no-appointment scans) marked arrived now."""
    if patient_id is None:
        notify("Choose the patient first.", "error")
        return
    if _walk_in(patient_id=patient_id) is not None:
        st.session_state["walk_in_search"] = ""


@safe_callback("walk-in new patient")
def _add_and_check_in() -> None:
    """The form's button: the fields are kept when refused (nothing typed is lost), emptied when done."""
    first, last, dob = (str(st.session_state.get(key, "")) for key in NEW_FIELDS)
    if _walk_in(new_patient=NewPatient(first=first, last=last, dob=dob)) is not None:
        for key in NEW_FIELDS:
            st.session_state[key] = ""


def _walk_in(*, patient_id: int | None = None, new_patient: NewPatient | None = None) -> WalkInResult | None:
    actor = acting_user("patients")
    if actor is None:
        notify("Your role does not give access to walk-ins.", "error")
        return None
    cfg = resources.settings()
    with unit_of_work(resources.engine()) as session:
        result = check_in_walk_in(session=session, site=cfg.site, tz=cfg.tz, now=utcnow(), actor=actor.username,
                                  patient_id=patient_id, new_patient=new_patient)  # fmt: skip
    name = bidi_safe(result.patient_name)
    if result.booked_at is not None:
        notify(f"{name} had an appointment at {result.booked_at.astimezone(cfg.tz):%H:%M}: marked arrived for it.")
    elif result.new_patient:
        notify(f"Added {name} as patient #{result.patient_id} and checked them in as a walk-in.")
    else:
        notify(f"{name} is checked in as a walk-in.")
    return result
