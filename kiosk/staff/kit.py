"""Pieces the care pages of the staff app share (arrivals, patients, appointments, plans): a notice that
survives a rerun, the clinic's today, and a patient picker.

Messages go through `kiosk.theme.literal`, so a name like `![x](https://evil/pixel)` shows as typed; names put
into a line of our own words go through `bidi_safe`, so a right-to-left name cannot reorder the rest of it.
"""

from __future__ import annotations

import base64
import html
import unicodedata
from datetime import date
from typing import Literal

import pandas as pd
import streamlit as st

from kiosk import resources
from kiosk.staff.auth import current_user
from kiosk.theme import literal
from shared.care.patients import search_patients
from shared.staff.accounts import Area, StaffUser
from shared.store.clock import local_today
from shared.store.db import read_session
from shared.store.types import utcnow

NOTICE_KEY = "staff_notice"
PICK_LIMIT = 50
NoticeKind = Literal["success", "error", "info"]
BIDI_CONTROLS = {"LRE", "RLE", "LRO", "RLO", "PDF", "LRI", "RLI", "FSI", "PDI"}
RIGHT_TO_LEFT = {"R", "AL"}


def bidi_safe(text: str) -> str:
    """User text to embed in a line of our own: explicit direction controls (such as the right-to-left override
    U+202E) are dropped, and right-to-left text is isolated (U+2068 ... U+2069), so the words around it keep
    their order. Plain left-to-right text is returned as it is."""
    kinds = [unicodedata.bidirectional(ch) for ch in text]
    if not any(kind in BIDI_CONTROLS or kind in RIGHT_TO_LEFT for kind in kinds):
        return text
    kept = "".join(ch for ch, kind in zip(text, kinds, strict=True) if kind not in BIDI_CONTROLS)
    return f"\u2068{kept}\u2069"


def show_error(message: str) -> None:
    """An error box for a refusal; the message often quotes what was typed, so it shows exactly as typed."""
    st.error(literal(message))


def notify(text: str, kind: NoticeKind = "success") -> None:
    """Keep a message to show at the top of the page on its next run (after a callback or `st.rerun`)."""
    st.session_state[NOTICE_KEY] = (kind, text)


def show_notice() -> None:
    """Show, once, the message kept by `notify`."""
    notice: tuple[NoticeKind, str] | None = st.session_state.pop(NOTICE_KEY, None)
    if notice is None:
        return
    kind, text = notice
    {"success": st.success, "error": st.error, "info": st.info}[kind](literal(text))


def acting_user(area: Area) -> StaffUser | None:
    """The user a button callback acts for, checked again: callbacks run before the page's `require`, so a
    session that timed out, or an account disabled or given another role, must not act."""
    user = current_user()
    return user if user is not None and user.can(area) else None


def clinic_today() -> date:
    """The clinic's calendar day now."""
    return local_today(utcnow(), resources.settings().tz)


def card_preview(png: bytes, *, alt: str, width: int = 420) -> None:
    """A PNG shown with a text alternative (st.image has none): an <img> with the picture as a data URI."""
    data = base64.b64encode(png).decode("ascii")
    st.markdown(f'<img src="data:image/png;base64,{data}" alt="{html.escape(alt, quote=True)}" width="{width}" '
                'style="max-width: 100%; height: auto;">', unsafe_allow_html=True)  # fmt: skip


def pick_patient(key: str, label: str = "Patient", *, table: bool = False) -> int | None:
    """A name search and a choice among the matches (also listed in a table if `table`); returns the chosen
    patient's id, or None."""
    text = st.text_input(
        "Find a patient",
        key=f"{key}_search",
        placeholder="Part of a first or last name, or a patient number",
        max_chars=200,
    )
    if not text.strip():
        st.caption("Type part of a name, or a patient number, to find a patient.")
        return None
    with read_session(resources.engine()) as session:
        found = search_patients(session=session, text=text, limit=PICK_LIMIT)
    if not found:
        st.info("No patient matches that search.")
        return None
    if len(found) == PICK_LIMIT:
        st.caption(f"Showing the first {PICK_LIMIT} matches; type more of the name to narrow them.")
    if table:
        rows = [{"Patient number": p.id, "First name": p.first_name, "Last name": p.last_name,
                 "Born": p.dob.isoformat(), "Phone": p.phone or ""} for p in found]  # fmt: skip
        st.dataframe(pd.DataFrame(rows), hide_index=True, key=f"{key}_matches")
    labels = {p.id: f"{bidi_safe(f'{p.first_name} {p.last_name}')} (born {p.dob.isoformat()}, #{p.id})" for p in found}
    chosen: int | None = st.selectbox(label, list(labels), format_func=lambda pid: labels[pid], key=f"{key}_pick")
    return chosen
