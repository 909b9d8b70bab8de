"""How the front desk reads an arrived patient: when they came against their appointment, and how long they
have sat there, in words that agree with what the front desk sees in the lobby.

The wait (what the long-wait alert counts) starts at the later of arrival and the appointment's start; an early
patient's minutes before their time are shown too, as "here N min", so a person sitting for ten minutes never
reads "waiting 0 min".
"""

from __future__ import annotations

from datetime import datetime, timedelta, tzinfo

LATE_AFTER = timedelta(minutes=5)  # arriving up to this long after the start is on time
EARLY_BEFORE = timedelta(minutes=1)  # arriving at least this long before the start is early


def whole_minutes(start: datetime, end: datetime) -> int:
    """Full minutes from `start` to `end` (0 when `end` is not later)."""
    return max(0, int((end - start).total_seconds() // 60))


def arrival_words(
    *,
    arrived_at: datetime,
    starts_at: datetime,
    tz: tzinfo,
    now: datetime | None = None,
    waiting_min: int | None = None,
    walk_in: bool = False,
    asked_at: datetime | None = None,
) -> str:
    """An arrived patient in words, e.g.

    - early, before their time: "arrived at 14:24, early (appt 14:42), here 10 min"
    - early, once their time has come: "arrived at 14:24, early (appt 14:42), waiting 12 min"
    - on time: "arrived at 14:43, waiting 3 min"; late: "arrived at 14:50, late (appt 14:42), waiting 3 min"
    - a walk-in (booked as they came): "walk-in, arrived at 14:24, waiting 3 min"
    - a waiting patient who asked at the lobby adds "; asked at 14:51".

    The minutes are counted up to `now`; without it, `waiting_min` (already counted) is used. An arrival on
    another calendar day than the appointment (an early patient before midnight) carries its weekday.
    """
    wait_from = max(arrived_at, starts_at)
    waited = whole_minutes(wait_from, now) if now is not None else waiting_min
    local_arrival, local_start = arrived_at.astimezone(tz), starts_at.astimezone(tz)
    at = f"{local_arrival:%H:%M}" if local_arrival.date() == local_start.date() else f"{local_arrival:%a %H:%M}"
    words = [f"arrived at {at}"]
    if walk_in:
        words.insert(0, "walk-in")
    elif starts_at - arrived_at >= EARLY_BEFORE:
        words.append(f"early (appt {local_start:%H:%M})")
    elif arrived_at - starts_at > LATE_AFTER:
        words.append(f"late (appt {local_start:%H:%M})")
    if now is not None and now < wait_from:
        words.append(f"here {whole_minutes(arrived_at, now)} min")  # before their time: not yet waiting on us
    elif waited is not None:
        words.append(f"waiting {waited} min")
    asked = f"; asked at {asked_at.astimezone(tz):%H:%M}" if asked_at is not None else ""
    return ", ".join(words) + asked


def is_walk_in(*, created_at: datetime | None, starts_at: datetime, arrived_at: datetime | None) -> bool:
    """An appointment made for a patient who came without one: booked no earlier than its own start, and
    marked arrived as it was booked (an import of earlier appointments is not a walk-in)."""
    if created_at is None or arrived_at is None:
        return False
    return created_at >= starts_at and abs(arrived_at - created_at) < timedelta(minutes=1)
