"""A patient's identifier in the clinic's EHR (FHIR system + value), typed by staff as `SYSTEM|VALUE`."""

from __future__ import annotations

from sqlmodel import Session, col, select

from shared.care.models import Patient
from shared.fhir.parsed import IdentifierIn
from shared.fhir.resource_fields import MAX_SYSTEM, MAX_VALUE
from shared.staff.audit import audit
from shared.store.errors import NotFound, ValidationFailed


def parse_identifier(text: str | None) -> IdentifierIn | None:
    """'http://ehr.example/mrn|12345' as an identifier; empty text is None (no EHR identifier)."""
    cleaned = (text or "").strip()
    if not cleaned:
        return None
    system, bar, value = cleaned.rpartition("|")
    system, value = system.strip(), value.strip()
    if not bar or not system or not value:
        raise ValidationFailed(f"identifier {cleaned!r} must be SYSTEM|VALUE, like http://ehr.example/mrn|12345")
    if ":" not in system or any(c.isspace() for c in system):
        raise ValidationFailed(f"identifier system {system!r} must be a URI like http://ehr.example/mrn or urn:oid:1.2")
    if len(system) > MAX_SYSTEM or len(value) > MAX_VALUE:
        raise ValidationFailed(f"identifier system is at most {MAX_SYSTEM} characters and its value {MAX_VALUE}")
    return IdentifierIn(system, value)


def identifier_text(patient: Patient) -> str:
    """The patient's identifier as staff type it (`SYSTEM|VALUE`), or '' when they have none."""
    if patient.identifier_system and patient.identifier_value:
        return f"{patient.identifier_system}|{patient.identifier_value}"
    return ""


def check_identifier_free(*, session: Session, identifier: IdentifierIn | None, patient_id: int | None = None) -> None:
    """Refuse an identifier that another patient already has."""
    if identifier is None:
        return
    query = select(Patient.id).where(
        Patient.identifier_system == identifier.system, Patient.identifier_value == identifier.value
    )
    if patient_id is not None:
        query = query.where(col(Patient.id) != patient_id)
    other = session.exec(query).first()
    if other is not None:
        raise ValidationFailed(f"identifier {identifier.token} already belongs to patient {other}")


def set_identifier(
    *, session: Session, patient_id: int, identifier: IdentifierIn | None, actor: str | None = None
) -> bool:
    """Give the patient this EHR identifier (None clears it); whether it changed. Audited with `actor`."""
    patient = session.get(Patient, patient_id)
    if patient is None:
        raise NotFound(f"no patient with id {patient_id}")
    check_identifier_free(session=session, identifier=identifier, patient_id=patient_id)
    system, value = (identifier.system, identifier.value) if identifier else (None, None)
    if (patient.identifier_system, patient.identifier_value) == (system, value):
        return False
    patient.identifier_system, patient.identifier_value = system, value
    session.add(patient)
    if actor is not None:
        audit(session, actor=actor, action="patient.identifier", target=f"patient {patient_id}",
              detail={"cleared": identifier is None})  # fmt: skip
    return True


def checked_identifier(*, session: Session, text: str | None, patient_id: int | None = None) -> IdentifierIn | None:
    """Parse staff's `SYSTEM|VALUE` and refuse one another patient has (before anything is saved)."""
    identifier = parse_identifier(text)
    check_identifier_free(session=session, identifier=identifier, patient_id=patient_id)
    return identifier
