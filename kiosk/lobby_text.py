"""What the lobby says, in plain words, and the plan as escaped HTML (pure functions, easy to test).

`clock` and `headline` live in `shared.messages` (the CLI says the same sentences) and are re-exported here.
"""

from __future__ import annotations

from html import escape

from shared.checkin import Outcome
from shared.feedback import DIFFICULTIES, PAIN_ALERT
from shared.messages import clock, headline
from shared.plans import PlanLine

__all__ = [
    "DIFFICULTY_BUTTONS", "DIFFICULTY_QUESTION", "EXERCISES_QUESTION", "MONTHS", "PAIN_HINT", "PAIN_QUESTION",
    "SCAN_LABEL", "WAITING_TOLD", "clock", "headline", "plan_card_html", "thanks", "tries_left",
]  # fmt: skip

SCAN_LABEL = "Scan your card"
PAIN_QUESTION = "How much pain do you have right now?"
PAIN_HINT = "0 means no pain at all, 10 the worst pain you can imagine."
DIFFICULTY_QUESTION = "How hard was today's session?"
DIFFICULTY_BUTTONS = dict(zip(DIFFICULTIES, ("Easy", "About right", "Too hard"), strict=True))
EXERCISES_QUESTION = "And each exercise? (optional)"
WAITING_TOLD = "You've been waiting a while — we've let the team know."
MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
          "November", "December")  # fmt: skip


def tries_left(outcome: Outcome) -> str:
    """How many birth-date tries remain, when it matters."""
    if outcome.attempts_left is None:
        return ""
    return "1 try left." if outcome.attempts_left == 1 else f"{outcome.attempts_left} tries left."


def thanks(display_name: str, pain: int | None) -> str:
    """The thank-you after the questions; high pain also sends the patient to the front desk."""
    name = f", {display_name}" if display_name else ""
    text = f"Thank you{name}{'' if name.endswith('.') else '.'} Your answers help your therapist plan your next visit."
    if pain is not None and pain >= PAIN_ALERT:
        text += " If the pain is bad, please tell the front desk before you leave."
    return text


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
