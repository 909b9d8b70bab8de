"""An ISO week in the clinic's time zone: its local days and its UTC bounds (167, 168 or 169 hours long)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from functools import cached_property

from shared.store.errors import ValidationFailed

WEEK_PATTERN = re.compile(r"^(\d{4})-W(\d{2})$")


@dataclass(frozen=True)
class Week:
    """An ISO week (Monday to Sunday) of local days in `tz`."""

    year: int
    number: int
    tz: tzinfo

    @property
    def label(self) -> str:
        """The week as typed: "2026-W49"."""
        return f"{self.year}-W{self.number:02d}"

    @property
    def monday(self) -> date:
        """The week's first local day."""
        return date.fromisocalendar(self.year, self.number, 1)

    @cached_property
    def days(self) -> list[date]:
        """Its seven local days, Monday first."""
        return [self.monday + timedelta(days=i) for i in range(7)]

    @cached_property
    def start(self) -> datetime:
        """Local midnight starting Monday, in UTC."""
        return local_midnight(self.monday, self.tz)

    @cached_property
    def end(self) -> datetime:
        """Local midnight ending Sunday (the next Monday's), in UTC."""
        return local_midnight(self.monday + timedelta(days=7), self.tz)

    @property
    def hours(self) -> float:
        """Its real length in hours: 168, or 167/169 across a daylight-saving change."""
        return (self.end - self.start).total_seconds() / 3600


def local_midnight(day: date, tz: tzinfo) -> datetime:
    """The UTC instant of local midnight starting `day` (wall-clock arithmetic, then converted)."""
    return datetime.combine(day, time(0), tzinfo=tz).astimezone(UTC)


def parse_week(text: str, tz: tzinfo) -> Week:
    """A week typed as YYYY-Www ("2026-W49"); a bad one is a user error naming it."""
    found = WEEK_PATTERN.match(text.strip())
    if found is None:
        raise ValidationFailed(f"week {text!r} must look like 2026-W49")
    year, number = int(found.group(1)), int(found.group(2))
    try:
        date.fromisocalendar(year, number, 1)
    except ValueError:
        raise ValidationFailed(f"week {text!r} does not exist (weeks of {year} are numbered 01 to 52 or 53)") from None
    return Week(year, number, tz)


def week_of(moment: datetime, tz: tzinfo) -> Week:
    """The ISO week holding `moment`'s local day."""
    year, number, _ = moment.astimezone(tz).date().isocalendar()
    return Week(year, number, tz)


def last_full_week(now: datetime, tz: tzinfo) -> Week:
    """The week before the one holding `now`: what a Monday-morning report is about."""
    return week_of(now.astimezone(tz) - timedelta(days=7), tz)


def recent_weeks(now: datetime, tz: tzinfo, count: int = 12) -> list[Week]:
    """The week holding `now` and the `count - 1` before it, newest first (the staff page's week picker)."""
    this = week_of(now, tz)
    return [week_of(datetime.combine(this.monday - timedelta(weeks=n), time(12), tzinfo=tz), tz) for n in range(count)]
