"""Helpers of the staff app's admin pages (equipment, accounts, audit, charts): messages that show what people
typed exactly as typed, and stored times in the clinic's zone."""

from __future__ import annotations

from datetime import datetime, tzinfo

import streamlit as st

from kiosk.theme import literal


def sentence(message: str) -> str:
    """A domain message ("name must be ...") as a sentence, its first letter capitalised."""
    return message[:1].upper() + message[1:]


def show_error(message: str) -> None:
    """An error box; the message often quotes input, so its Markdown is escaped and it shows as typed."""
    st.error(literal(sentence(message)))


def show_success(message: str) -> None:
    """A success box whose text (often naming user data) shows as typed."""
    st.success(literal(message))


def local(value: datetime | None, tz: tzinfo, fmt: str = "%Y-%m-%d %H:%M") -> str:
    """A stored (UTC) time in the clinic's zone; 'never' for none."""
    return value.astimezone(tz).strftime(fmt) if value is not None else "never"
