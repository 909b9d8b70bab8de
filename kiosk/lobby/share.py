"""The plan on the patient's phone, opened from the lobby's QR code: read-only, no name, no birth date."""

from __future__ import annotations

from html import escape

import streamlit as st

from kiosk import resources
from kiosk.lobby.language import LANG_KEY, _, lang
from kiosk.lobby.plan import plan_cards
from kiosk.page_scripts import page_language
from shared.care.plan_shares import open_share
from shared.care.todays_plan import todays_plan
from shared.i18n import date_words
from shared.store.db import read_session
from shared.store.types import utcnow


def shared_plan(token: str) -> None:
    """Today's plan for a working link; one plain sentence for an unknown, expired or revoked one."""
    cfg = resources.settings()
    now = utcnow()
    with read_session(resources.engine()) as session:
        shared = open_share(session=session, token=token, now=now)
    if shared is not None and shared.language:
        st.session_state[LANG_KEY] = shared.language
    page_language(lang(), {})
    st.title(cfg.clinic_name)
    if shared is None:
        ended = escape(_("This link has ended. Ask for a new one at your next visit."))
        st.markdown(f'<p class="kiosk-message">{ended}</p>', unsafe_allow_html=True)
        return
    with read_session(resources.engine()) as session:
        lines = todays_plan(session=session, patient_id=shared.patient_id, day=shared.day, site=shared.site,
                            tz=cfg.tz, now=now, contact_time_min=cfg.contact_time_min)  # fmt: skip
    st.header(_("Your exercises for {day}").format(day=date_words(shared.day, lang())))
    if not lines:
        st.markdown(_("Your therapist will go through today's exercises with you."))
        return
    st.markdown(plan_cards(lines, now, guide=False), unsafe_allow_html=True)
