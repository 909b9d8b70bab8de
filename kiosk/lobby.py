"""The lobby kiosk (Streamlit script): scan a card, confirm the birth date, see today's plan, reset.

Three ways in, one code path (`_handle_scan`): a USB scanner typing into the focused field, the tablet camera,
or a phone opening the card's link (`?t=`). The scan field is read on every run rather than through an
`on_change` callback, which Streamlit can skip right after a server restart or a reconnect.

After the session the patient scans again (or taps "I'm done with my session") and answers two questions in
big buttons, pain now and how hard it was, then optionally each exercise; a patient still waiting after
`CLINIC_WAITING_ALERT_MIN` who scans again is told the team knows, and staff see when they asked.
"""

from __future__ import annotations

import time
from contextlib import suppress
from datetime import date
from html import escape

import streamlit as st

from kiosk import resources
from kiosk.camera import read_qr
from kiosk.failsafe import patient_guard, patient_guarded
from kiosk.lobby_text import (
    DIFFICULTY_BUTTONS,
    DIFFICULTY_QUESTION,
    EXERCISES_QUESTION,
    MONTHS,
    PAIN_HINT,
    PAIN_QUESTION,
    SCAN_LABEL,
    WAITING_TOLD,
    clock,
    headline,
    plan_card_html,
    thanks,
    tries_left,
)
from kiosk.theme import apply_kiosk_theme, idle_reset, keep_scan_field_focused, literal, status_badge
from shared import checkin, feedback
from shared.arrivals import note_waiting_patient
from shared.clock import local_today
from shared.errors import ClinicError
from shared.models import utcnow
from shared.plans import todays_plan

SERVER_IDLE_FACTOR = 5  # if the browser's idle timer is not running, the server resets after 5x the idle time
THANKS_S = 12  # the thank-you screen returns to the welcome screen by itself after this
AFTER_SESSION = ("in_session", "done")  # a scan at these appointment statuses goes straight to the questions
SESSION_KEYS = ("token", "outcome", "notice", "camera", "feedback_step", "feedback_id", "feedback_pain",
                "waiting_told", "thanks_at")  # fmt: skip


def main() -> None:
    """Render the screen the session is on."""
    st.set_page_config(page_title="Check in", page_icon=None, layout="centered", initial_sidebar_state="collapsed")
    apply_kiosk_theme()
    _init_state()
    with patient_guard("lobby", start_again=_reset):
        _route()


def _route() -> None:
    if "t" in st.query_params:  # a phone (or the tablet) opened a card's link
        scan = "t=" + st.query_params["t"]
        _forget_card_link()  # on every run until the browser's address has lost the token
        if st.session_state.get("link_scanned") != scan:  # once per link, though the address keeps it a moment
            st.session_state["link_scanned"] = scan
            _handle_scan(scan)
    if st.session_state.pop("clear_scan", False):
        st.session_state["scan"] = ""
    screen = st.session_state["screen"]
    if screen != "welcome":
        idle_reset(resources.settings().lobby_idle_s)
        _server_idle_guard()
    screens = {"welcome": _welcome, "dob": _birth_date, "result": _result, "feedback": _feedback, "thanks": _thanks}
    screens[screen]()


# st.query_params.clear() would push a new history entry and leave the ?t= one behind, where Back brings the
# card's birth-date screen back for the next person; replacing the entry leaves nothing to go back to. The
# browser then sends the clean address with its next rerun. (Same-origin iframe; the top page runs the line.)
_FORGET_LINK_SCRIPT = """<html><body><script>
const line = window.parent.document.createElement("script");
line.textContent = "window.history.replaceState(window.history.state, '', window.location.pathname);";
window.parent.document.head.appendChild(line);
</script></body></html>"""


def _forget_card_link() -> None:
    """Replace, never push, the browser's history entry holding the card's token."""
    st.iframe(_FORGET_LINK_SCRIPT, height=1)


def _init_state() -> None:
    defaults = {"screen": "welcome", "token": None, "outcome": None, "notice": None, "last_seen": time.time()}
    for key, value in defaults.items():
        st.session_state.setdefault(key, value)
    st.session_state["last_seen"] = time.time()


def _reset() -> None:
    """Back to the welcome screen; nothing of the previous patient stays in the session."""
    for key in SESSION_KEYS:
        st.session_state.pop(key, None)
    for key in [k for k in st.session_state if str(k).startswith("fb_ex_")]:
        del st.session_state[key]
    st.session_state["screen"] = "welcome"
    st.session_state["clear_scan"] = True


def _kiosk_id() -> str:
    """Which kiosk is scanning: the client's address (counted for the invalid-scan throttle)."""
    address = st.context.ip_address
    return address if isinstance(address, str) and address else "kiosk"


def _handle_scan(text: str) -> None:
    """Every way in ends here: throttle, then the check-in service decides what comes next."""
    throttle = resources.scan_throttle()
    wait = throttle.wait_s(_kiosk_id(), time.monotonic())
    if wait > 0:
        st.session_state["notice"] = f"Please wait {int(wait) + 1} seconds, then scan again."
        return
    outcome = checkin.begin(resources.engine(), resources.settings(), text, kiosk=_kiosk_id())
    if outcome.result == "invalid":
        throttle.failed(_kiosk_id(), time.monotonic())
        st.session_state["notice"] = headline(outcome, resources.settings().tz)
        st.session_state["screen"] = "welcome"
        return
    throttle.succeeded(_kiosk_id())
    st.session_state["notice"] = None
    st.session_state["token"] = outcome.token
    _show(outcome)


def _show(outcome: checkin.Outcome) -> None:
    """The screen an outcome leads to: the birth date, the questions after a session, or the result."""
    st.session_state["outcome"] = outcome
    if outcome.result in ("needs_dob", "wrong_dob"):
        st.session_state["screen"] = "dob"
        return
    again = outcome.result == "already_checked_in" and outcome.appointment_id is not None
    if again and outcome.appointment_status in AFTER_SESSION:
        _ask_feedback()
        return
    if again and outcome.appointment_status == "arrived":
        cfg = resources.settings()
        assert outcome.appointment_id is not None
        st.session_state["waiting_told"] = note_waiting_patient(
            resources.engine(), appointment_id=outcome.appointment_id, limit_min=cfg.waiting_alert_min,
            now=utcnow(), kiosk=_kiosk_id(),
        )  # fmt: skip
    st.session_state["screen"] = "result"


def _ask_feedback() -> None:
    st.session_state["feedback_step"] = "pain"
    st.session_state["screen"] = "feedback"


def _welcome() -> None:
    cfg = resources.settings()
    st.title(cfg.clinic_name)
    st.markdown('<p class="kiosk-message">Welcome! Please scan the code on your card to check in.</p>',
                unsafe_allow_html=True)  # fmt: skip
    if st.session_state.get("notice"):
        st.error(st.session_state["notice"])
    scan = st.text_input(SCAN_LABEL, key="scan", placeholder="Hold your card under the scanner")
    keep_scan_field_focused(SCAN_LABEL)
    with st.expander("No scanner? Use the camera"):
        picture = st.camera_input("Show your card to the camera", key="camera")
    if scan:
        st.session_state["clear_scan"] = True
        _handle_scan(scan)
        st.rerun()
    if picture is not None and picture.file_id != st.session_state.get("camera_done"):
        st.session_state["camera_done"] = picture.file_id  # each picture is read once, even across reruns
        text = read_qr(picture.getvalue())
        if text is None:
            st.session_state["notice"] = "We couldn't see a code in that picture. Please hold the card closer."
        else:
            _handle_scan(text)
        st.rerun()


def _birth_date() -> None:
    outcome: checkin.Outcome = st.session_state["outcome"]
    st.title("Please confirm it's you")
    message = headline(outcome, resources.settings().tz)
    if outcome.result == "wrong_dob":
        st.error(literal(f"{message} {tries_left(outcome)}"))
    else:
        st.markdown(f'<p class="kiosk-message">{escape(message)}</p>', unsafe_allow_html=True)
    this_year = date.today().year
    with st.form("dob", clear_on_submit=True, border=False):
        month = st.selectbox("Month", MONTHS, index=None, placeholder="Month", key="dob_month")
        day = st.selectbox("Day", list(range(1, 32)), index=None, placeholder="Day", key="dob_day")
        year = st.selectbox("Year", list(range(this_year, 1899, -1)), index=None, placeholder="Year", key="dob_year")
        submitted = st.form_submit_button("Continue", type="primary", use_container_width=True)
    if st.button("Start over", key="cancel_dob", use_container_width=True):
        _reset()
        st.rerun()
    if submitted:
        _confirm_birth_date(month, day, year)


def _confirm_birth_date(month: str | None, day: int | None, year: int | None) -> None:
    if month is None or day is None or year is None:
        st.warning("Please choose the month, the day and the year.")
        return
    try:
        dob = date(year, MONTHS.index(month) + 1, day)
    except ValueError:
        st.warning(f"{month} {day} is not a date. Please check the day.")
        return
    token = st.session_state["token"]
    _show(checkin.confirm(resources.engine(), resources.settings(), token, dob, kiosk=_kiosk_id()))
    st.rerun()


def _result() -> None:
    outcome: checkin.Outcome = st.session_state["outcome"]
    cfg = resources.settings()
    message = headline(outcome, cfg.tz)
    if outcome.ok:
        st.title("You're checked in")
        st.success(literal(message))
        if st.session_state.get("waiting_told"):
            st.info(literal(WAITING_TOLD))
        _plan(outcome.patient_id, outcome.site or cfg.site)
    else:
        st.title("Please see the front desk")
        st.warning(literal(message))
        if outcome.result == "locked" and outcome.locked_until:
            st.markdown(f"You can try again after {clock(outcome.locked_until, cfg.tz)}.")
    if st.button("Done", key="done", type="primary", use_container_width=True):
        _reset()
        st.rerun()
    finished = outcome.ok and outcome.appointment_id is not None
    if finished and st.button("I'm done with my session", key="im_done", width="stretch"):
        _ask_feedback()
        st.rerun()


def _feedback() -> None:
    """Two questions in big buttons (pain now, how hard it was), then optionally each exercise."""
    step = st.session_state.get("feedback_step", "pain")
    if step == "pain":
        _pain_question()
    elif step == "difficulty":
        _difficulty_question()
    else:
        _exercises_question()
    if step != "exercises" and st.button("No thanks", key="fb_skip", width="stretch"):
        _reset()
        st.rerun()


def _pain_question() -> None:
    st.title(PAIN_QUESTION)
    st.markdown(f'<p class="kiosk-message">{escape(PAIN_HINT)}</p>', unsafe_allow_html=True)
    for row in (range(0, 6), range(6, 11)):
        for column, pain in zip(st.columns(6), row, strict=False):
            if column.button(str(pain), key=f"fb_pain_{pain}", width="stretch"):
                st.session_state["feedback_pain"] = pain
                st.session_state["feedback_step"] = "difficulty"
                st.rerun()


def _difficulty_question() -> None:
    st.title(DIFFICULTY_QUESTION)
    for column, (value, label) in zip(st.columns(3), DIFFICULTY_BUTTONS.items(), strict=True):
        if column.button(label, key=f"fb_diff_{value}", width="stretch"):
            _save_feedback(value)
    if st.button("Back", key="fb_back", width="stretch"):
        st.session_state["feedback_step"] = "pain"
        st.rerun()


def _save_feedback(difficulty: str) -> None:
    """Store the two answers at once (a patient may walk away from the optional step)."""
    outcome: checkin.Outcome = st.session_state["outcome"]
    if outcome.appointment_id is None or outcome.patient_id is None:
        _reset()
        st.rerun()
    assert outcome.appointment_id is not None and outcome.patient_id is not None
    try:
        saved = feedback.record_feedback(resources.engine(), appointment_id=outcome.appointment_id,
                                         patient_id=outcome.patient_id, pain=st.session_state["feedback_pain"],
                                         difficulty=difficulty)  # fmt: skip
    except ClinicError:
        st.error("Sorry, we couldn't save your answers. Please tell the front desk.")
        return
    st.session_state["feedback_id"] = saved.id
    if any(line.exercise for line in outcome.plan):
        st.session_state["feedback_step"] = "exercises"
    else:
        _thank()
    st.rerun()


def _exercises_question() -> None:
    outcome: checkin.Outcome = st.session_state["outcome"]
    st.title(EXERCISES_QUESTION)
    names = list(dict.fromkeys(line.exercise for line in outcome.plan))
    for number, name in enumerate(names):
        st.segmented_control(literal(name), list(DIFFICULTY_BUTTONS), format_func=DIFFICULTY_BUTTONS.__getitem__,
                             key=f"fb_ex_{number}", width="stretch")  # fmt: skip
    send, skip = st.columns(2)
    if send.button("Send", key="fb_exercises_send", type="primary", width="stretch"):
        answers = {name: st.session_state.get(f"fb_ex_{n}") for n, name in enumerate(names)}
        chosen = {name: value for name, value in answers.items() if value}
        if chosen and outcome.patient_id is not None:
            with suppress(ClinicError):  # the two main answers are saved; this step is optional
                feedback.add_exercise_feedback(resources.engine(), st.session_state["feedback_id"],
                                               patient_id=outcome.patient_id, exercises=chosen)  # fmt: skip
        _thank()
        st.rerun()
    if skip.button("Skip", key="fb_exercises_skip", width="stretch"):
        _thank()
        st.rerun()


def _thank() -> None:
    st.session_state["thanks_at"] = time.time()
    st.session_state["screen"] = "thanks"


def _thanks() -> None:
    outcome: checkin.Outcome = st.session_state["outcome"]
    st.title("Thank you!")
    st.success(literal(thanks(outcome.display_name or "", st.session_state.get("feedback_pain"))))
    if st.button("Close", key="thanks_done", type="primary", width="stretch"):
        _reset()
        st.rerun()
    _thanks_timer()


@st.fragment(run_every=2)
@patient_guarded("thanks_timer")
def _thanks_timer() -> None:
    """Back to the welcome screen by itself a few seconds after the thank-you."""
    if time.time() - st.session_state.get("thanks_at", time.time()) > THANKS_S:
        _reset()
        st.rerun(scope="app")


@st.fragment(run_every=5)
@patient_guarded("plan")
def _plan(patient_id: int | None, site: str) -> None:
    """Today's plan, re-read every few seconds so each station's status stays live."""
    if patient_id is None:
        return
    cfg = resources.settings()
    now = utcnow()
    lines = todays_plan(resources.engine(), patient_id=patient_id, day=local_today(now, cfg.tz), site=site,
                        tz=cfg.tz, now=now, contact_time_min=cfg.contact_time_min)  # fmt: skip
    if not lines:
        st.markdown("Your therapist will go through today's exercises with you.")
        return
    st.header("Today's exercises")
    cards = [plan_card_html(n, line, status_badge(line.station_status)) for n, line in enumerate(lines, 1)]
    st.markdown("".join(cards), unsafe_allow_html=True)


@st.fragment(run_every=10)
@patient_guarded("server_idle_guard")
def _server_idle_guard() -> None:
    """A safety net for a browser whose idle timer is not running: reset after a long silence."""
    limit = resources.settings().lobby_idle_s * SERVER_IDLE_FACTOR
    if time.time() - st.session_state.get("last_seen", time.time()) > limit:
        _reset()
        st.rerun(scope="app")


main()
