"""The lobby's per-visit session state: its defaults, the reset between patients and the welcome notice."""

from __future__ import annotations

import time

import streamlit as st

from kiosk.lobby.dob import KEYS as DOB_KEYS
from kiosk.lobby.language import forget
from kiosk.lobby.plan import SHARE_KEY

SESSION_KEYS = ("token", "outcome", "notice", "notice_at", "camera", "feedback_step", "feedback_id", "feedback_pain",
                "waiting_told", "thanks_at", SHARE_KEY, "q_failed", *DOB_KEYS)  # fmt: skip


def init_state() -> None:
    """Fill in what a new browser session starts with and note that the patient is still here."""
    defaults = {"screen": "welcome", "token": None, "outcome": None, "notice": None, "last_seen": time.time(),
                "lang": "en"}  # fmt: skip
    for key, value in defaults.items():
        st.session_state.setdefault(key, value)
    st.session_state["last_seen"] = time.time()


def reset() -> None:
    """Back to the welcome screen; nothing of the previous patient stays in the session."""
    for key in SESSION_KEYS:
        st.session_state.pop(key, None)
    for key in [k for k in st.session_state if str(k).startswith("fb_ex_")]:
        del st.session_state[key]
    forget()
    st.session_state["screen"] = "welcome"
    st.session_state["clear_scan"] = True


def notify(message: str) -> None:
    """A message on the welcome screen, which clears itself after NOTICE_S (the next patient must not see it)."""
    st.session_state["notice"] = message
    st.session_state["notice_at"] = time.time()
