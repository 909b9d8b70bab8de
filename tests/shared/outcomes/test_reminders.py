"""The reminders file parses as RFC 5545: one daily VEVENT at the patient's time with a VALARM, no name in it."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

from shared.outcomes.reminders import reminder_calendar

URL = "https://lobby.example/?p=" + "A" * 32


def unfolded(data: bytes) -> list[str]:
    """The content lines, as a calendar reads them: CRLF line ends, folded lines joined (RFC 5545 3.1)."""
    text = data.decode("utf-8")
    assert text.endswith("\r\n") and "\n" not in text.replace("\r\n", "")
    raw = text.split("\r\n")[:-1]
    assert all(len(line.encode("utf-8")) <= 75 for line in raw)
    lines: list[str] = []
    for line in raw:
        if line.startswith(" "):
            lines[-1] += line[1:]
        else:
            lines.append(line)
    return lines


def test_a_daily_reminder_at_the_chosen_time_until_the_link_ends() -> None:
    data = reminder_calendar(summary="Tus ejercicios", description="Marca cada ejercicio; hecho, gracias.", url=URL,
                             at=time(18, 30), start=date(2026, 12, 7), until=datetime(2027, 1, 18, 12, tzinfo=UTC),
                             now=datetime(2026, 12, 7, 10, tzinfo=UTC))  # fmt: skip
    lines = unfolded(data)
    names = [line.split(":", 1)[0].split(";", 1)[0] for line in lines]
    assert names[:2] == ["BEGIN", "VERSION"] and lines[-1] == "END:VCALENDAR"
    nesting = [line for line in lines if line.startswith(("BEGIN:", "END:"))]
    assert nesting == ["BEGIN:VCALENDAR", "BEGIN:VEVENT", "BEGIN:VALARM", "END:VALARM", "END:VEVENT", "END:VCALENDAR"]
    props = dict(line.split(":", 1) for line in lines)
    assert props["DTSTART"] == "20261207T183000"  # floating: 18:30 wherever the phone is
    assert props["RRULE"] == "FREQ=DAILY;UNTIL=20270118T120000Z"
    assert props["DTSTAMP"] == "20261207T100000Z" and props["UID"].endswith("@clinic-checkin")
    assert props["SUMMARY"] == "Tus ejercicios" and props["URL"] == URL
    assert lines[lines.index("BEGIN:VALARM") + 2] == "DESCRIPTION:Tus ejercicios"  # what the alarm says
    assert f"DESCRIPTION:Marca cada ejercicio\\; hecho\\, gracias. {URL}" in lines
    assert "ACTION:DISPLAY" in lines and "TRIGGER:PT0M" in lines
    assert "PRODID" in props and props["VERSION"] == "2.0"
