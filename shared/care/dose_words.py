"""A plan line's dose in the patient's own words: "3 sets of 10, hold 2 seconds", "6 minutes, speed about 1 mph".

The one way a dose is said to a patient (the lobby's plan, the take-home page): whole words, singular and plural
right in each language, and a load in the clinic's units (`CLINIC_UNITS`). Staff type a load as free text; the
forms read here are a weight ("2 kg", "5 lb", "2 kg ankle weights"), a speed ("1.5 km/h", "2 mph") and a level
("level 3"). One in the other unit system is converted and rounded to what a person would set ("about 4 lb");
any other text is shown as staff wrote it. Staff's own shorthand ("3 x 10") stays `PlannedExercise.dose`.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from gettext import NullTranslations

from babel.numbers import format_decimal

from shared.i18n import N_, babel_locale, gettext_for
from shared.store.units import Units

__all__ = ["Units", "say_dose"]

KG_PER_LB = 0.45359237
KMH_PER_MPH = 1.609344
# What a converted amount is rounded to: the steps weights and treadmill dials come in.
CONVERTED = {("us", "kg"): "lb", ("metric", "lb"): "kg", ("us", "km/h"): "mph", ("metric", "mph"): "km/h"}
STEP = {"lb": 1.0, "kg": 0.5, "mph": 0.5, "km/h": 0.5}
UNIT_NAMES = {"kg": "kg", "kgs": "kg", "kilo": "kg", "kilos": "kg", "lb": "lb", "lbs": "lb", "pound": "lb",
              "pounds": "lb", "km/h": "km/h", "kph": "km/h", "kmh": "km/h", "mph": "mph"}  # fmt: skip
_QUANTITY = re.compile(r"^\s*(\d+(?:[.,]\d+)?)\s*(kgs?|kilos?|lbs?|pounds?|km/h|kph|kmh|mph)\.?(?:\s+(.*?))?\s*$",
                       re.IGNORECASE)  # fmt: skip
_LEVEL = re.compile(r"^\s*(?:level|nivel)\s*(\d+(?:[.,]\d+)?)\s*$", re.IGNORECASE)
ABOUT = {"lb": N_("about {amount} lb"), "kg": N_("about {amount} kg"), "mph": N_("about {amount} mph"),
         "km/h": N_("about {amount} km/h")}  # fmt: skip
# Things a weight is worn or held as, which staff write after it ("2 kg ankle weights").
ITEMS = {"ankle weights": N_("ankle weights"), "ankle weight": N_("ankle weight"), "wrist weights": N_("wrist weights"),
         "dumbbells": N_("dumbbells"), "dumbbell": N_("dumbbell"), "weights": N_("weights")}  # fmt: skip


@dataclass(frozen=True, slots=True)
class _Amount:
    """A number with its unit as said: converted ones are "about"."""

    value: float
    unit: str
    about: bool


def say_dose(
    *,
    sets: int | None,
    reps: int | None,
    hold_s: int | None,
    minutes: float | None,
    load: str | None,
    units: Units,
    lang: str | None,
) -> str:
    """The dose as one sentence in `lang`, loads in `units`; "" for a line with no dose."""
    t = gettext_for(lang)
    parts = []
    per_set_minutes = bool(sets and not reps and minutes)
    if sets and reps:
        parts.append(t.ngettext("{sets} set of {reps}", "{sets} sets of {reps}", sets).format(sets=sets, reps=reps))
    elif per_set_minutes and sets and minutes:
        parts.append(t.ngettext("{sets} set of {time}", "{sets} sets of {time}", sets).format(
            sets=sets, time=_duration(round(minutes * 60), t)))  # fmt: skip
    elif sets:
        parts.append(t.ngettext("{n} set", "{n} sets", sets).format(n=sets))
    elif reps:
        parts.append(t.ngettext("once", "{n} times", reps).format(n=reps))
    if hold_s:
        parts.append(t.gettext("hold {time}").format(time=_duration(hold_s, t)))
    if minutes and not per_set_minutes:
        time = _duration(round(minutes * 60), t)
        parts.append(t.gettext("{time} in all").format(time=time) if reps else time)
    if load and load.strip():
        parts.append(_load_words(load.strip(), units, lang, t))
    sentence = ", ".join(parts)
    return sentence[:1].upper() + sentence[1:]


def _duration(seconds: int, t: NullTranslations) -> str:
    """A length of time in whole minutes and seconds ("1 minute", "12 minutes and 30 seconds", "45 seconds")."""
    seconds = max(1, seconds)
    whole, rest = divmod(seconds, 60)
    said_seconds = t.ngettext("{n} second", "{n} seconds", rest).format(n=rest)
    if not whole:
        return said_seconds
    said_minutes = t.ngettext("{n} minute", "{n} minutes", whole).format(n=whole)
    if not rest:
        return said_minutes
    return t.gettext("{minutes} and {seconds}").format(minutes=said_minutes, seconds=said_seconds)


def _load_words(load: str, units: Units, lang: str | None, t: NullTranslations) -> str:
    """A load in the patient's words: a weight, speed or level in the clinic's units, or staff's text as written."""
    level = _LEVEL.match(load)
    if level:
        return t.gettext("level {n}").format(n=_number(_float(level.group(1)), lang))
    quantity = _QUANTITY.match(load)
    if quantity is None:
        return load
    number, unit, rest = quantity.groups()
    amount = _in_units(_float(number), UNIT_NAMES[unit.lower()], units)
    said = _amount_words(amount, lang, t)
    if amount.unit in ("mph", "km/h"):
        return t.gettext("speed {amount}").format(amount=said) + (f" {rest}" if rest else "")
    words = " ".join((rest or "").lower().split())
    if words in ("", "weight"):
        return t.gettext("with a weight of {amount}").format(amount=said)
    item = ITEMS.get(words)
    return t.gettext("with {item} of {amount}").format(item=t.gettext(item) if item else rest, amount=said)


def _in_units(value: float, unit: str, units: Units) -> _Amount:
    """An amount in the clinic's units, rounded to a sensible step when converted."""
    target = CONVERTED.get((units, unit))
    if target is None:
        return _Amount(value, unit, about=False)
    factor = {"lb": 1 / KG_PER_LB, "kg": KG_PER_LB, "mph": 1 / KMH_PER_MPH, "km/h": KMH_PER_MPH}[target]
    step = STEP[target]
    converted = max(step, math.floor(value * factor / step + 0.5) * step)
    return _Amount(converted, target, about=True)


def _amount_words(amount: _Amount, lang: str | None, t: NullTranslations) -> str:
    number = _number(amount.value, lang)
    return t.gettext(ABOUT[amount.unit]).format(amount=number) if amount.about else f"{number} {amount.unit}"


def _number(value: float, lang: str | None) -> str:
    """A number as the language writes it ("1.5", "1,5"), without a needless ".0"."""
    return format_decimal(value, format="#,##0.##", locale=babel_locale(lang))


def _float(text: str) -> float:
    return float(text.replace(",", "."))
