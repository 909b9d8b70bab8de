"""What a check-in outcome says to the patient, in plain words: one text for the lobby and the CLI.

With `lang`, the sentence comes from that language's catalogue and times follow its format; without it (the
CLI, staff pages), English with the clinic's 24-hour clock.
"""

from __future__ import annotations

from datetime import datetime, tzinfo

from shared.care.checkin import Outcome
from shared.i18n import N_, gettext_for, time_words


def clock(value: datetime | None, tz: tzinfo, lang: str | None = None) -> str:
    """A time of day as the clinic's wall clock shows it ("10:30"), or in a language's format."""
    if not value:
        return ""
    return time_words(value, tz, lang) if lang else value.astimezone(tz).strftime("%H:%M")


def headline(outcome: Outcome, tz: tzinfo, lang: str | None = None) -> str:
    """The main sentence for an outcome."""
    _ = gettext_for(lang).gettext
    name = outcome.display_name or ""
    values = {"name": name if name.endswith(".") else f"{name}.",  # "Maria G." already ends the sentence
              "time": clock(outcome.appointment_at, tz, lang), "clinician": outcome.clinician or "",
              "since": clock(outcome.checked_in_at, tz, lang)}  # fmt: skip
    if outcome.result == "checked_in":
        text = (_("Welcome, {name} You're checked in for {time} with {clinician}.") if outcome.clinician
                else _("Welcome, {name} You're checked in for {time}."))  # fmt: skip
    elif outcome.result == "already_checked_in":
        text = (_("Welcome back, {name} You're already checked in for {time} with {clinician}") if outcome.clinician
                else _("Welcome back, {name} You're already checked in for {time}"))  # fmt: skip
        text += _(" (since {since}).") if outcome.checked_in_at else "."
    else:
        text = _(_OTHER[outcome.public_result])  # a revoked card says what an unknown one says
    return text.format(**values)


_OTHER = {
    "no_appointment": N_("Hello, {name} We can't find an appointment for you today. "
                         "Please see the front desk. We have let them know you are here."),
    "invalid": N_("We can't use this card. Please see the front desk."),  # also every revoked card
    "unreadable": N_("Sorry, we couldn't read that card. Please try again, or see the front desk."),
    "locked": N_("For your security, this card is paused for a little while. Please see the front desk."),
    "wrong_dob": N_("That date of birth doesn't match our records. Please try again."),
    "needs_dob": N_("To protect your privacy, please enter your date of birth."),
}  # fmt: skip
