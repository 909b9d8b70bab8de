"""Patient, card and appointment services used by the front desk, the CLI and the staff app."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date, datetime, timedelta, tzinfo

from sqlalchemy import Engine, func, or_, update
from sqlmodel import Session, col, select

from shared.care.models import APPOINTMENT_STATUSES, Appointment, Patient, QrToken
from shared.care.qr import card_url, hash_token, new_token
from shared.staff.audit import audit
from shared.store.clock import parse_date, parse_local_datetime
from shared.store.db import read_session, unit_of_work
from shared.store.errors import NotFound, ValidationFailed
from shared.store.settings import ID_PATTERN
from shared.store.types import utcnow

CSV_COLUMNS = ("patient_id", "start", "minutes", "clinician")
SEARCH_LIMIT_MAX = 200


@dataclass(frozen=True, slots=True)
class IssuedCard:
    """A new card: the token is shown once (it is stored only as a hash)."""

    patient_id: int
    first_name: str
    token: str
    url: str


def add_patient(
    engine: Engine,
    *,
    first: str,
    last: str,
    dob: date | str,
    phone: str | None = None,
    actor: str | None = None,
) -> Patient:
    """Register a patient after checking every field; returns it with its id.

    With `actor` (a signed-in user), the addition is recorded in the audit log in the same transaction.
    """
    patient = Patient(
        first_name=_name(first, "first name"), last_name=_name(last, "last name"), dob=_dob(dob), phone=_phone(phone)
    )
    with unit_of_work(engine) as session:
        session.add(patient)
        session.flush()
        if actor is not None:
            audit(session, actor=actor, action="patient.add", target=f"patient {patient.id}")
        return patient


def update_patient(
    engine: Engine,
    patient_id: int,
    *,
    first: str | None = None,
    last: str | None = None,
    dob: date | str | None = None,
    phone: str | None = None,
    actor: str | None = None,
) -> Patient:
    """Change a patient's details (None keeps a field; an empty phone clears it); returns the patient.

    With `actor`, the names of the changed fields (not their values) go to the audit log in the same transaction.
    """
    values: dict[str, object] = {}
    if first is not None:
        values["first_name"] = _name(first, "first name")
    if last is not None:
        values["last_name"] = _name(last, "last name")
    if dob is not None:
        values["dob"] = _dob(dob)
    if phone is not None:
        values["phone"] = _phone(phone)
    with unit_of_work(engine) as session:
        patient = session.get(Patient, patient_id)
        if patient is None:
            raise NotFound(f"no patient with id {patient_id}")
        changed = [name for name, value in values.items() if getattr(patient, name) != value]
        for name in changed:
            setattr(patient, name, values[name])
        session.add(patient)
        if actor is not None and changed:
            audit(session, actor=actor, action="patient.update", target=f"patient {patient_id}",
                  detail={"changed": changed})  # fmt: skip
        return patient


def search_patients(engine: Engine, text: str, limit: int = 20) -> list[Patient]:
    """Patients whose first or last name contains every word of `text` (any case), or whose id it is.

    By last name, then first name; at most `limit` (1 to 200). Empty text finds nobody. Characters with a
    meaning in SQL patterns (% and _) match only themselves.
    """
    if not 1 <= limit <= SEARCH_LIMIT_MAX:
        raise ValidationFailed(f"limit {limit} must be between 1 and {SEARCH_LIMIT_MAX}")
    words = (text or "").split()[:5]
    if not words or len(text) > 200:
        return []
    query = select(Patient)
    if len(words) == 1 and words[0].lstrip("#").isdigit() and len(words[0]) <= 12:
        query = query.where(Patient.id == int(words[0].lstrip("#")))
    else:
        for word in words:
            needle = word.lower()
            query = query.where(
                or_(
                    func.lower(col(Patient.first_name)).contains(needle, autoescape=True),
                    func.lower(col(Patient.last_name)).contains(needle, autoescape=True),
                )
            )
    query = query.order_by(func.lower(col(Patient.last_name)), func.lower(col(Patient.first_name)), col(Patient.id))
    with read_session(engine) as session:
        return list(session.exec(query.limit(limit)).all())


def get_patient(engine: Engine, patient_id: int) -> Patient:
    """One patient, or `NotFound`."""
    with read_session(engine) as session:
        patient = session.get(Patient, patient_id)
    if patient is None:
        raise NotFound(f"no patient with id {patient_id}")
    return patient


def issue_card(engine: Engine, patient_id: int, *, base_url: str, actor: str | None = None) -> IssuedCard:
    """A new card for the patient; every older card of theirs stops working at once.

    With `actor`, the issue is recorded in the audit log (never the token).
    """
    token = new_token()
    with unit_of_work(engine) as session:
        patient = session.get(Patient, patient_id)
        if patient is None:
            raise NotFound(f"no patient with id {patient_id}")
        revoked = _revoke(session, patient_id)
        session.add(QrToken(patient_id=patient_id, token_hash=hash_token(token)))
        if actor is not None:
            audit(session, actor=actor, action="patient.card_issued", target=f"patient {patient_id}",
                  detail={"older_cards_revoked": revoked})  # fmt: skip
        return IssuedCard(patient_id, patient.first_name, token, card_url(base_url, token))


def revoke_cards(engine: Engine, patient_id: int, *, actor: str | None = None) -> int:
    """Revoke the patient's cards (a lost card); returns how many were active.

    With `actor`, the patient must exist and the revocation is recorded in the audit log.
    """
    with unit_of_work(engine) as session:
        if actor is not None and session.get(Patient, patient_id) is None:
            raise NotFound(f"no patient with id {patient_id}")
        count = _revoke(session, patient_id)
        if actor is not None:
            audit(session, actor=actor, action="patient.cards_revoked", target=f"patient {patient_id}",
                  detail={"revoked": count})  # fmt: skip
        return count


def active_cards(engine: Engine, patient_id: int) -> int:
    """How many of the patient's cards work (0 or 1 when cards are only issued through `issue_card`)."""
    query = (
        select(func.count())
        .select_from(QrToken)
        .where(QrToken.patient_id == patient_id, col(QrToken.revoked_at).is_(None))
    )
    with read_session(engine) as session:
        return int(session.exec(query).one())


def add_appointment(
    engine: Engine,
    *,
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
    with unit_of_work(engine) as session:
        if session.get(Patient, patient_id) is None:
            raise NotFound(f"no patient with id {patient_id}")
        session.add(appointment)
        session.flush()
        if actor is not None:
            audit(session, actor=actor, action="appointment.add", target=f"appointment {appointment.id}",
                  detail={"patient_id": patient_id, "starts_at": starts_at.isoformat()})  # fmt: skip
        return appointment


def import_appointments_csv(
    engine: Engine, text: str, *, site: str, tz: tzinfo, today: date, actor: str | None = None
) -> list[Appointment]:
    """Import a CSV (patient_id,start,minutes,clinician); one bad row imports nothing and names its line.

    With `actor`, one audit entry records how many were imported, in the same transaction.
    """
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    missing = [c for c in ("patient_id", "start") if c not in (reader.fieldnames or [])]
    if missing:
        raise ValidationFailed(f"line 1: missing column(s) {', '.join(missing)}; expected {','.join(CSV_COLUMNS)}")
    with unit_of_work(engine) as session:
        known = set(session.exec(select(Patient.id)).all())
        rows = [_csv_row(row, reader.line_num, known, site, tz, today) for row in _numbered(reader)]
        session.add_all(rows)
        if actor is not None:
            audit(session, actor=actor, action="appointment.import", target=f"site {site}",
                  detail={"imported": len(rows)})  # fmt: skip
        return rows


def set_appointment_status(
    engine: Engine, appointment_id: int, status: str, *, now: datetime | None = None, actor: str | None = None
) -> None:
    """Move an appointment along (arrived, in session, done, no-show).

    With `actor` (who pressed the button), the change is recorded in the audit log in the same transaction.
    """
    _check_status(status)
    with unit_of_work(engine) as session:
        appointment = session.get(Appointment, appointment_id)
        if appointment is None:
            raise NotFound(f"no appointment with id {appointment_id}")
        before = appointment.status
        _set_status(appointment, status, now or utcnow())
        session.add(appointment)
        if actor is not None:
            audit(session, actor=actor, action="appointment.status", target=f"appointment {appointment_id}",
                  detail={"from": before, "to": status})  # fmt: skip


def update_appointment(
    engine: Engine,
    appointment_id: int,
    *,
    starts_at: datetime | None = None,
    minutes: int | None = None,
    clinician: str | None = None,
    status: str | None = None,
    now: datetime | None = None,
    actor: str | None = None,
) -> Appointment:
    """Change an appointment's time, length, clinician or status (None keeps a field); returns it.

    Back to 'scheduled' forgets the arrival time. With `actor`, the changed fields go to the audit log.
    """
    if status is not None:
        _check_status(status)
    with unit_of_work(engine) as session:
        appointment = session.get(Appointment, appointment_id)
        if appointment is None:
            raise NotFound(f"no appointment with id {appointment_id}")
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


def appointments_between(engine: Engine, *, site: str, start: datetime, end: datetime) -> list[Appointment]:
    """Appointments at the site starting in [start, end), in time order."""
    query = (
        select(Appointment)
        .where(Appointment.site == site, col(Appointment.starts_at) >= start, col(Appointment.starts_at) < end)
        .order_by(col(Appointment.starts_at))
    )
    with read_session(engine) as session:
        return list(session.exec(query).all())


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


def _dob(value: date | str) -> date:
    return _birth_date(parse_date(value, "date of birth") if isinstance(value, str) else value)


def _phone(value: str | None) -> str | None:
    cleaned = " ".join((value or "").split())
    if len(cleaned) > 40:
        raise ValidationFailed("phone is longer than 40 characters")
    return cleaned or None


def _birth_date(value: date) -> date:
    if value > date.today() or value < date.today() - timedelta(days=125 * 366):
        raise ValidationFailed(f"date of birth {value.isoformat()} is not a plausible birth date")
    return value
