"""Patients: registering, changing and finding them (the field checks are shared with walk-ins)."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import func, or_
from sqlmodel import Session, col, select

from shared.care.models import Patient
from shared.staff.audit import audit
from shared.store.clock import parse_date
from shared.store.errors import NotFound, ValidationFailed

SEARCH_LIMIT_MAX = 200


def add_patient(
    *,
    session: Session,
    first: str,
    last: str,
    dob: date | str,
    phone: str | None = None,
    actor: str | None = None,
) -> Patient:
    """Register a patient after checking every field; returns it with its id.

    With `actor` (a signed-in user), the addition is recorded in the audit log in the same transaction.
    """
    patient = checked_patient(first=first, last=last, dob=dob, phone=phone)
    session.add(patient)
    session.flush()
    if actor is not None:
        audit(session, actor=actor, action="patient.add", target=f"patient {patient.id}")
    return patient


def update_patient(
    *,
    session: Session,
    patient_id: int,
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


def search_patients(*, session: Session, text: str, limit: int = 20) -> list[Patient]:
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
    return list(session.exec(query.limit(limit)).all())


def get_patient(*, session: Session, patient_id: int) -> Patient:
    """One patient, or `NotFound`."""
    patient = session.get(Patient, patient_id)
    if patient is None:
        raise NotFound(f"no patient with id {patient_id}")
    return patient


def checked_patient(*, first: str, last: str, dob: date | str, phone: str | None = None) -> Patient:
    """A new patient from what was typed, every field checked (`ValidationFailed` names the first wrong one);
    not yet added to any session. The one place the rules for a patient's name, birth date and phone live."""
    return Patient(
        first_name=_name(first, "first name"), last_name=_name(last, "last name"), dob=_dob(dob), phone=_phone(phone)
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
