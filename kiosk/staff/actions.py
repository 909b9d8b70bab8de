"""The staff pages' one way to run a user action: one call into `shared/` in one unit of work, and one error path.

A page hands `run_action` what the action does with a session; a refusal the domain explains (`ClinicError`) is
shown as a sentence where the action was (or given to `refused`, e.g. to keep it in a station's card), and the
page goes on only when the action was done:

    done = run_action(lambda session: add_appointment(session=session, ...))
    if done is None:
        return
    rerun_with_notice(f"Booked appointment #{done.value.id}.")

Any other failure (a storage error) is left to `kiosk.failsafe`, which logs it and shows one plain line.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

import streamlit as st
from sqlmodel import Session

from kiosk import resources
from kiosk.theme import literal
from shared.store.db import unit_of_work
from shared.store.errors import ClinicError

T = TypeVar("T")
Refused = Callable[[ClinicError], None]


@dataclass(frozen=True, slots=True)
class Done(Generic[T]):
    """An action that went through, with what it returned."""

    value: T


def sentence(message: str) -> str:
    """A domain message ("name must be ...") as a sentence, its first letter capitalised."""
    return message[:1].upper() + message[1:]


def show_error(message: str) -> None:
    """An error box for a refusal, as a sentence (domain messages start lower case: "name must be ..."); the
    message often quotes what was typed, so that shows exactly as typed."""
    st.error(literal(sentence(message)))


def show_refusal(exc: ClinicError) -> None:
    """The default for a refused action: its message in an error box where the action was."""
    show_error(str(exc))


def run_action(work: Callable[[Session], T], *, refused: Refused = show_refusal) -> Done[T] | None:
    """Run one user action in one unit of work on the app's engine (committed when `work` returns, rolled back
    if it raises); `Done` with what it returned, or None when the domain refused it (shown by `refused`)."""
    return attempt(lambda: _in_unit_of_work(work), refused=refused)


def attempt(work: Callable[[], T], *, refused: Refused = show_refusal) -> Done[T] | None:
    """`run_action` for the few services that own their transactions (account changes hash a password before
    taking the write lock): the same refusal path, without a unit of work around them."""
    try:
        return Done(work())
    except ClinicError as exc:
        refused(exc)
        return None


def _in_unit_of_work(work: Callable[[Session], T]) -> T:
    with unit_of_work(resources.engine()) as session:
        return work(session)
