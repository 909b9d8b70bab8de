"""Clinic-local time: what 'today' is, and local date-times typed by staff turned into UTC."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, tzinfo

from shared.store.errors import ValidationFailed


def local_today(now: datetime, tz: tzinfo) -> date:
    """The clinic's calendar day at `now`."""
    return now.astimezone(tz).date()


CLOCK_TIME = re.compile(r"^(\d{1,2})(?:[:.](\d{2}))?\s*(a\.?m\.?|p\.?m\.?)?$", re.IGNORECASE)
DATED = re.compile(r"^(\d{4}-\d{2}-\d{2})[ T]+(.+)$")


def parse_clock_time(text: str) -> time | None:
    """A time of day as people type it: '15:00', '9:05', '3pm', '3:30 pm', '11.15 a.m.'; None if it is not one."""
    found = CLOCK_TIME.match(text.strip())
    if found is None:
        return None
    hour, minute, half = int(found[1]), int(found[2] or 0), (found[3] or "").replace(".", "").lower()
    if found[2] is None and not half:
        return None  # a bare number ("3") is too ambiguous to book
    if half:
        if not 1 <= hour <= 12:
            return None
        hour = hour % 12 + (12 if half == "pm" else 0)
    if hour > 23 or minute > 59:
        return None
    return time(hour, minute)


def parse_local_datetime(text: str, tz: tzinfo, *, today: date) -> datetime:
    """'2026-11-23 10:30', '2026-11-23 3pm' or a time alone ('10:30', '3pm', '3:30 pm': today), in the clinic's
    zone, as aware UTC."""
    cleaned = text.strip()
    day, clock = today, cleaned
    dated = DATED.match(cleaned)
    local: datetime | None
    try:
        if dated is not None:
            day, clock = date.fromisoformat(dated[1]), dated[2]
        at = parse_clock_time(clock)
        local = datetime.combine(day, at) if at is not None else datetime.fromisoformat(cleaned.replace("T", " "))
    except ValueError:
        local = None
    if local is None:
        raise ValidationFailed(f"time {text!r} is not like 10:30, 3pm, 3:30 pm or 2026-11-23 10:30")
    if local.tzinfo is None:
        local = local.replace(tzinfo=tz)
    return local.astimezone(UTC)


def parse_date(text: str, what: str = "date") -> date:
    """An ISO date (1950-04-17), with a message that names the field when it is not one."""
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise ValidationFailed(f"{what} {text!r} is not a date like 1950-04-17") from None
