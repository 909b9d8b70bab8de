"""Import an EHR's schedule: a Bundle's Patients matched by identifier, its Appointments created, moved or
cancelled by their FHIR identifier; the same Bundle twice changes nothing. The caller's unit of work holds it
all, so a refusal (which names the entry) imports nothing."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import and_, or_
from sqlmodel import Session, col, select

from shared.care.models import Appointment, Patient
from shared.fhir.errors import BundleRefused
from shared.fhir.parse import parse_bundle
from shared.fhir.parsed import AppointmentIn, IdentifierIn, PatientIn
from shared.staff.audit import apply_changes, audit
from shared.store.settings import ID_PATTERN

CANCELLABLE = ("scheduled", "no_show")  # after a check-in an EHR cancellation is reported, not applied


@dataclass
class ImportReport:
    """What an import changed, for the person who ran it."""

    patients_created: int = 0
    patients_updated: int = 0
    appointments_created: int = 0
    appointments_moved: int = 0
    appointments_cancelled: int = 0
    appointments_no_show: int = 0
    unchanged: int = 0
    ignored: int = 0  # resources of other types (OperationOutcome, Practitioner, ...)
    notes: list[str] = field(default_factory=list)

    @property
    def changed(self) -> int:
        """How many patients and appointments were written."""
        return (self.patients_created + self.patients_updated + self.appointments_created + self.appointments_moved
                + self.appointments_cancelled + self.appointments_no_show)  # fmt: skip

    def as_json(self) -> dict[str, Any]:
        """The shape of `clinic fhir import --json`."""
        return {name: getattr(self, name) for name in self.__dataclass_fields__}

    def summary(self) -> str:
        """'patients: 1 created, 0 updated; appointments: 2 created, ...' in one line."""
        return (
            f"patients: {self.patients_created} created, {self.patients_updated} updated; appointments: "
            f"{self.appointments_created} created, {self.appointments_moved} moved, "
            f"{self.appointments_cancelled} cancelled, {self.appointments_no_show} marked no-show; "
            f"{self.unchanged} unchanged, {self.ignored} other resources skipped"
        )


def import_bundle(
    *, session: Session, bundle: object, site: str, identifier_system: str | None = None, actor: str | None = None
) -> ImportReport:
    """Apply a FHIR R4 Bundle of Patients and Appointments to the store at `site` (in the caller's transaction).

    A new patient keeps the identifier of `identifier_system` (required then), else the one typed MR, else the
    first. With `actor`, one audit entry records the counts.
    """
    if not ID_PATTERN.match(site):
        raise BundleRefused(f"site {site!r} must match {ID_PATTERN.pattern}")
    parsed = parse_bundle(bundle)
    report = ImportReport(ignored=parsed.ignored)
    by_key: dict[str, int] = {}
    for patient in parsed.patients:
        patient_id = _apply_patient(session, patient, identifier_system, report)
        by_key.update(dict.fromkeys(patient.keys, patient_id))
    for appointment in parsed.appointments:
        _apply_appointment(session, appointment, site, by_key, report)
    session.flush()
    if actor is not None and report.changed:
        audit(session, actor=actor, action="fhir.import", target=f"site {site}", detail=report.as_json())
    return report


def _apply_patient(session: Session, incoming: PatientIn, system: str | None, report: ImportReport) -> int:
    """Create or update the patient; returns its id."""
    matches = _patients_by_identifier(session, incoming.identifiers)
    if len(matches) > 1:
        ids = ", ".join(str(p.id) for p in matches)
        raise BundleRefused(f"{incoming.where}: its identifiers match several patients ({ids}); nothing was imported")
    values: dict[str, Any] = {"first_name": incoming.first, "last_name": incoming.last, "dob": incoming.dob}
    if incoming.phone is not None:
        values["phone"] = incoming.phone
    if matches:
        patient = matches[0]
        changed = apply_changes(session, patient, values)  # one audit entry for the whole import, not per row
        report.patients_updated += bool(changed)
        report.unchanged += not changed
    else:
        kept = _identifier_to_keep(incoming, system)
        patient = Patient(**values, identifier_system=kept.system, identifier_value=kept.value)
        report.patients_created += 1
    session.add(patient)
    session.flush()
    assert patient.id is not None
    return patient.id


def _patients_by_identifier(session: Session, identifiers: tuple[IdentifierIn, ...]) -> list[Patient]:
    """Local patients whose stored identifier is one of these."""
    if not identifiers:
        return []
    pairs = [
        and_(col(Patient.identifier_system) == i.system, col(Patient.identifier_value) == i.value) for i in identifiers
    ]
    return list(session.exec(select(Patient).where(or_(*pairs)).order_by(col(Patient.id))).all())


def _identifier_to_keep(incoming: PatientIn, system: str | None) -> IdentifierIn:
    if system is not None:
        found = next((i for i in incoming.identifiers if i.system == system), None)
        if found is None:
            raise BundleRefused(f"{incoming.where}: the Patient has no identifier of system {system}; "
                                "nothing was imported")  # fmt: skip
        return found
    return next((i for i in incoming.identifiers if i.mrn), incoming.identifiers[0])


def _apply_appointment(
    session: Session, incoming: AppointmentIn, site: str, by_key: dict[str, int], report: ImportReport
) -> None:
    """Create, move, mark no-show or cancel one appointment, as its FHIR status says."""
    existing = session.exec(
        select(Appointment).where(Appointment.site == site, Appointment.external_id == incoming.external_id)
    ).first()
    if incoming.cancelled:
        _cancel(session, incoming, existing, report)
        return
    patient_id = _patient_of(session, incoming, by_key)
    if existing is None:
        if incoming.status == "noshow":
            report.unchanged += 1  # nothing to mark: it was never booked here
            return
        assert incoming.starts_at is not None
        session.add(Appointment(patient_id=patient_id, site=site, starts_at=incoming.starts_at,
                                minutes=incoming.minutes, clinician=incoming.clinician,
                                external_id=incoming.external_id))  # fmt: skip
        report.appointments_created += 1
        return
    moved = _move(session, existing, incoming, patient_id, report)
    marked = incoming.status == "noshow" and existing.status == "scheduled"
    if marked:
        existing.status = "no_show"
    report.appointments_moved += moved
    report.appointments_no_show += marked
    report.unchanged += not (moved or marked)
    session.add(existing)


def _move(
    session: Session, existing: Appointment, incoming: AppointmentIn, patient_id: int, report: ImportReport
) -> bool:
    """Take the EHR's time, length and clinician (and patient, before a check-in); whether anything changed."""
    values: dict[str, object] = {"starts_at": incoming.starts_at, "minutes": incoming.minutes,
                                 "clinician": incoming.clinician}  # fmt: skip
    if patient_id != existing.patient_id:
        if existing.status == "scheduled":
            values["patient_id"] = patient_id
        else:
            report.notes.append(f"{incoming.where}: the patient was not changed: someone has already checked in")
    return bool(apply_changes(session, existing, values))


def _cancel(session: Session, incoming: AppointmentIn, existing: Appointment | None, report: ImportReport) -> None:
    """Remove a cancelled appointment nobody checked in for; one with an arrival is kept and reported."""
    if existing is None:
        report.unchanged += 1
    elif existing.status in CANCELLABLE:
        session.delete(existing)
        report.appointments_cancelled += 1
    else:
        report.unchanged += 1
        report.notes.append(
            f"{incoming.where}: cancelled in the EHR but kept here: the patient has checked in ({existing.status})"
        )


def _patient_of(session: Session, incoming: AppointmentIn, by_key: dict[str, int]) -> int:
    """The local patient of an appointment: a Patient of the Bundle, or one known by the reference's identifier."""
    if incoming.patient_ref is not None and incoming.patient_ref in by_key:
        return by_key[incoming.patient_ref]
    if incoming.patient_identifier is not None:
        found = _patients_by_identifier(session, (incoming.patient_identifier,))
        if found and found[0].id is not None:
            return found[0].id
    named = incoming.patient_ref or (incoming.patient_identifier.token if incoming.patient_identifier else "?")
    raise BundleRefused(
        f"{incoming.where}: the Appointment's patient {named} is neither in the Bundle nor known here by identifier "
        "(a search needs _include=Appointment:patient); nothing was imported"
    )
