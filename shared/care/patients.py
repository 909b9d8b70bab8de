"""Patients: registering, changing and finding them (the field checks are shared with walk-ins).

`add_patient` and `edit_patient` are the front desk's two actions on a patient, whoever asks (the staff app's
Patients page, `clinic patient add`): every field checked, the EHR identifier and the lobby language included,
in the caller's one transaction and audited with the actor.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Protocol

from sqlalchemy import func, or_
from sqlmodel import Session, col, select

from shared.care.models import Patient
from shared.care.patient_language import checked_language, set_language
from shared.staff.audit import apply_changes, audit
from shared.store.clock import parse_date
from shared.store.errors import NotFound, ValidationFailed

SEARCH_LIMIT_MAX = 200


class EhrIdentifier(Protocol):
    """A patient's id in the clinic's EHR, as parsed from staff's `SYSTEM|VALUE` (`shared.fhir.identifiers`)."""

    @property
    def system(self) -> str: ...

    @property
    def value(self) -> str: ...


def add_patient(
    *,
    session: Session,
    first: str,
    last: str,
    dob: date | str,
    phone: str | None = None,
    identifier: EhrIdentifier | None = None,
    language: str | None = None,
    actor: str | None = None,
) -> Patient:
    """Register a patient after checking every field; returns it with its id.

    `identifier` (their id in the EHR) must not belong to another patient; `language` is the lobby's language
    after their scan. With `actor`, the addition is recorded in the audit log in the same transaction.
    """
    _check_identifier_free(session, identifier)
    patient = checked_patient(first=first, last=last, dob=dob, phone=phone)
    patient.language = checked_language(language)
    if identifier is not None:
        patient.identifier_system, patient.identifier_value = identifier.system, identifier.value
    session.add(patient)
    session.flush()
    if actor is not None:
        audit(session, actor=actor, action="patient.add", target=f"patient {patient.id}")
    return patient


def edit_patient(
    *,
    session: Session,
    patient_id: int,
    first: str,
    last: str,
    dob: date | str,
    phone: str | None,
    identifier: EhrIdentifier | None,
    language: str | None,
    actor: str,
) -> Patient:
    """Save the front desk's whole form for a patient: details, EHR identifier (None clears it) and language.

    All or nothing: an identifier of another patient or a bad field changes nothing. Each kind of change is
    audited (`patient.update` with the changed fields' names, `patient.identifier`, `patient.language`).
    """
    _check_identifier_free(session, identifier, patient_id)
    patient = update_patient(session=session, patient_id=patient_id, first=first, last=last, dob=dob,
                             phone=phone or "", actor=actor)  # fmt: skip
    system, value = (identifier.system, identifier.value) if identifier is not None else (None, None)
    if (patient.identifier_system, patient.identifier_value) != (system, value):
        patient.identifier_system, patient.identifier_value = system, value
        audit(session, actor=actor, action="patient.identifier", target=f"patient {patient_id}",
              detail={"cleared": identifier is None})  # fmt: skip
    set_language(session=session, patient_id=patient_id, code=language, actor=actor)
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
    patient = get_patient(session=session, patient_id=patient_id)
    apply_changes(session, patient, values, actor=actor, action="patient.update", target=f"patient {patient_id}")
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


def _check_identifier_free(session: Session, identifier: EhrIdentifier | None, patient_id: int | None = None) -> None:
    """Refuse an EHR identifier that another patient already has (imports match patients on it)."""
    if identifier is None:
        return
    owner = select(Patient.id).where(
        Patient.identifier_system == identifier.system, Patient.identifier_value == identifier.value
    )
    other = session.exec(owner if patient_id is None else owner.where(col(Patient.id) != patient_id)).first()
    if other is not None:
        raise ValidationFailed(f"identifier {identifier.system}|{identifier.value} already belongs to patient {other}")


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
