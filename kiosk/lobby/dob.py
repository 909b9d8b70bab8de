"""The birth-date step: three labelled number fields in the language's order, checked here, kept after a
wrong try (they clear only when the lobby resets)."""

from __future__ import annotations

import re
from datetime import date

import streamlit as st
from babel.dates import get_date_format

from kiosk.lobby.language import _, lang
from kiosk.page_scripts import numeric_fields
from shared.i18n import N_, babel_locale

FIELDS = {"dob_month": (N_("Month"), N_("MM"), 2), "dob_day": (N_("Day"), N_("DD"), 2),
          "dob_year": (N_("Year"), N_("YYYY"), 4)}  # fmt: skip
KEYS = tuple(FIELDS)
CONTINUE_KEY = "dob_continue"


def field_order(code: str) -> list[str]:
    """Month, day and year in the order the language writes a date (en: month first; es: day first)."""
    pattern = get_date_format("short", locale=babel_locale(code)).pattern
    position = {"dob_month": pattern.find("M"), "dob_day": pattern.find("d"), "dob_year": pattern.find("y")}
    return sorted(KEYS, key=lambda key: position[key])


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
    """The date typed, or what to say (a translated sentence) when it is not a date."""
    parts = [(text or "").strip() for text in (month, day, year)]
    if not all(parts):
        return _("Please type the month, the day and the year.")
    if not all(re.fullmatch(r"[0-9]+", part) for part in parts):
        return _("Please use numbers only.")
    m, d, y = (int(part) for part in parts)
    if not 1 <= m <= 12:
        return _("The month is a number from 1 to 12.")
    if len(parts[2]) != 4 or not today.year - 125 <= y <= today.year:
        return _("Please type the year with four digits, like 1950.")
    try:
        typed = date(y, m, d)
    except ValueError:
        return _("That day is not in that month. Please check the day.")
    return typed if typed <= today else _("That date is in the future. Please check the year.")
