"""After check-in: a questionnaire that is due (the pain rating, the PSFS, ...) asked one question a screen in big
buttons, in the patient's language; "Ask me at the desk" skips it, "See my plan" leaves it for later.

Each answer is kept in the store at once against the visit's appointment (never in the URL), so a screen that
resets and the patient's next scan pick up at the next question. Nothing here blocks the check-in, which is done
before this screen: the plan is always one tap away, and a failed save says so. Whether this screen comes at all
is decided in the check-in's own transaction (kiosk/lobby/scan.py passes `due_after_check_in`): for a patient with
nothing assigned, one indexed query."""

from __future__ import annotations

import logging
from html import escape

import streamlit as st

from kiosk import resources
from kiosk.lobby.language import _, lang
from kiosk.theme import literal
from shared.care import checkin
from shared.outcomes.instruments import Item
from shared.outcomes.responses import answer, skip
from shared.outcomes.schedule import DueQuestionnaire, Question, due_at_visit
from shared.store.db import read_session, unit_of_work
from shared.store.types import utcnow

log = logging.getLogger(__name__)
QUESTIONNAIRE_SCREEN = "questionnaire"  # kiosk/lobby/app.py's name for this screen
FAILED_KEY = "q_failed"  # in kiosk/lobby/state.py's SESSION_KEYS: the next patient never sees it
BUTTON_ROW_MAX = 11  # an integer item with at most this many answers is a row of buttons (the 0-10 pain rating)


def _visit(outcome: checkin.Outcome | None) -> tuple[int, int] | None:
    if outcome is None or not outcome.ok or outcome.patient_id is None or outcome.appointment_id is None:
        return None
    return outcome.patient_id, outcome.appointment_id


def _due() -> list[DueQuestionnaire]:
    visit = _visit(st.session_state.get("outcome"))
    if visit is None:
        return []
    with read_session(resources.engine()) as session:
        return due_at_visit(session=session, patient_id=visit[0], appointment_id=visit[1], now=utcnow(),
                            tz=resources.settings().tz)  # fmt: skip


def questionnaire_screen() -> None:
    """The next unanswered question of the first questionnaire due, with the ways out."""
    current = next((d for d in _due() if d.next_question is not None), None)
    if current is None:
        st.session_state["screen"] = "result"
        st.rerun()
    assert current is not None and current.next_question is not None
    question = current.next_question
    number = current.questions.index(question) + 1
    st.title(literal(current.instrument.name(lang())))
    step = _("Question {n} of {total}").format(n=number, total=len(current.questions))
    st.markdown(f'<p class="kiosk-step">{escape(step)}</p>', unsafe_allow_html=True)
    if question.activity:
        st.header(literal(question.activity))
    st.markdown(f'<p class="kiosk-message">{escape(question.item.words(lang()))}</p>', unsafe_allow_html=True)
    if st.session_state.pop(FAILED_KEY, False):
        st.warning(_("Sorry, we couldn't save that answer. You can see your plan and answer at the desk."))
    _answers(current, question)
    st.divider()
    desk, plan = st.columns(2)
    desk.button(_("Ask me at the desk"), key="q_skip", width="stretch", on_click=_skip,
                args=(current.instrument.code,))  # fmt: skip
    plan.button(_("See my plan"), key="q_plan", type="primary", width="stretch", on_click=_to_plan)


def _answers(current: DueQuestionnaire, question: Question) -> None:
    """Big buttons: a row of numbers for a short scale (0 to 10), one button per answer for a choice."""
    item, code = question.item, current.instrument.code
    if item.options:
        for option in item.options:
            st.button(option.label.get(lang()) or option.label["en"], key=f"q_{code}_{item.link_id}_{option.points}",
                      width="stretch", on_click=_answer, args=(code, item.link_id, option.points))  # fmt: skip
        return
    values = list(range(item.low, item.high + 1))
    if len(values) <= BUTTON_ROW_MAX:
        with st.container(key="pain_scale_questionnaire"):  # the after-session pain row's layout (kiosk/theme.py)
            for column, value in zip(st.columns(len(values)), values, strict=True):
                column.button(str(value), key=f"q_{code}_{item.link_id}_{value}", width="stretch", on_click=_answer,
                              args=(code, item.link_id, value))  # fmt: skip
        return
    _number(code, item)


def _number(code: str, item: Item) -> None:
    """A long scale (0 to 100): a number field and Next."""
    value = st.number_input(_("Your answer"), min_value=item.low, max_value=item.high, step=1, value=None,
                            key=f"q_{code}_{item.link_id}_number")  # fmt: skip
    # Never disabled: a number typed and not yet sent (no Enter) reaches the server with this tap.
    if st.button(_("Next"), key=f"q_{code}_{item.link_id}_next", type="primary", width="stretch"):
        if value is None:
            st.warning(_("Please type a number from {low} to {high}.").format(low=item.low, high=item.high))
            return
        _answer(code, item.link_id, int(value))
        st.rerun()


# Callbacks, not `if st.button(...)`: a tap that reaches the server while a self-refreshing fragment reruns
# still counts (kiosk/lobby/language.py says why). They never raise: a failure is logged and said in one line.
def _answer(code: str, link_id: str, value: int) -> None:
    visit = _visit(st.session_state.get("outcome"))
    if visit is None:
        _to_plan()
        return
    try:
        with unit_of_work(resources.engine()) as session:
            answer(session=session, patient_id=visit[0], appointment_id=visit[1], questionnaire=code,
                   link_id=link_id, value=value, site=resources.settings().site)  # fmt: skip
    except Exception:
        log.exception("lobby: could not save a questionnaire answer")
        st.session_state[FAILED_KEY] = True


def _skip(code: str) -> None:
    visit = _visit(st.session_state.get("outcome"))
    if visit is None:
        _to_plan()
        return
    try:
        with unit_of_work(resources.engine()) as session:
            skip(session=session, patient_id=visit[0], appointment_id=visit[1], questionnaire=code)
    except Exception:
        log.exception("lobby: could not skip a questionnaire")
        _to_plan()


def _to_plan() -> None:
    st.session_state["screen"] = "result"
