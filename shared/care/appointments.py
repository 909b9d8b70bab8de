"""Appointments: booking, the scheduling system's CSV, changes, and the status workflow.

The workflow is one rule for every writer: `STEPS` are the front desk's moves (the Arrivals page's buttons),
`CORRECTIONS` undo a mistaken step or catch up (the Appointments page offers both); `set_appointment_status`
and `update_appointment` refuse any other change. The other writers stay inside it: check-in and walk-ins
move scheduled -> arrived (or book a walk-in already arrived), and the FHIR importer, which follows the EHR
directly rather than through these services, only marks a still-scheduled appointment no-show (a step) and
never overrides a check-in (a cancellation removes an appointment nobody checked in for).
"""

from __future__ import annotations

import csv
import io
from datetime import date, datetime, tzinfo

from sqlmodel import Session, col, select

from shared.care.arrivals import STATUS_WORDS
from shared.care.models import APPOINTMENT_STATUSES, Appointment, Patient
from shared.staff.audit import audit
from shared.store.clock import parse_local_datetime
from shared.store.errors import NotFound, ValidationFailed
from shared.store.settings import ID_PATTERN
from shared.store.types import utcnow

CSV_COLUMNS = ("patient_id", "start", "minutes", "clinician")
STEPS: dict[str, tuple[str, ...]] = {  # status -> the next statuses of the workflow, in the order offered
    "scheduled": ("arrived", "in_session", "no_show"),
    "arrived": ("in_session", "done", "no_show"),
    "in_session": ("done",),
    "done": (),
    "no_show": ("arrived",),  # they came after all
}
CORRECTIONS: dict[str, tuple[str, ...]] = {  # status -> undoing a mistaken step, or catching up
    "scheduled": ("done",),  # the session happened but nobody marked the arrival
    "arrived": ("scheduled",),  # a mistaken arrival undone: the arrival time is forgotten
    "in_session": ("arrived", "scheduled"),  # started by mistake
    "done": ("in_session",),  # marked done too early
    "no_show": ("scheduled",),  # marked no-show by mistake
}


def next_statuses(status: str, *, corrections: bool = True) -> tuple[str, ...]:
    """The statuses an appointment at `status` may move to: the workflow's steps, then (unless `corrections`
    is false) the corrections."""
    _check_status(status)
    return STEPS[status] + (CORRECTIONS[status] if corrections else ())


def check_transition(before: str, after: str) -> None:
    """Refuse a status change the workflow does not allow, naming both statuses (staying put is allowed)."""
    _check_status(after)
    allowed = next_statuses(before)
    if after != before and after not in allowed:
        choices = ", ".join(STATUS_WORDS[s] for s in allowed) or "nothing else"
        raise ValidationFailed(f"an appointment cannot go from {STATUS_WORDS[before]} to {STATUS_WORDS[after]}; "
                               f"from {STATUS_WORDS[before]} it can go to {choices}")  # fmt: skip


def add_appointment(
    *,
    session: Session,
    patient_id: int,
    starts_at: datetime,
    site: str,
    minutes: int = 45,
    clinician: str = "",
    actor: str | None = None,
) -> Appointment:
    """Book an appointment (times are aware datetimes; the CLI parses local text first).

    With `actor`, the booking is recorded in the audit log in the same transaction.
    """
    appointment = _checked_appointment(patient_id, starts_at, site, minutes, clinician)
    if session.get(Patient, patient_id) is None:
        raise NotFound(f"no patient with id {patient_id}")
    session.add(appointment)
    session.flush()
    if actor is not None:
        audit(session, actor=actor, action="appointment.add", target=f"appointment {appointment.id}",
              detail={"patient_id": patient_id, "starts_at": starts_at.isoformat()})  # fmt: skip
    return appointment


def import_appointments_csv(
    *,
    session: Session,
    text: str,
    site: str,
    tz: tzinfo,
    today: date,
    actor: str | None = None,
) -> list[Appointment]:
    """Import a CSV (patient_id,start,minutes,clinician); one bad row imports nothing and names its line.

    With `actor`, one audit entry records how many were imported, in the same transaction.
    """
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    missing = [c for c in ("patient_id", "start") if c not in (reader.fieldnames or [])]
    if missing:
        raise ValidationFailed(f"line 1: missing column(s) {', '.join(missing)}; expected {','.join(CSV_COLUMNS)}")
    known = set(session.exec(select(Patient.id)).all())
    rows = [_csv_row(row, reader.line_num, known, site, tz, today) for row in _numbered(reader)]
    session.add_all(rows)
    if actor is not None:
        audit(session, actor=actor, action="appointment.import", target=f"site {site}",
              detail={"imported": len(rows)})  # fmt: skip
    return rows


def set_appointment_status(
    *,
    session: Session,
    appointment_id: int,
    status: str,
    now: datetime | None = None,
    actor: str | None = None,
) -> None:
    """Move an appointment along the workflow (`next_statuses`); another change raises `ValidationFailed`.

    Setting the status it has already changes nothing (two people pressed the same button). With `actor` (who
    pressed the button), the change is recorded in the audit log in the same transaction.
    """
    _check_status(status)
    appointment = _locked(session, appointment_id)
    before = appointment.status
    if status == before:
        return
    check_transition(before, status)
    _set_status(appointment, status, now or utcnow())
    session.add(appointment)
    if actor is not None:
        audit(session, actor=actor, action="appointment.status", target=f"appointment {appointment_id}",
              detail={"from": before, "to": status})  # fmt: skip


def update_appointment(
    *,
    session: Session,
    appointment_id: int,
    starts_at: datetime | None = None,
    minutes: int | None = None,
    clinician: str | None = None,
    status: str | None = None,
    now: datetime | None = None,
    actor: str | None = None,
) -> Appointment:
    """Change an appointment's time, length, clinician or status (None keeps a field); returns it.

    A new status must be one `next_statuses` allows; back to 'scheduled' forgets the arrival time. With
    `actor`, the changed fields go to the audit log.
    """
    if status is not None:
        _check_status(status)
    appointment = _locked(session, appointment_id)
    if status is not None:
        check_transition(appointment.status, status)
    checked = _checked_appointment(
        appointment.patient_id,
        appointment.starts_at if starts_at is None else starts_at,
        appointment.site,
        appointment.minutes if minutes is None else minutes,
        appointment.clinician if clinician is None else clinician,
    )
    changes: dict[str, object] = {}
    for name in ("starts_at", "minutes", "clinician"):
        value = getattr(checked, name)
        if getattr(appointment, name) != value:
            setattr(appointment, name, value)
            changes[name] = value.isoformat() if isinstance(value, datetime) else value
    if status is not None and status != appointment.status:
        changes["status"] = status
        _set_status(appointment, status, now or utcnow())
    session.add(appointment)
    if actor is not None and changes:
        audit(session, actor=actor, action="appointment.update", target=f"appointment {appointment_id}",
              detail=changes)  # fmt: skip
    return appointment


def appointments_between(*, session: Session, site: str, start: datetime, end: datetime) -> list[Appointment]:
    """Appointments at the site starting in [start, end), in time order."""
    query = (
        select(Appointment)
        .where(Appointment.site == site, col(Appointment.starts_at) >= start, col(Appointment.starts_at) < end)
        .order_by(col(Appointment.starts_at))
    )
    return list(session.exec(query).all())


def _locked(session: Session, appointment_id: int) -> Appointment:
    """The appointment, its row locked until the caller commits (PostgreSQL), so the status checked is the one
    changed; SQLite's write transaction already excludes other writers."""
    appointment = session.get(Appointment, appointment_id, with_for_update=True, populate_existing=True)
    if appointment is None:
        raise NotFound(f"no appointment with id {appointment_id}")
    return appointment


def _check_status(status: str) -> None:
    if status not in APPOINTMENT_STATUSES:
        raise ValidationFailed(f"status {status!r} is not one of {', '.join(APPOINTMENT_STATUSES)}")


def _set_status(appointment: Appointment, status: str, now: datetime) -> None:
    """The new status; arriving stamps the time once, and going back to 'scheduled' forgets it."""
    appointment.status = status
    if status == "arrived" and appointment.arrived_at is None:
        appointment.arrived_at = now
    elif status == "scheduled":
        appointment.arrived_at = None


def _numbered(reader: csv.DictReader[str]) -> list[dict[str, str]]:
    return [dict(row, _line=str(reader.line_num)) for row in reader]


def _csv_row(row: dict[str, str], _: int, known: set[int | None], site: str, tz: tzinfo, today: date) -> Appointment:
    line = row.get("_line", "?")
    try:
        raw_id = (row.get("patient_id") or "").strip()
        if not raw_id.isdigit():
            raise ValidationFailed(f"patient_id {raw_id!r} is not a number")
        patient_id = int(raw_id)
        if patient_id not in known:
            raise ValidationFailed(f"no patient with id {patient_id}")
        starts_at = parse_local_datetime(row.get("start") or "", tz, today=today)
        minutes_text = (row.get("minutes") or "45").strip()
        if not minutes_text.isdigit():
            raise ValidationFailed(f"minutes {minutes_text!r} is not a whole number")
        return _checked_appointment(patient_id, starts_at, site, int(minutes_text), row.get("clinician") or "")
    except ValidationFailed as exc:
        raise ValidationFailed(f"line {line}: {exc}; nothing was imported") from None


def _checked_appointment(patient_id: int, starts_at: datetime, site: str, minutes: int, clinician: str) -> Appointment:
    if not ID_PATTERN.match(site):
        raise ValidationFailed(f"site {site!r} must match {ID_PATTERN.pattern}")
    if not 5 <= minutes <= 480:
        raise ValidationFailed(f"length {minutes} min must be between 5 and 480 minutes")
    if starts_at.tzinfo is None:
        raise ValidationFailed("appointment time needs a time zone")
    return Appointment(
        patient_id=patient_id, starts_at=starts_at, site=site, minutes=minutes, clinician=clinician.strip()[:100]
    )
