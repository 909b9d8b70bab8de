"""The home-exercise loop on the Patients page: who needs a nudge (under half of this week's exercises done),
a patient's adherence figures, and their take-home link to print or read out at the desk."""

from __future__ import annotations

import io

import pandas as pd
import streamlit as st
from sqlmodel import Session

from kiosk import resources
from kiosk.staff.actions import run_action
from kiosk.staff.kit import bidi_safe, card_preview, clinic_today, plain_table
from shared.care.card_print import card_pdf
from shared.care.home_links import current_link, link_key
from shared.care.patients import get_patient
from shared.care.qr import card_image
from shared.outcomes.adherence import Adherence, adherence, needs_nudge
from shared.store.db import read_session
from shared.store.types import utcnow

LINK_KEY = "patients_plan_link"  # (patient id, url, PNG, PDF) of the take-home link shown


def nudge_list() -> None:
    """Patients with a working take-home link who did under half of this week's exercises, lowest first."""
    cfg = resources.settings()
    with read_session(resources.engine()) as session:
        nudges = needs_nudge(session=session, today=clinic_today(), now=utcnow(), site=cfg.site)
    st.header("Needs a nudge")  # right under the page's title: h2 (axe's heading-order)
    if not nudges:
        st.caption("Everyone with a take-home link did at least half of this week's exercises.")
        return
    st.caption("Under half of this week's home exercises done (ticked on their take-home link).")
    rows = [{"Patient": f"#{n.patient_id} {bidi_safe(n.name)}", "This week": _week(n.adherence),
             "Days with data (30)": f"{n.adherence.days_with_data_30} of 30"} for n in nudges]  # fmt: skip
    frame = pd.DataFrame(rows)
    plain_table(frame, label="Patients who need a nudge", key="nudge_table")


def home_exercises(patient_id: int, username: str) -> None:
    """A patient's adherence, and their take-home link (the same one until it ends or is revoked)."""
    cfg = resources.settings()
    with read_session(resources.engine()) as session:
        figures = adherence(session=session, patient_id=patient_id, today=clinic_today())
    st.subheader("Home exercises")
    st.markdown(f'<p class="staff-adherence" id="adherence-{patient_id}">{figures.words()}</p>',
                unsafe_allow_html=True)  # fmt: skip
    if figures.needs_nudge:
        st.warning("Needs a nudge: under 50% this week.")
    if st.button("Show the take-home link", key=f"plan_link_{patient_id}",
                 help=f"Opens the plan on the patient's phone for {cfg.plan_link_days} days; the same link each time."):
        _make_link(patient_id, username)
    shown = st.session_state.get(LINK_KEY)
    if shown is None or shown[0] != patient_id:
        st.session_state.pop(LINK_KEY, None)
        return
    card_preview(shown[2], alt=f"The take-home plan link of patient #{patient_id} as a QR code")
    st.code(shown[1], language=None)
    st.download_button("Print the take-home link (PDF)", data=shown[3], file_name=f"plan-link-{patient_id}.pdf",
                       mime="application/pdf", on_click="ignore", key=f"print_plan_link_{patient_id}")  # fmt: skip


def _make_link(patient_id: int, username: str) -> None:
    cfg = resources.settings()

    def work(session: Session) -> tuple[str, str]:
        patient = get_patient(session=session, patient_id=patient_id)
        link = current_link(session=session, patient_id=patient_id, site=cfg.site, tz=cfg.tz,
                            key=link_key(cfg.data_dir), days=cfg.plan_link_days, language=patient.language,
                            actor=username)  # fmt: skip
        return patient.first_name, link.url(cfg.resolved_kiosk_url)

    done = run_action(work)
    if done is None:
        return
    first_name, url = done.value
    image = card_image(url, first_name=first_name, clinic_name=cfg.clinic_name,
                       hint=("Scan with your phone", "for your exercises."))  # fmt: skip
    png = io.BytesIO()
    image.save(png, format="PNG")
    st.session_state[LINK_KEY] = (patient_id, url, png.getvalue(), card_pdf(image))


def _week(figures: Adherence) -> str:
    return f"{figures.done_7} of {figures.prescribed_7} ({figures.percent_7 or 0}%)"
