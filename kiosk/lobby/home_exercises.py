"""The take-home page's writing parts: a "Done" button per exercise (and "Undo"), an optional pain answer, and
"Add reminders to my phone". Every write goes through the link's token (shared/outcomes/home_log.py)."""

from __future__ import annotations

from datetime import time, timedelta
from html import escape

import streamlit as st

from kiosk import resources
from kiosk.lobby.language import _, lang
from kiosk.lobby.plan import picture_html, plain_line
from kiosk.lobby.text import PAIN_HINT, PAIN_QUESTION, plan_card_html
from shared.care.todays_plan import PlanLine
from shared.i18n import N_, gettext_for
from shared.outcomes.home_log import HomeDay, LinkRefused, TooManyWrites, note_home_pain, tick, untick
from shared.outcomes.reminders import reminder_calendar
from shared.store.db import unit_of_work
from shared.store.types import utcnow

NOTICE_KEY = "home_notice"  # a message for the next run: the link ended, or too many taps
ENDED = N_("This link has ended. Ask for a new one at your next visit.")
TOO_FAST = N_("That was a lot of taps at once. Wait a minute, then try again.")
DEFAULT_REMINDER = time(18, 0)


def done_label() -> str:
    """The exercise's tick button: "Done" ("Hecho"); the lobby's other "Done" ends a session ("Terminar")."""
    return gettext_for(lang()).pgettext("exercise", "Done")


def exercise_list(token: str, home: HomeDay, rows: list[tuple[int, PlanLine]]) -> None:
    """Each exercise as a card with its "Done" button, or "Done today" and "Undo" once ticked."""
    notice = st.session_state.pop(NOTICE_KEY, None)
    if notice:
        st.markdown(f'<p class="kiosk-message" role="status">{escape(_(notice))}</p>', unsafe_allow_html=True)
    units = resources.settings().resolved_units
    for number, (item_id, line) in enumerate(rows, 1):
        shown = plain_line(line)
        st.markdown(plan_card_html(number, shown, "", units=units, lang=lang(), picture=picture_html(line)),
                    unsafe_allow_html=True)  # fmt: skip
        if item_id in home.done:
            done_words = escape(_("Done today"))
            st.markdown(f'<p class="kiosk-message">&#10003; {done_words}</p>', unsafe_allow_html=True)
            if st.button(_("Undo"), key=f"home_undo_{item_id}"):
                _write(token, "undo", item_id)
        elif st.button(done_label(), key=f"home_done_{item_id}", type="primary", width="stretch"):
            _write(token, "done", item_id)


def pain_question(token: str, home: HomeDay) -> None:
    """The optional pain answer for today: eleven buttons, 0 to 10."""
    st.subheader(_(PAIN_QUESTION))
    st.markdown(f'<p class="kiosk-message">{escape(_(PAIN_HINT))}</p>', unsafe_allow_html=True)
    if home.pain is not None:
        said = _("Thank you. Your answer today: {n} of 10.").format(n=home.pain)
        st.markdown(f'<p class="kiosk-message" role="status">{escape(said)}</p>', unsafe_allow_html=True)
    with st.container(key="home_pain_scale"):  # the lobby's pain scale layout: one row that wraps
        for column, pain in zip(st.columns(11), range(11), strict=True):
            if column.button(str(pain), key=f"home_pain_{pain}", width="stretch"):
                _write(token, "pain", pain)


def reminders(url: str, home: HomeDay) -> None:
    """A daily reminder at a time the patient picks, as an iCalendar file their phone's calendar adds."""
    st.subheader(_("Add reminders to my phone"))
    at = st.time_input(_("Remind me every day at"), value=DEFAULT_REMINDER, step=timedelta(minutes=30),
                       key="home_reminder_time")  # fmt: skip
    until = home.shared.expires_at or utcnow() + timedelta(days=1)
    data = reminder_calendar(summary=_("Your exercises"), url=url, at=at or DEFAULT_REMINDER, start=home.day,
                             description=_("Time for your exercises. Tick each one when you have done it:"),
                             until=until)  # fmt: skip
    st.download_button(_("Add reminders to my phone"), data=data, file_name="exercises.ics", mime="text/calendar",
                       key="home_reminders", width="stretch")  # fmt: skip
    st.markdown(f'<p class="kiosk-message">{escape(_("Open the file to add the reminder to your calendar."))}</p>',
                unsafe_allow_html=True)  # fmt: skip


def _write(token: str, what: str, value: int) -> None:
    """One tap's write ("done", "undo" a plan line, or "pain") in its own unit of work; an ended link or too many
    taps leave a message; then the page redraws."""
    cfg = resources.settings()
    now = utcnow()
    try:
        with unit_of_work(resources.engine()) as session:
            if what == "done":
                tick(session=session, token=token, plan_item_id=value, tz=cfg.tz, limit=cfg.plan_link_writes_per_min,
                     now=now)  # fmt: skip
            elif what == "undo":
                untick(session=session, token=token, plan_item_id=value, tz=cfg.tz,
                       limit=cfg.plan_link_writes_per_min, now=now)  # fmt: skip
            else:
                note_home_pain(session=session, token=token, pain=value, tz=cfg.tz,
                               limit=cfg.plan_link_writes_per_min, now=now)  # fmt: skip
    except LinkRefused:
        st.session_state[NOTICE_KEY] = ENDED
    except TooManyWrites:
        st.session_state[NOTICE_KEY] = TOO_FAST
    st.rerun()
