"""Clinic-local time: what 'today' is, and local date-times typed by staff turned into UTC."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, tzinfo

from shared.errors import ValidationFailed


def local_today(now: datetime, tz: tzinfo) -> date:
    """The clinic's calendar day at `now`."""
    return now.astimezone(tz).date()


def parse_local_datetime(text: str, tz: tzinfo, *, today: date) -> datetime:
    """'2026-11-23 10:30', '2026-11-23T10:30' or '10:30' (today), in the clinic's zone, as aware UTC."""
    cleaned = text.strip().replace("T", " ")
    try:
        if len(cleaned) <= 5 and ":" in cleaned:
            local = datetime.combine(today, time.fromisoformat(cleaned.zfill(5)))
        else:
            local = datetime.fromisoformat(cleaned)
    except ValueError:
        raise ValidationFailed(f"time {text!r} is not like 2026-11-23 10:30 or 10:30") from None
    if local.tzinfo is None:
        local = local.replace(tzinfo=tz)
    return local.astimezone(UTC)


def parse_date(text: str, what: str = "date") -> date:
    """An ISO date (1950-04-17), with a message that names the field when it is not one."""
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise ValidationFailed(f"{what} {text!r} is not a date like 1950-04-17") from None
