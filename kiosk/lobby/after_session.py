"""After the session: pain now and how hard it was in big buttons, optionally each exercise, then thank you."""

from __future__ import annotations

import time
from contextlib import suppress
from html import escape

import streamlit as st

from kiosk import resources
from kiosk.failsafe import patient_guarded
from kiosk.lobby.language import _, follow_the_patients_choice, lang
from kiosk.lobby.state import reset
from kiosk.lobby.text import (
    DIFFICULTY_BUTTONS,
    DIFFICULTY_QUESTION,
    EXERCISES_QUESTION,
    PAIN_HINT,
    PAIN_QUESTION,
    thanks,
)
from kiosk.theme import literal
from shared.care import checkin, feedback
from shared.outcomes.lobby_feedback import give_feedback
from shared.store.db import unit_of_work
from shared.store.errors import ClinicError

THANKS_S = 12  # the thank-you screen returns to the welcome screen by itself after this


def feedback_screen() -> None:
    """Two questions in big buttons (pain now, how hard it was), then optionally each exercise."""
    step = st.session_state.get("feedback_step", "pain")
    if step == "pain":
        _pain_question()
    elif step == "difficulty":
        _difficulty_question()
    else:
        _exercises_question()
    if step != "exercises" and st.button(_("No thanks"), key="fb_skip", width="stretch"):
        reset()
        st.rerun()


def _pain_question() -> None:
    st.title(_(PAIN_QUESTION))
    st.markdown(f'<p class="kiosk-message">{escape(_(PAIN_HINT))}</p>', unsafe_allow_html=True)
    with st.container(key="pain_scale"):  # one row that wraps (a few per line at 200% zoom), never 11 stacked
        for column, pain in zip(st.columns(11), range(11), strict=True):
            if column.button(str(pain), key=f"fb_pain_{pain}", width="stretch"):
                st.session_state["feedback_pain"] = pain
                st.session_state["feedback_step"] = "difficulty"
                st.rerun()


def _difficulty_question() -> None:
    st.title(_(DIFFICULTY_QUESTION))
    for column, (value, label) in zip(st.columns(3), DIFFICULTY_BUTTONS.items(), strict=True):
        if column.button(_(label), key=f"fb_diff_{value}", width="stretch"):
            _save_feedback(value)
    if st.button(_("Back"), key="fb_back", width="stretch"):
        st.session_state["feedback_step"] = "pain"
        st.rerun()


def _save_feedback(difficulty: str) -> None:
    """Store the two answers at once (a patient may walk away from the optional step)."""
    outcome: checkin.Outcome = st.session_state["outcome"]
    if outcome.appointment_id is None or outcome.patient_id is None:
        reset()
        st.rerun()
    assert outcome.appointment_id is not None and outcome.patient_id is not None
    try:
        with unit_of_work(resources.engine()) as session:
            # a pain of 7 or more or "Too hard" flags the patient on the staff's Arrivals page
            saved, _raised = give_feedback(session=session, appointment_id=outcome.appointment_id,
                                           patient_id=outcome.patient_id, pain=st.session_state["feedback_pain"],
                                           difficulty=difficulty)  # fmt: skip
    except ClinicError:
        st.error(_("Sorry, we couldn't save your answers. Please tell the front desk."))
        return
    st.session_state["feedback_id"] = saved.id
    if any(line.exercise for line in outcome.plan):
        st.session_state["feedback_step"] = "exercises"
    else:
        _thank()
    st.rerun()


def _exercises_question() -> None:
    outcome: checkin.Outcome = st.session_state["outcome"]
    st.title(_(EXERCISES_QUESTION))
    shown = {line.exercise: line.texts(lang())[0] for line in outcome.plan}  # stored by the library's name
    names = list(shown)
    for number, name in enumerate(names):
        st.segmented_control(literal(shown[name]), list(DIFFICULTY_BUTTONS),
                             format_func=lambda value: _(DIFFICULTY_BUTTONS[value]), key=f"fb_ex_{number}",
                             width="stretch")  # fmt: skip
    send, skip = st.columns(2)
    if send.button(_("Send"), key="fb_exercises_send", type="primary", width="stretch"):
        answers = {name: st.session_state.get(f"fb_ex_{n}") for n, name in enumerate(names)}
        chosen = {name: value for name, value in answers.items() if value}
        if chosen and outcome.patient_id is not None:
            # the two main answers are saved; this step is optional
            with suppress(ClinicError), unit_of_work(resources.engine()) as session:
                feedback.add_exercise_feedback(session=session, feedback_id=st.session_state["feedback_id"],
                                               patient_id=outcome.patient_id, exercises=chosen)  # fmt: skip
        _thank()
        st.rerun()
    if skip.button(_("Skip"), key="fb_exercises_skip", width="stretch"):
        _thank()
        st.rerun()


def _thank() -> None:
    st.session_state["thanks_at"] = time.time()
    st.session_state["screen"] = "thanks"


def thanks_screen() -> None:
    """Thank the patient by name; back to the welcome screen on "Close" or by itself."""
    outcome: checkin.Outcome = st.session_state["outcome"]
    st.title(_("Thank you!"))
    st.success(literal(thanks(outcome.display_name or "", st.session_state.get("feedback_pain"), lang())))
    if st.button(_("Close"), key="thanks_done", type="primary", width="stretch"):
        reset()
        st.rerun()
    _thanks_timer()


@st.fragment(run_every=2)
@patient_guarded("thanks_timer")
def _thanks_timer() -> None:
    """Back to the welcome screen by itself a few seconds after the thank-you."""
    follow_the_patients_choice()
    if time.time() - st.session_state.get("thanks_at", time.time()) > THANKS_S:
        reset()
        st.rerun(scope="app")
