"""The loaded tables' columns and the storage text of times: the rows the generator yields, as the app reads them."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

EPOCH = datetime(1970, 1, 1)
Row = tuple[Any, ...]
Chunk = tuple[str, Sequence[str], list[Row]]

EQUIPMENT_COLS = ("site", "id", "name", "kind", "zone", "clean_after_use", "maintenance_interval_hours", "created_at")
STATE_COLS = ("site", "equipment_id", "usage_status", "out_of_service", "online", "online_changed_at", "last_seen",
              "last_event_at", "in_use_since", "current_session_id", "needs_cleaning_since", "last_cleaned_at",
              "last_cleaned_by", "used_without_cleaning", "fault_code", "fault_severity", "fault_message",
              "fault_since", "uses_total", "uses_today", "uses_today_date", "in_use_seconds_total", "serviced_at",
              "serviced_in_use_seconds", "updated_at")  # fmt: skip
EVENT_COLS = ("site", "equipment_id", "event_id", "channel", "event", "device_ts", "event_at", "received_at",
              "session_id", "duration_s", "code", "severity", "message", "by", "method", "metrics",
              "source")  # fmt: skip
DAY_COLS = ("site", "equipment_id", "day", "uses", "in_use_seconds", "cleanings", "faults", "uses_needing_cleaning",
            "cleaned_before_next_use", "clean_wait_minutes")  # fmt: skip
EXERCISE_COLS = ("id", "name", "instructions", "image_url", "equipment_kind")
PATIENT_COLS = ("id", "first_name", "last_name", "dob", "phone", "created_at")
APPOINTMENT_COLS = ("id", "patient_id", "site", "starts_at", "minutes", "clinician", "status", "arrived_at",
                    "created_at")  # fmt: skip
CHECKIN_COLS = ("site", "at", "result", "patient_id", "appointment_id", "kiosk")
PLAN_COLS = ("patient_id", "exercise_id", "position", "sets", "reps", "hold_s", "minutes", "load", "equipment_site",
             "equipment_id", "notes", "active_from", "active_to")  # fmt: skip
QR_COLS = ("patient_id", "token_hash", "created_at", "revoked_at", "failed_dob_attempts", "locked_until",
           "last_used_at")  # fmt: skip


def us(at: datetime) -> int:
    """Microseconds since the epoch of an aware datetime."""
    delta = at.astimezone(UTC).replace(tzinfo=None) - EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


_DAYS: dict[int, str] = {}


def fmt(micros: int) -> str:
    """The storage text of a UTC time ("2026-11-23 10:30:00.000000"): what UTCDateTime writes on SQLite, and UTC
    input for timestamptz (the loading session's zone is UTC). Same text as datetime.isoformat(" ", "microseconds"),
    about 4x faster."""
    days, rest = divmod(micros, 86_400_000_000)
    day = _DAYS.get(days)
    if day is None:
        day = _DAYS[days] = (EPOCH + timedelta(days=days)).date().isoformat()
    seconds, fraction = divmod(rest, 1_000_000)
    hours, seconds = divmod(seconds, 3600)
    minutes, seconds = divmod(seconds, 60)
    return f"{day} {hours:02d}:{minutes:02d}:{seconds:02d}.{fraction:06d}"


def fmt_dt(at: datetime) -> str:
    return at.astimezone(UTC).replace(tzinfo=None).isoformat(" ", "microseconds")


def fmt_opt(micros: int | None) -> str | None:
    return None if micros is None else fmt(micros)
