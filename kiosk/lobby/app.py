"""The lobby kiosk (Streamlit script): scan a card, confirm the birth date, see today's plan, reset.

Three ways in, one code path (`handle_scan` in kiosk/lobby/scan.py): a USB scanner typing into the focused
field, the tablet camera, or a phone opening the card's link (`?t=`). The scan field is read on every run rather
than through an `on_change` callback, which Streamlit can skip right after a server restart or a reconnect.

After the session the patient scans again (or taps "I'm done with my session") and answers two questions in
big buttons, pain now and how hard it was, then optionally each exercise; a patient still waiting after
`CLINIC_WAITING_ALERT_MIN` who scans again is told the team knows, and staff see when they asked.
"""

from __future__ import annotations

import time

import streamlit as st

from kiosk import resources
from kiosk.failsafe import patient_guard, patient_guarded
from kiosk.lobby.after_session import feedback_screen, thanks_screen
from kiosk.lobby.checkin_screens import birth_date_screen, result_screen, welcome_screen
from kiosk.lobby.language import _, follow_the_patients_choice, lang, large_text, top_bar
from kiosk.lobby.questionnaire import questionnaire_screen
from kiosk.lobby.scan import handle_scan
from kiosk.lobby.share import shared_plan
from kiosk.lobby.state import init_state, reset
from kiosk.page_scripts import idle_reset
from kiosk.theme import apply_kiosk_theme
from shared.care.plan_shares import QUERY_KEY as SHARE_QUERY

SERVER_IDLE_FACTOR = 5  # if the browser's idle timer is not running, the server resets after 5x the idle time


def main() -> None:
    """Render the screen the session is on."""
    st.set_page_config(page_title="Check in", page_icon=None, layout="centered", initial_sidebar_state="collapsed")
    init_state()
    apply_kiosk_theme(large=large_text())
    with patient_guard("lobby", start_again=reset):
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
            handle_scan(scan)
    if st.session_state.pop("clear_scan", False):
        st.session_state["scan"] = ""
    screen = st.session_state["screen"]
    top_bar()  # on every screen: a patient switches language or text size where they are
    if screen != "welcome":
        idle_reset(resources.settings().lobby_idle_s, warning=_("Are you still there? This screen closes in {n} s."),
                   still_here=_("I'm still here"), lang=lang())  # fmt: skip
        _server_idle_guard()
    screens = {"welcome": welcome_screen, "dob": birth_date_screen, "result": result_screen,
               "feedback": feedback_screen, "thanks": thanks_screen, "questionnaire": questionnaire_screen}
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


@st.fragment(run_every=10)
@patient_guarded("server_idle_guard")
def _server_idle_guard() -> None:
    """A safety net for a browser whose idle timer is not running: reset after a long silence."""
    follow_the_patients_choice()
    limit = resources.settings().lobby_idle_s * SERVER_IDLE_FACTOR
    if time.time() - st.session_state.get("last_seen", time.time()) > limit:
        reset()
        st.rerun(scope="app")


main()
