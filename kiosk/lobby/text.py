"""What the lobby says, in plain words, and the plan as escaped HTML (pure functions, easy to test).

Constants are the English texts (gettext message ids, marked with `N_`); they are translated where they are
shown. The check-in outcome's own sentences (`clock`, `headline`) are in `shared.care.checkin_messages`: the CLI
says them too.
"""

from __future__ import annotations

from datetime import datetime
from html import escape

from shared.care.checkin import Outcome
from shared.care.dose_words import Units, say_dose
from shared.care.feedback import DIFFICULTIES, PAIN_ALERT
from shared.care.todays_plan import PlanLine
from shared.i18n import N_, gettext_for

__all__ = [
    "DIFFICULTY_BUTTONS", "DIFFICULTY_QUESTION", "EXERCISES_QUESTION", "PAIN_HINT", "PAIN_QUESTION",
    "SCAN_LABEL", "WAITING_TOLD", "ask_therapist_html", "plan_card_html", "thanks", "tries_left",
]  # fmt: skip

SCAN_LABEL = N_("Scan your card")
PAIN_QUESTION = N_("How much pain do you have right now?")
PAIN_HINT = N_("0 means no pain at all, 10 the worst pain you can imagine.")
DIFFICULTY_QUESTION = N_("How hard was today's session?")
DIFFICULTY_BUTTONS = dict(zip(DIFFICULTIES, (N_("Easy"), N_("About right"), N_("Too hard")), strict=True))
EXERCISES_QUESTION = N_("And each exercise? (optional)")
WAITING_TOLD = N_("You've been waiting a while — we've let the team know.")
STATION_LABEL = N_("Station:")
START_HERE = N_("Start here")


def tries_left(outcome: Outcome, lang: str | None = None) -> str:
    """How many birth-date tries remain, when it matters."""
    if outcome.attempts_left is None:
        return ""
    n = outcome.attempts_left
    return gettext_for(lang).ngettext("{n} try left.", "{n} tries left.", n).format(n=n)


def thanks(display_name: str, pain: int | None, lang: str | None = None) -> str:
    """The thank-you after the questions; high pain also sends the patient to the front desk."""
    _ = gettext_for(lang).gettext
    name = display_name if display_name.endswith(".") or not display_name else f"{display_name}."
    text = (_("Thank you, {name} Your answers help your therapist plan your next visit.").format(name=name) if name
            else _("Thank you. Your answers help your therapist plan your next visit."))  # fmt: skip
    if pain is not None and pain >= PAIN_ALERT:
        text += " " + _("If the pain is bad, please tell the front desk before you leave.")
    return text


def minutes_left(ready_at: datetime, now: datetime) -> int:
    """Whole minutes until a cleaned station is ready, rounded up (at least 1)."""
    return max(1, -(-int((ready_at - now).total_seconds()) // 60))


def station_words(line: PlanLine, now: datetime, lang: str | None = None) -> str:
    """The station's status in the patient's words ("Being cleaned, ready in 2 min")."""
    _ = gettext_for(lang)
    status = line.station_status
    if status == "cleaning" and line.equipment_ready_at is not None:
        n = minutes_left(line.equipment_ready_at, now)
        return _.ngettext("Being cleaned, ready in {n} min", "Being cleaned, ready in {n} min", n).format(n=n)
    words = {"available": N_("Free"), "in_use": N_("In use"), "needs_cleaning": N_("Being cleaned"),
             "cleaning": N_("Being cleaned"), "out_of_service": N_("Out of service")}  # fmt: skip
    return _.gettext(words[status]) if status in words else ""


def dose_html(line: PlanLine, *, units: Units, lang: str | None = None) -> str:
    """The dose in the patient's words (shared/care/dose_words.py), or nothing for a line without one."""
    words = say_dose(sets=line.sets, reps=line.reps, hold_s=line.hold_s, minutes=line.minutes, load=line.load,
                     units=units, lang=lang)  # fmt: skip
    return f'<p class="kiosk-dose">{escape(words)}</p>' if words else ""


def guidance_html(line: PlanLine, lang: str | None = None) -> str:
    """Where to go instead when the station is not free and one of the same kind is (the plan's one note sends
    the patient to the therapist for the others: `ask_therapist_html`)."""
    if line.free or not line.equipment_id or not line.alternative_id:
        return ""
    _ = gettext_for(lang).gettext
    where = escape(line.alternative_name_in(lang) or "")
    zone = f" ({escape(line.alternative_zone)})" if line.alternative_zone else ""
    text = _("Use {station} instead: it is free.").format(station=f"<b>{where}{zone}</b>")
    return f'<p class="kiosk-instead">{text}</p>'


def needs_therapist(line: PlanLine) -> bool:
    """The exercise's station is not free and no other of its kind is: the therapist says where to do it."""
    return bool(line.equipment_id) and not line.free and not line.alternative_id


def ask_therapist_html(numbers: list[int], lang: str | None = None) -> str:
    """The plan's one note for the exercises whose station is not free with none free instead, by number."""
    if not numbers:
        return ""
    t = gettext_for(lang)
    said = [str(n) for n in numbers]
    listed = said[0] if len(said) == 1 else t.gettext("{first} and {last}").format(first=", ".join(said[:-1]),
                                                                                    last=said[-1])  # fmt: skip
    text = t.ngettext("Please ask your therapist where to do exercise {numbers}: its station is not free.",
                      "Please ask your therapist where to do exercises {numbers}: their stations are not free.",
                      len(numbers)).format(numbers=listed)  # fmt: skip
    return f'<p class="kiosk-instead kiosk-ask-therapist">{escape(text)}</p>'


def plan_card_html(
    number: int,
    line: PlanLine,
    badge: str,
    *,
    units: Units,
    lang: str | None = None,
    start: bool = False,
    picture: str = "",
) -> str:
    """One exercise as a card; every value from the store is escaped, so names render as plain text.

    `picture` is the exercise's image (already a safe `<img>`), `start` marks the one to begin with."""
    _ = gettext_for(lang).gettext
    name, instructions = line.texts(lang)
    station = ""
    if line.equipment_id:
        where = escape(line.station_name(lang) or "")
        zone = f" ({escape(line.equipment_zone)})" if line.equipment_zone else ""
        station = f"<p><b>{escape(_(STATION_LABEL))}</b> {where}{zone} {badge}</p>"
    dose = dose_html(line, units=units, lang=lang)
    steps = f"<p>{escape(instructions)}</p>" if instructions else ""
    notes = f"<p><i>{escape(line.notes)}</i></p>" if line.notes else ""
    flag = f'<p class="kiosk-start">{escape(_(START_HERE))}</p>' if start else ""
    body = f"{flag}<h3>{number}. {escape(name)}</h3>{dose}{station}{guidance_html(line, lang)}{steps}{notes}"
    classes = "kiosk-card kiosk-card-start" if start else "kiosk-card"
    if picture:
        return f'<div class="{classes} kiosk-has-picture">{picture}<div class="kiosk-card-text">{body}</div></div>'
    return f'<div class="{classes}">{body}</div>'
