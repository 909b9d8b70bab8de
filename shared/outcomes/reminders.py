"""'Add reminders to my phone': an iCalendar file (RFC 5545) with one daily event at the time the patient picks,
its alarm going off then, and the take-home link; no SMS gateway, and no patient name in it (only the words the
page passes, like "Your exercises").

The event's time is floating (no zone): 18:00 stays 18:00 wherever the phone is. It repeats daily until the link
ends, so the reminders stop with it.
"""

from __future__ import annotations

import secrets
from datetime import UTC, date, datetime, time

from shared.store.types import utcnow

LINE_OCTETS = 75  # RFC 5545 3.1: lines longer than this are folded


def reminder_calendar(
    *,
    summary: str,
    description: str,
    url: str,
    at: time,
    start: date,
    until: datetime,
    now: datetime | None = None,
) -> bytes:
    """The .ics file's bytes: a VEVENT repeating daily at `at` from `start` until `until` (UTC), with a VALARM."""
    now = now or utcnow()
    first = datetime.combine(start, at)
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//clinic-checkin//home exercises//EN",
        "CALSCALE:GREGORIAN",
        "METHOD:PUBLISH",
        "BEGIN:VEVENT",
        f"UID:{secrets.token_hex(16)}@clinic-checkin",
        f"DTSTAMP:{_utc(now)}",
        f"DTSTART:{first:%Y%m%dT%H%M%S}",
        "DURATION:PT15M",
        f"RRULE:FREQ=DAILY;UNTIL={_utc(until)}",
        f"SUMMARY:{_text(summary)}",
        f"DESCRIPTION:{_text(f'{description} {url}')}",
        f"URL:{url}",
        "TRANSP:TRANSPARENT",
        "BEGIN:VALARM",
        "ACTION:DISPLAY",
        f"DESCRIPTION:{_text(summary)}",
        "TRIGGER:PT0M",
        "END:VALARM",
        "END:VEVENT",
        "END:VCALENDAR",
    ]
    return "".join(_fold(line) + "\r\n" for line in lines).encode("utf-8")


def _utc(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def _text(value: str) -> str:
    """An RFC 5545 TEXT value: backslash, semicolon, comma and newlines escaped."""
    cleaned = " ".join(value.split())
    return cleaned.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,")


def _fold(line: str) -> str:
    """Fold a content line at 75 octets (never inside a UTF-8 character): CRLF and a space before each part."""
    parts: list[str] = []
    current = b""
    for char in line:
        encoded = char.encode("utf-8")
        if len(current) + len(encoded) > (LINE_OCTETS if not parts else LINE_OCTETS - 1):
            parts.append(current.decode("utf-8"))
            current = b""
        current += encoded
    parts.append(current.decode("utf-8"))
    return "\r\n ".join(parts)
