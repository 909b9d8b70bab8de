"""What the lobby says, in plain words, and the plan as escaped HTML (pure functions, easy to test)."""

from __future__ import annotations

from datetime import datetime, tzinfo
from html import escape

from shared.checkin import Outcome
from shared.plans import PlanLine

SCAN_LABEL = "Scan your card"
MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
          "November", "December")  # fmt: skip


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


def tries_left(outcome: Outcome) -> str:
    """How many birth-date tries remain, when it matters."""
    if outcome.attempts_left is None:
        return ""
    return "1 try left." if outcome.attempts_left == 1 else f"{outcome.attempts_left} tries left."


def plan_card_html(number: int, line: PlanLine, badge: str) -> str:
    """One exercise as a card; every value from the store is escaped, so names render as plain text."""
    station = ""
    if line.equipment_id:
        where = escape(line.equipment_name or line.equipment_id)
        zone = f" ({escape(line.equipment_zone)})" if line.equipment_zone else ""
        station = f"<p><b>Station:</b> {where}{zone} {badge}</p>"
    dose = f'<p class="kiosk-dose">{escape(line.dose)}</p>' if line.dose else ""
    instructions = f"<p>{escape(line.instructions)}</p>" if line.instructions else ""
    notes = f"<p><i>{escape(line.notes)}</i></p>" if line.notes else ""
    return (
        f'<div class="kiosk-card"><h3>{number}. {escape(line.exercise)}</h3>{dose}{station}{instructions}{notes}</div>'
    )
