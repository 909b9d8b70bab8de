"""The birth-date step: three labelled number fields in the language's order, kept after a wrong try (they
clear only when the lobby resets). What counts as a date, and how a wrong one is explained, is
`shared.care.birth_date`'s business."""

from __future__ import annotations

from datetime import date

import streamlit as st

from kiosk.lobby.language import _, lang
from kiosk.page_scripts import numeric_fields
from shared.care.birth_date import part_order, read_birth_date, words
from shared.i18n import N_

FIELDS = {"dob_month": (N_("Month"), N_("MM"), 2), "dob_day": (N_("Day"), N_("DD"), 2),
          "dob_year": (N_("Year"), N_("YYYY"), 4)}  # fmt: skip
KEYS = tuple(FIELDS)
CONTINUE_KEY = "dob_continue"


def field_order(code: str) -> list[str]:
    """The fields in the order the language writes a date (en: month first; es: day first)."""
    return [f"dob_{part}" for part in part_order(code)]


def birth_date_form() -> tuple[str, str, str] | None:
    """The three fields and Continue; (month, day, year) as typed when submitted, else None."""
    order = field_order(lang())
    with st.form("dob", clear_on_submit=False, border=False):
        for column, key in zip(st.columns(3), order, strict=True):
            label, placeholder, length = FIELDS[key]
            column.text_input(_(label), key=key, max_chars=length, placeholder=_(placeholder))
        submitted = st.form_submit_button(_("Continue"), type="primary", key=CONTINUE_KEY, width="stretch")
    numeric_fields(order, {key: FIELDS[key][2] for key in KEYS}, CONTINUE_KEY)
    if not submitted:
        return None
    return (st.session_state.get("dob_month", ""), st.session_state.get("dob_day", ""),
            st.session_state.get("dob_year", ""))  # fmt: skip


def parse_birth_date(month: str, day: str, year: str, *, today: date) -> date | str:
    """The date typed, or what to say (in the patient's language) when it is not a date."""
    typed = read_birth_date(month=month, day=day, year=year, today=today)
    return typed if isinstance(typed, date) else words(typed, lang())
