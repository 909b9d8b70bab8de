"""Patients (front desk): find, add and edit patients; issue a new check-in card or revoke a lost one; who needs
a nudge with their home exercises, a patient's adherence and take-home link.

A found patient's card comes first (a lost or forgotten card is what brings most people to the desk), their
details after it."""

from __future__ import annotations

import io

import streamlit as st

from kiosk import resources
from kiosk.staff.actions import run_action
from kiosk.staff.auth import require
from kiosk.staff.home_exercise_panel import home_exercises, nudge_list
from kiosk.staff.kit import bidi_safe, card_preview, notify, pick_patient, show_error, show_notice
from kiosk.staff.outcomes_panel import outcomes_panel
from kiosk.theme import literal
from shared.care.card_print import card_pdf, issued_card_image
from shared.care.cards import IssuedCard, active_cards, issue_card, revoke_lost_card
from shared.care.models import Patient
from shared.care.patient_language import language_choices
from shared.care.patients import add_patient, edit_patient, get_patient
from shared.fhir.identifiers import identifier_text, parse_identifier
from shared.store.db import read_session
from shared.store.errors import ClinicError

CARD_KEY = "patients_new_card"  # (patient id, PNG, PDF) of the card just issued: the only place a token shows

user = require("patients")
cfg = resources.settings()
st.title("Patients")
show_notice()


def _add() -> None:
    with st.expander("Add a patient"), st.form("add_patient"):
        left, right = st.columns(2)
        first = left.text_input("First name", key="add_first", max_chars=100)
        last = right.text_input("Last name", key="add_last", max_chars=100)
        dob = left.text_input("Date of birth (YYYY-MM-DD)", key="add_dob", placeholder="1950-04-17", max_chars=40)
        phone = right.text_input("Phone (optional)", key="add_phone", max_chars=40)
        if not st.form_submit_button("Add patient", type="primary", key="add_patient_submit"):
            return
        added = run_action(lambda session: add_patient(session=session, first=first, last=last, dob=dob, phone=phone,
                                                       actor=user.username))  # fmt: skip
        if added is None:
            return
    patient = added.value
    st.session_state["patients_search"] = f"#{patient.id}"  # the search below is not drawn yet in this run
    notify(f"Added {bidi_safe(f'{patient.first_name} {patient.last_name}')} as patient #{patient.id}.")
    st.rerun()


def _edit(patient: Patient) -> None:
    assert patient.id is not None
    patient_id = patient.id
    st.subheader("Details")
    with st.form(f"edit_patient_{patient_id}"):
        left, right = st.columns(2)
        first = left.text_input("First name", value=patient.first_name, key=f"edit_first_{patient_id}", max_chars=100)
        last = right.text_input("Last name", value=patient.last_name, key=f"edit_last_{patient_id}", max_chars=100)
        dob = left.text_input("Date of birth (YYYY-MM-DD)", value=patient.dob.isoformat(),
                              key=f"edit_dob_{patient_id}", max_chars=40)  # fmt: skip
        phone = right.text_input("Phone", value=patient.phone or "", key=f"edit_phone_{patient_id}", max_chars=40)
        ehr_id = st.text_input("EHR identifier (optional, SYSTEM|VALUE)", value=identifier_text(patient),
                               key=f"edit_identifier_{patient_id}", max_chars=360,
                               placeholder="http://ehr.example/mrn|12345",
                               help="The patient's id in the clinic's EHR, so FHIR imports find them.")  # fmt: skip
        languages = language_choices()
        current = list(languages).index(patient.language) if patient.language in languages else 0
        language = st.selectbox("Lobby language", list(languages), format_func=languages.__getitem__, index=current,
                                key=f"edit_language_{patient_id}",
                                help="The lobby speaks this language after the patient's scan.")  # fmt: skip
        if not st.form_submit_button("Save changes", key=f"edit_save_{patient_id}"):
            return
    # the whole form, all or nothing
    saved = run_action(lambda session: edit_patient(session=session, patient_id=patient_id, first=first, last=last,
                                                    dob=dob, phone=phone, identifier=parse_identifier(ehr_id),
                                                    language=language, actor=user.username))  # fmt: skip
    if saved is None:
        return
    notify(f"Saved the changes to patient #{patient_id}.")
    st.rerun()


def _printable(card: IssuedCard) -> tuple[bytes, bytes]:
    """The card as a PNG (for the preview and the download) and as a print-ready card-size PDF."""
    image = issued_card_image(card, clinic_name=cfg.clinic_name)
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue(), card_pdf(image)


def _cards(patient_id: int) -> None:
    st.subheader("Check-in card")
    with read_session(resources.engine()) as session:
        working = active_cards(session=session, patient_id=patient_id)
    st.caption("A working card." if working else "No working card: the patient cannot check in with a card.")
    issue, revoke = st.columns(2)
    if issue.button("Issue a new card", key=f"issue_card_{patient_id}", help="Any older card stops working."):
        issued = run_action(lambda session: issue_card(session=session, patient_id=patient_id,
                                                       base_url=cfg.resolved_kiosk_url,
                                                       actor=user.username))  # fmt: skip
        if issued is None:
            return
        card = issued.value
        st.session_state[CARD_KEY] = (patient_id, *_printable(card))
        notify(f"New card for patient #{patient_id}; older cards no longer work.")
        st.rerun()
    with revoke.popover("Revoke cards", disabled=not working):
        st.write("For a lost card: it stops working at once. Issue a new card when the patient needs one.")
        if st.button("Revoke the patient's cards", key=f"revoke_cards_{patient_id}", type="primary"):
            revoked = run_action(lambda session: revoke_lost_card(session=session, patient_id=patient_id,
                                                                  actor=user.username))  # fmt: skip
            if revoked is None:
                return
            st.session_state.pop(CARD_KEY, None)
            links = revoked.value.plan_links
            also = f" and {links} take-home plan link(s)" if links else ""
            notify(f"Revoked {revoked.value.cards} card(s){also} of patient #{patient_id}.")
            st.rerun()
    new_card = st.session_state.get(CARD_KEY)
    if new_card is None or new_card[0] != patient_id:
        st.session_state.pop(CARD_KEY, None)  # shown only while this patient stays open
        return
    card_preview(new_card[1], alt=f"The new check-in card of patient #{patient_id}: a QR code and the first name")
    st.caption("The new card. Print it, or download it for printing.")
    png, pdf = st.columns(2)
    pdf.download_button("Print card (PDF)", data=new_card[2], file_name=f"card-patient-{patient_id}.pdf",
                        mime="application/pdf", on_click="ignore", key=f"print_card_{patient_id}", type="primary",
                        help="Card size (85.7 x 54 mm): print at 100 % (actual size).")  # fmt: skip
    png.download_button("Download the card (PNG)", data=new_card[1], file_name=f"card-patient-{patient_id}.png",
                        mime="image/png", on_click="ignore", key=f"download_card_{patient_id}")  # fmt: skip


_add()
nudge_list()
chosen = pick_patient("patients", table=True)
if chosen is not None:
    try:
        with read_session(resources.engine()) as session:
            found = get_patient(session=session, patient_id=chosen)
    except ClinicError as exc:
        show_error(str(exc))
    else:
        st.header(literal(f"Patient #{chosen}: {bidi_safe(f'{found.first_name} {found.last_name}')}"))
        _cards(chosen)
        outcomes_panel(chosen, user.username)
        home_exercises(chosen, user.username)
        _edit(found)
