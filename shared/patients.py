"""Patient, card and appointment services used by the front desk, the CLI and the staff app."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date, datetime, timedelta, tzinfo

from sqlalchemy import Engine, update
from sqlmodel import Session, col, select

from shared.care_models import APPOINTMENT_STATUSES, Appointment, Patient, QrToken
from shared.clock import parse_date, parse_local_datetime
from shared.config import ID_PATTERN
from shared.db import session_for
from shared.errors import NotFound, ValidationFailed
from shared.models import utcnow
from shared.qr import card_url, hash_token, new_token

CSV_COLUMNS = ("patient_id", "start", "minutes", "clinician")


@dataclass(frozen=True, slots=True)
class IssuedCard:
    """A new card: the token is shown once (it is stored only as a hash)."""

    patient_id: int
    first_name: str
    token: str
    url: str


def add_patient(engine: Engine, *, first: str, last: str, dob: date | str, phone: str | None = None) -> Patient:
    """Register a patient after checking every field; returns it with its id."""
    birth = parse_date(dob, "date of birth") if isinstance(dob, str) else dob
    patient = Patient(
        first_name=_name(first, "first name"),
        last_name=_name(last, "last name"),
        dob=_birth_date(birth),
        phone=(phone or "").strip()[:40] or None,
    )
    with session_for(engine) as session:
        session.add(patient)
        session.commit()
        return patient


def get_patient(engine: Engine, patient_id: int) -> Patient:
    """One patient, or `NotFound`."""
    with session_for(engine) as session:
        patient = session.get(Patient, patient_id)
    if patient is None:
        raise NotFound(f"no patient with id {patient_id}")
    return patient


def issue_card(engine: Engine, patient_id: int, *, base_url: str) -> IssuedCard:
    """A new card for the patient; every older card of theirs stops working at once."""
    token = new_token()
    with session_for(engine) as session:
        patient = session.get(Patient, patient_id)
        if patient is None:
            raise NotFound(f"no patient with id {patient_id}")
        _revoke(session, patient_id)
        session.add(QrToken(patient_id=patient_id, token_hash=hash_token(token)))
        session.commit()
        return IssuedCard(patient_id, patient.first_name, token, card_url(base_url, token))


def revoke_cards(engine: Engine, patient_id: int) -> int:
    """Revoke the patient's cards (a lost card); returns how many were active."""
    with session_for(engine) as session:
        count = _revoke(session, patient_id)
        session.commit()
        return count


def add_appointment(
    engine: Engine, *, patient_id: int, starts_at: datetime, site: str, minutes: int = 45, clinician: str = ""
) -> Appointment:
    """Book an appointment (times are aware datetimes; the CLI parses local text first)."""
    appointment = _checked_appointment(patient_id, starts_at, site, minutes, clinician)
    with session_for(engine) as session:
        if session.get(Patient, patient_id) is None:
            raise NotFound(f"no patient with id {patient_id}")
        session.add(appointment)
        session.commit()
        return appointment


def import_appointments_csv(engine: Engine, text: str, *, site: str, tz: tzinfo, today: date) -> list[Appointment]:
    """Import a CSV (patient_id,start,minutes,clinician); one bad row imports nothing and names its line."""
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    missing = [c for c in ("patient_id", "start") if c not in (reader.fieldnames or [])]
    if missing:
        raise ValidationFailed(f"line 1: missing column(s) {', '.join(missing)}; expected {','.join(CSV_COLUMNS)}")
    with session_for(engine) as session:
        known = set(session.exec(select(Patient.id)).all())
        rows = [_csv_row(row, reader.line_num, known, site, tz, today) for row in _numbered(reader)]
        session.add_all(rows)
        session.commit()
        return rows


def set_appointment_status(engine: Engine, appointment_id: int, status: str, *, now: datetime | None = None) -> None:
    """Move an appointment along (arrived, in session, done, no-show)."""
    if status not in APPOINTMENT_STATUSES:
        raise ValidationFailed(f"status {status!r} is not one of {', '.join(APPOINTMENT_STATUSES)}")
    with session_for(engine) as session:
        appointment = session.get(Appointment, appointment_id)
        if appointment is None:
            raise NotFound(f"no appointment with id {appointment_id}")
        appointment.status = status
        if status == "arrived" and appointment.arrived_at is None:
            appointment.arrived_at = now or utcnow()
        session.add(appointment)
        session.commit()


def appointments_between(engine: Engine, *, site: str, start: datetime, end: datetime) -> list[Appointment]:
    """Appointments at the site starting in [start, end), in time order."""
    query = (
        select(Appointment)
        .where(Appointment.site == site, col(Appointment.starts_at) >= start, col(Appointment.starts_at) < end)
        .order_by(col(Appointment.starts_at))
    )
    with session_for(engine) as session:
        return list(session.exec(query).all())


def _revoke(session: Session, patient_id: int) -> int:
    result = session.execute(
        update(QrToken)
        .where(col(QrToken.patient_id) == patient_id, col(QrToken.revoked_at).is_(None))
        .values(revoked_at=utcnow())
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


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


def _name(value: str, what: str) -> str:
    cleaned = " ".join((value or "").split())
    if not cleaned:
        raise ValidationFailed(f"{what} must not be empty")
    if len(cleaned) > 100:
        raise ValidationFailed(f"{what} is longer than 100 characters")
    return cleaned


def _birth_date(value: date) -> date:
    if value > date.today() or value < date.today() - timedelta(days=125 * 366):
        raise ValidationFailed(f"date of birth {value.isoformat()} is not a plausible birth date")
    return value
