"""The lobby's language and text size for this patient: session state, translation, and the buttons for them."""

from __future__ import annotations

import streamlit as st

from kiosk.page_scripts import page_language
from shared.i18n import DEFAULT, gettext_for, language, language_name, languages

LANG_KEY = "lang"  # the language shown now
CHOSEN_KEY = "lang_chosen"  # the patient pressed a language button: the card's stored language does not override
LARGE_KEY = "large_text"
DRAWN_KEY = "lang_drawn"  # the language and text size the screen was last drawn in


def lang() -> str:
    """The language the lobby speaks to this patient."""
    return language(st.session_state.get(LANG_KEY))


def _(text: str) -> str:
    """Translate a message into the patient's language."""
    return gettext_for(lang()).gettext(text)


def apply_patient_language(preferred: str | None) -> None:
    """After a scan: the card's patient's language, unless they chose one on this visit."""
    if preferred and not st.session_state.get(CHOSEN_KEY):
        st.session_state[LANG_KEY] = language(preferred)


def _choose(code: str) -> None:
    st.session_state[LANG_KEY] = code
    st.session_state[CHOSEN_KEY] = True


def _toggle_large() -> None:
    st.session_state[LARGE_KEY] = not st.session_state.get(LARGE_KEY, False)


def large_text() -> bool:
    """Whether this patient asked for larger text."""
    return bool(st.session_state.get(LARGE_KEY, False))


def top_bar() -> None:
    """At the top right of every screen (issue #28): a button per other language, each labelled in its own
    language, and the larger-text toggle. Both only change how the screen reads, so the patient stays where they
    are: the screen, the outcome and anything typed live in the session, not in the language.

    A row that sizes each button to its label and wraps, so no label is ever cut ("Normal text size" is long
    once the text is larger)."""
    others = [code for code in languages() if code != lang()]
    page_language(lang(), {f"lang_{code}": code for code in others})
    st.session_state[DRAWN_KEY] = _drawn()
    # Callbacks, not `if st.button(...)`: a tap that reaches the server while a self-refreshing fragment (the
    # plan's live statuses) reruns is handled by that fragment's run, which never reaches these lines; its
    # callback still runs, and the fragment then redraws the whole screen (follow_the_patients_choice).
    with st.container(horizontal=True, horizontal_alignment="right", gap="small", key="top_bar"):
        for code in others:
            st.button(language_name(code), key=f"lang_{code}", width="content", on_click=_choose, args=(code,))
        label = _("Normal text size") if large_text() else _("Larger text")
        st.button(label, key="large_text_toggle", width="content", on_click=_toggle_large)


def _drawn() -> tuple[str, bool]:
    return lang(), large_text()


def follow_the_patients_choice() -> None:
    """In a self-refreshing fragment: when the patient changed the language or the text size since the screen
    was drawn (their tap was handled by this fragment's run), redraw the whole screen, not only the fragment."""
    if st.session_state.get(DRAWN_KEY, _drawn()) != _drawn():
        st.rerun(scope="app")


def forget() -> None:
    """A new patient starts in the default language, at the normal size."""
    for key in (LANG_KEY, CHOSEN_KEY, LARGE_KEY):
        st.session_state.pop(key, None)
    st.session_state[LANG_KEY] = DEFAULT
