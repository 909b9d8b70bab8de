"""What a check-in outcome says to the patient, in plain words: one text for the lobby and the CLI."""

from __future__ import annotations

from datetime import datetime, tzinfo

from shared.checkin import Outcome


def clock(value: datetime | None, tz: tzinfo) -> str:
    """A time of day as the clinic's wall clock shows it ("10:30")."""
    return value.astimezone(tz).strftime("%H:%M") if value else ""


def headline(outcome: Outcome, tz: tzinfo) -> str:
    """The main sentence for an outcome."""
    name = outcome.display_name or ""
    at = clock(outcome.appointment_at, tz)
    with_whom = f" with {outcome.clinician}" if outcome.clinician else ""
    greeting = name if name.endswith(".") else f"{name}."  # "Maria G." already ends the sentence
    texts = {
        "checked_in": f"Welcome, {greeting} You're checked in for {at}{with_whom}.",
        "already_checked_in": f"Welcome back, {greeting} You're already checked in for {at}{with_whom}"
        + (f" (since {clock(outcome.checked_in_at, tz)})." if outcome.checked_in_at else "."),
        "no_appointment": f"Hello, {greeting} We can't find an appointment for you today. "
        "Please see the front desk. We have let them know you are here.",
        "invalid": "Sorry, we couldn't read that card. Please try again, or see the front desk.",
        "locked": "For your security, this card is paused for a little while. Please see the front desk.",
        "wrong_dob": "That date of birth doesn't match our records. Please try again.",
        "needs_dob": "To protect your privacy, please enter your date of birth.",
    }
    return texts[outcome.result]
