"""No raw error box, anywhere: a failure while serving a page becomes one plain sentence and one log line.

Streamlit shows a traceback box for any exception that leaves a script, a fragment or a callback. A patient must
never see one (they get "please see the front desk" and a way back), nor a technician (a one-line error and a
"Try again"). A refusal the domain explains (`ClinicError`) shows its own message; anything else, above all a
storage failure ("database is locked", a lost PostgreSQL connection), is logged with its traceback. The engine
hides SQL parameters (`shared.store.db.make_engine`), so the log holds no patient data.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import wraps
from typing import ParamSpec

import streamlit as st

from kiosk.theme import literal
from shared.store.errors import ClinicError

log = logging.getLogger("clinic.ui")
P = ParamSpec("P")

PATIENT_SORRY = "Sorry, something went wrong. Please see the front desk."
STAFF_SORRY = "That did not go through: the system is busy or unreachable. Please try again in a moment."
FAILED_KEY = "failsafe_failed"  # a callback's failure, shown on the run that follows it


@contextmanager
def staff_guard(where: str) -> Iterator[None]:
    """Around a staff page or fragment: a failure shows one line and a "Try again" button."""
    show_callback_failure()
    try:
        yield
    except ClinicError as exc:
        st.error(literal(str(exc)))
    except Exception:
        log.exception("staff app: %s failed", where)
        st.error(STAFF_SORRY)
        st.button("Try again", key=f"failsafe_retry_{where}")


@contextmanager
def patient_guard(where: str, *, start_again: Callable[[], None]) -> Iterator[None]:
    """Around a lobby screen or fragment: the patient sees a plain sentence and a big "Start again"."""
    try:
        yield
    except Exception:
        log.exception("lobby: %s failed", where)
        show_patient_sorry(start_again)


def patient_guarded(where: str) -> Callable[[Callable[P, None]], Callable[P, None]]:
    """For the lobby's self-refreshing fragments (put it under `@st.fragment`): the sentence in place of the
    fragment, while the rest of the screen (with its idle reset) stays."""

    def decorate(render: Callable[P, None]) -> Callable[P, None]:
        @wraps(render)
        def run(*args: P.args, **kwargs: P.kwargs) -> None:
            try:
                render(*args, **kwargs)
            except Exception:
                log.exception("lobby: %s failed", where)
                st.error(PATIENT_SORRY)

        return run

    return decorate


def show_patient_sorry(start_again: Callable[[], None]) -> None:
    """The lobby's only error screen: what to do, and the way back to the welcome screen."""
    st.error(PATIENT_SORRY)
    st.button("Start again", key="failsafe_start_again", type="primary", on_click=start_again, width="stretch")


def staff_guarded(where: str) -> Callable[[Callable[P, None]], Callable[P, None]]:
    """`staff_guard` as a decorator, for fragments that redraw on their own (put it under `@st.fragment`)."""

    def decorate(render: Callable[P, None]) -> Callable[P, None]:
        @wraps(render)
        def run(*args: P.args, **kwargs: P.kwargs) -> None:
            with staff_guard(where):
                render(*args, **kwargs)

        return run

    return decorate


def safe_callback(where: str) -> Callable[[Callable[P, None]], Callable[P, None]]:
    """A button callback that never raises: a failure is logged and shown as a line on the next run."""

    def decorate(callback: Callable[P, None]) -> Callable[P, None]:
        @wraps(callback)
        def run(*args: P.args, **kwargs: P.kwargs) -> None:
            try:
                callback(*args, **kwargs)
            except ClinicError as exc:
                st.session_state[FAILED_KEY] = str(exc)
            except Exception:
                log.exception("staff app: %s failed", where)
                st.session_state[FAILED_KEY] = STAFF_SORRY

        return run

    return decorate


def show_callback_failure() -> None:
    """Show (once) what a callback could not do."""
    message = st.session_state.pop(FAILED_KEY, None)
    if message:
        st.error(literal(message))
