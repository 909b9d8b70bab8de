"""The plan on the patient's phone, opened from the take-home link: no name, no birth date; each exercise has a
"Done" button, there is an optional pain answer and a daily reminder to add to the phone's calendar."""

from __future__ import annotations

from html import escape

import streamlit as st

from kiosk import resources
from kiosk.lobby.home_exercises import ENDED, exercise_list, pain_question, reminders
from kiosk.lobby.language import _, apply_patient_language, lang, top_bar
from shared.care.plan_shares import share_url
from shared.care.todays_plan import todays_plan
from shared.i18n import date_words
from shared.outcomes.home_log import open_home, plan_line_ids
from shared.store.db import read_session
from shared.store.types import utcnow


def shared_plan(token: str) -> None:
    """Today's plan for a working link, to tick; one plain sentence for an unknown, expired or revoked one."""
    cfg = resources.settings()
    now = utcnow()
    with read_session(resources.engine()) as session:
        home = open_home(session=session, token=token, tz=cfg.tz, now=now)
    if home is not None:
        apply_patient_language(home.shared.language)  # the link's language, unless the patient chose another here
    top_bar()  # as on every lobby screen: the other language and larger text, where the patient is
    st.title(cfg.clinic_name)
    if home is None:
        st.markdown(f'<p class="kiosk-message">{escape(_(ENDED))}</p>', unsafe_allow_html=True)
        return
    shared = home.shared
    with read_session(resources.engine()) as session:
        lines = todays_plan(session=session, patient_id=shared.patient_id, day=home.day, site=shared.site,
                            tz=cfg.tz, now=now, contact_time_min=cfg.contact_time_min)  # fmt: skip
        ids = plan_line_ids(session=session, patient_id=shared.patient_id, day=home.day)
    st.header(_("Your exercises for {day}").format(day=date_words(home.day, lang())))
    if not lines:
        st.markdown(_("Your therapist will go through today's exercises with you."))
        return
    exercise_list(token, home, list(zip(ids, lines, strict=True)))
    pain_question(token, home)
    reminders(share_url(cfg.resolved_kiosk_url, token), home)
