"""A typed birth date, read and explained: the date, or a sentence that names what is wrong with it.

The lobby asks older patients, often in pain, for their birth date on a number pad. A message that names the
wrong part ("That year is too long ago", "April has only 30 days") lets them fix that part; a general one
("type the year with four digits" for 1900) sends them looking for a mistake they did not make. One rule for
every language: the sentence comes from the language's catalogue, and month names and lists follow its locale.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date
from typing import Literal

from babel.dates import format_skeleton, get_date_format, get_month_names
from babel.lists import format_list

from shared.i18n import N_, babel_locale, gettext_for

Part = Literal["month", "day", "year"]
PARTS: tuple[Part, ...] = ("month", "day", "year")
OLDEST_YEARS = 125  # a year further back than this is a typo (1900 for 1960), not a patient

_PART_WORDS = {"month": N_("the month"), "day": N_("the day"), "year": N_("the year")}
ALL_MISSING = N_("Please type the month, the day and the year.")
SOME_MISSING = N_("Please type {parts}.")
NOT_DIGITS = N_("Please use numbers only.")
BAD_MONTH = N_("The month is a number from 1 to 12.")
BAD_DAY = N_("The day is a number from 1 to 31.")
SHORT_YEAR = N_("Please type the year with four digits, like 1950.")
TOO_OLD = N_("That year is too long ago. Please check the year.")
FUTURE_YEAR = N_("That date is in the future. Please check the year.")
FUTURE_DAY = N_("That date is in the future. Please check the month and the day.")
SHORT_MONTH = N_("{month} has only {days} days. Please check the day.")


@dataclass(frozen=True)
class DateProblem:
    """What is wrong with a typed date: a message id and what fills it in (see `words`)."""

    message: str
    missing: tuple[Part, ...] = ()
    month: date | None = None  # the month that is too short for the day (its first day)
    days: int = 0


def part_order(lang: str | None) -> tuple[Part, ...]:
    """Month, day and year in the order the language writes a date (en: month first; es: day first)."""
    pattern = get_date_format("short", locale=babel_locale(lang)).pattern
    position = {"month": pattern.find("M"), "day": pattern.find("d"), "year": pattern.find("y")}
    return tuple(sorted(PARTS, key=lambda part: position[part]))


def read_birth_date(*, month: str, day: str, year: str, today: date) -> date | DateProblem:
    """The date typed, or the first thing wrong with it (checked part by part, so the message names one)."""
    typed: dict[Part, str] = {"month": (month or "").strip(), "day": (day or "").strip(), "year": (year or "").strip()}
    missing = tuple(part for part in PARTS if not typed[part])
    if missing:
        return DateProblem(ALL_MISSING if len(missing) == len(PARTS) else SOME_MISSING, missing=missing)
    if not all(re.fullmatch(r"[0-9]+", text) for text in typed.values()):
        return DateProblem(NOT_DIGITS)
    m, d, y = (int(typed[part]) for part in PARTS)
    if not 1 <= m <= 12:
        return DateProblem(BAD_MONTH)
    if not 1 <= d <= 31:
        return DateProblem(BAD_DAY)
    if len(typed["year"]) != 4:
        return DateProblem(SHORT_YEAR)
    if y < today.year - OLDEST_YEARS:
        return DateProblem(TOO_OLD)
    if y > today.year:
        return DateProblem(FUTURE_YEAR)
    days = calendar.monthrange(y, m)[1]
    if d > days:
        return DateProblem(SHORT_MONTH, month=date(y, m, 1), days=days)
    born = date(y, m, d)
    return born if born <= today else DateProblem(FUTURE_DAY)


def words(problem: DateProblem, lang: str | None) -> str:
    """The problem as one sentence in the patient's language."""
    _ = gettext_for(lang).gettext
    locale = babel_locale(lang)
    if problem.message == SOME_MISSING:
        ordered = [part for part in part_order(lang) if part in problem.missing]
        return _(SOME_MISSING).format(parts=format_list([_(_PART_WORDS[p]) for p in ordered], locale=locale))
    if problem.message == SHORT_MONTH and problem.month is not None:
        month = problem.month
        name = (format_skeleton("yMMMM", month, locale=locale) if month.month == 2  # February: it depends on the year
                else get_month_names("wide", "stand-alone", locale=locale)[month.month])  # fmt: skip
        return _(SHORT_MONTH).format(month=name[:1].upper() + name[1:], days=problem.days)
    return _(problem.message)
