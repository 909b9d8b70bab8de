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
from kiosk.failsafe import patient_guard, patient_guarded
from kiosk.lobby.camera import read_qr
from kiosk.lobby.dob import KEYS as DOB_KEYS
from kiosk.lobby.dob import birth_date_form, parse_birth_date
from kiosk.lobby.language import _, apply_patient_language, forget, lang, large_text, top_bar
from kiosk.lobby.plan import SHARE_KEY, plan_cards, take_home
from kiosk.lobby.share import shared_plan
from kiosk.lobby.text import (
    DIFFICULTY_BUTTONS,
    DIFFICULTY_QUESTION,
    EXERCISES_QUESTION,
    PAIN_HINT,
    PAIN_QUESTION,
    SCAN_LABEL,
    WAITING_TOLD,
    clock,
    headline,
    thanks,
    tries_left,
)
from kiosk.theme import apply_kiosk_theme, idle_reset, keep_scan_field_focused, literal
from shared.care import checkin, feedback
from shared.care.arrivals import note_waiting_patient
from shared.care.plan_shares import QUERY_KEY as SHARE_QUERY
from shared.care.todays_plan import todays_plan
from shared.store.clock import local_today
from shared.store.db import read_session, unit_of_work
from shared.store.errors import ClinicError
from shared.store.types import utcnow

SERVER_IDLE_FACTOR = 5  # if the browser's idle timer is not running, the server resets after 5x the idle time
THANKS_S = 12  # the thank-you screen returns to the welcome screen by itself after this
NOTICE_S = 15  # a message on the welcome screen ("couldn't read that card") clears itself after this
AFTER_SESSION = ("in_session", "done")  # a scan at these appointment statuses goes straight to the questions
SESSION_KEYS = ("token", "outcome", "notice", "notice_at", "camera", "feedback_step", "feedback_id", "feedback_pain",
                "waiting_told", "thanks_at", SHARE_KEY, *DOB_KEYS)  # fmt: skip


def main() -> None:
    """Render the screen the session is on."""
    st.set_page_config(page_title="Check in", page_icon=None, layout="centered", initial_sidebar_state="collapsed")
    _init_state()
    apply_kiosk_theme(large=large_text())
    with patient_guard("lobby", start_again=_reset):
        if SHARE_QUERY in st.query_params:  # a phone opened the plan's take-home link: read-only, no session
            shared_plan(st.query_params[SHARE_QUERY])
            return
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
    top_bar(with_languages=screen == "welcome")
    if screen != "welcome":
        idle_reset(resources.settings().lobby_idle_s, warning=_("Are you still there? This screen closes in {n} s."),
                   still_here=_("I'm still here"), lang=lang())  # fmt: skip
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
    defaults = {"screen": "welcome", "token": None, "outcome": None, "notice": None, "last_seen": time.time(),
                "lang": "en"}  # fmt: skip
    for key, value in defaults.items():
        st.session_state.setdefault(key, value)
    st.session_state["last_seen"] = time.time()


def _reset() -> None:
    """Back to the welcome screen; nothing of the previous patient stays in the session."""
    for key in SESSION_KEYS:
        st.session_state.pop(key, None)
    for key in [k for k in st.session_state if str(k).startswith("fb_ex_")]:
        del st.session_state[key]
    forget()
    st.session_state["screen"] = "welcome"
    st.session_state["clear_scan"] = True


def _notify(message: str) -> None:
    """A message on the welcome screen, which clears itself after NOTICE_S (the next patient must not see it)."""
    st.session_state["notice"] = message
    st.session_state["notice_at"] = time.time()


def _kiosk_id() -> str:
    """Which kiosk is scanning: the client's address (counted for the invalid-scan throttle)."""
    address = st.context.ip_address
    return address if isinstance(address, str) and address else "kiosk"


def _handle_scan(text: str) -> None:
    """Every way in ends here: throttle, then the check-in service decides what comes next."""
    throttle = resources.scan_throttle()
    wait = throttle.wait_s(_kiosk_id(), time.monotonic())
    if wait > 0:
        _notify(_("Please wait {n} seconds, then scan again.").format(n=int(wait) + 1))
        return
    outcome = checkin.begin(engine=resources.engine(), settings=resources.settings(), scan=text, kiosk=_kiosk_id())
    if outcome.result in checkin.REFUSED:
        throttle.failed(_kiosk_id(), time.monotonic())
        _notify(headline(outcome, resources.settings().tz, lang()))
        st.session_state["screen"] = "welcome"
        return
    throttle.succeeded(_kiosk_id())
    apply_patient_language(outcome.language)
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
        with unit_of_work(resources.engine()) as session:
            st.session_state["waiting_told"] = note_waiting_patient(
                session=session, appointment_id=outcome.appointment_id, limit_min=cfg.waiting_alert_min,
                now=utcnow(), kiosk=_kiosk_id(),
            )  # fmt: skip
    st.session_state["screen"] = "result"


def _ask_feedback() -> None:
    st.session_state["feedback_step"] = "pain"
    st.session_state["screen"] = "feedback"


def _welcome() -> None:
    cfg = resources.settings()
    st.title(cfg.clinic_name)
    welcome = escape(_("Welcome! Please scan the code on your card to check in."))
    st.markdown(f'<p class="kiosk-message">{welcome}</p>', unsafe_allow_html=True)
    if st.session_state.get("notice"):
        st.error(literal(st.session_state["notice"]))
        _notice_timer()
    scan = st.text_input(_(SCAN_LABEL), key="scan", placeholder=_("Hold your card under the scanner"))
    keep_scan_field_focused(_(SCAN_LABEL))
    with st.expander(_("No scanner? Use the camera")):
        picture = st.camera_input(_("Show your card to the camera"), key="camera")
    if scan:
        st.session_state["clear_scan"] = True
        _handle_scan(scan)
        st.rerun()
    if picture is not None and picture.file_id != st.session_state.get("camera_done"):
        st.session_state["camera_done"] = picture.file_id  # each picture is read once, even across reruns
        text = read_qr(picture.getvalue())
        if text is None:
            _notify(_("We couldn't see a code in that picture. Please hold the card closer."))
        else:
            _handle_scan(text)
        st.rerun()


def _birth_date() -> None:
    outcome: checkin.Outcome = st.session_state["outcome"]
    st.title(_("Please confirm it's you"))
    message = headline(outcome, resources.settings().tz, lang())
    if outcome.result == "wrong_dob":
        st.error(literal(f"{message} {tries_left(outcome, lang())}"))
    else:
        st.markdown(f'<p class="kiosk-message">{escape(message)}</p>', unsafe_allow_html=True)
    typed = birth_date_form()
    if st.button(_("Start over"), key="cancel_dob", width="stretch"):
        _reset()
        st.rerun()
    if typed is not None:
        _confirm_birth_date(*typed)


def _confirm_birth_date(month: str, day: str, year: str) -> None:
    """Check the typed date; the fields keep what was typed, so a wrong try is corrected, not retyped."""
    dob = parse_birth_date(month, day, year, today=date.today())
    if not isinstance(dob, date):
        st.warning(dob)
        return
    token = st.session_state["token"]
    _show(checkin.confirm(engine=resources.engine(), settings=resources.settings(), token=token, dob=dob,
                          kiosk=_kiosk_id()))
    st.rerun()


def _result() -> None:
    outcome: checkin.Outcome = st.session_state["outcome"]
    cfg = resources.settings()
    message = headline(outcome, cfg.tz, lang())
    if outcome.ok:
        st.title(_("You're checked in"))
        st.success(literal(message))
        if st.session_state.get("waiting_told"):
            st.info(literal(_(WAITING_TOLD)))
        _plan(outcome.patient_id, outcome.site or cfg.site)
        if outcome.patient_id is not None:
            take_home(outcome.patient_id, outcome.site or cfg.site)
    else:
        st.title(_("Please see the front desk"))
        st.warning(literal(message))
        if outcome.result == "locked" and outcome.locked_until:
            after = clock(outcome.locked_until, cfg.tz, lang())
            st.markdown(literal(_("You can try again after {time}.").format(time=after)))
    if st.button(_("Done"), key="done", type="primary", width="stretch"):
        _reset()
        st.rerun()
    finished = outcome.ok and outcome.appointment_id is not None
    if finished:
        st.divider()  # apart from "Done": this one starts the questions after the session
    if finished and st.button(_("I'm done with my session"), key="im_done", width="stretch"):
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
    if step != "exercises" and st.button(_("No thanks"), key="fb_skip", width="stretch"):
        _reset()
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
        _reset()
        st.rerun()
    assert outcome.appointment_id is not None and outcome.patient_id is not None
    try:
        with unit_of_work(resources.engine()) as session:
            saved = feedback.record_feedback(session=session, appointment_id=outcome.appointment_id,
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


def _thanks() -> None:
    outcome: checkin.Outcome = st.session_state["outcome"]
    st.title(_("Thank you!"))
    st.success(literal(thanks(outcome.display_name or "", st.session_state.get("feedback_pain"), lang())))
    if st.button(_("Close"), key="thanks_done", type="primary", width="stretch"):
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


@st.fragment(run_every=2)
@patient_guarded("notice_timer")
def _notice_timer() -> None:
    """The welcome screen's message goes away by itself, so the next patient never reads it."""
    if time.time() - st.session_state.get("notice_at", time.time()) > NOTICE_S:
        st.session_state["notice"] = None
        st.rerun(scope="app")


@st.fragment(run_every=5)
@patient_guarded("plan")
def _plan(patient_id: int | None, site: str) -> None:
    """Today's plan, re-read every few seconds so each station's status stays live."""
    if patient_id is None:
        return
    cfg = resources.settings()
    now = utcnow()
    with read_session(resources.engine()) as session:
        lines = todays_plan(session=session, patient_id=patient_id, day=local_today(now, cfg.tz), site=site,
                            tz=cfg.tz, now=now, contact_time_min=cfg.contact_time_min)  # fmt: skip
    if not lines:
        st.markdown(_("Your therapist will go through today's exercises with you."))
        return
    st.header(_("Today's exercises"))
    st.markdown(plan_cards(lines, now), unsafe_allow_html=True)


@st.fragment(run_every=10)
@patient_guarded("server_idle_guard")
def _server_idle_guard() -> None:
    """A safety net for a browser whose idle timer is not running: reset after a long silence."""
    limit = resources.settings().lobby_idle_s * SERVER_IDLE_FACTOR
    if time.time() - st.session_state.get("last_seen", time.time()) > limit:
        _reset()
        st.rerun(scope="app")


main()
