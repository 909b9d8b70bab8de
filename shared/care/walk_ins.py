"""Walk-ins at the front desk: find or add the patient and mark them arrived, in one step and one transaction."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo

from sqlalchemy import func
from sqlmodel import Session, col, select

from shared.care.models import Appointment, Patient

# The field checks of patient registration, so a walk-in's new patient is held to the same rules.
from shared.care.patients import add_patient, checked_patient
from shared.staff.audit import audit
from shared.store.clock import local_today
from shared.store.errors import NotFound, ValidationFailed

WALK_IN_MINUTES = 45
ARRIVED = ("arrived", "in_session")


@dataclass(frozen=True, slots=True)
class NewPatient:
    """A patient the front desk adds while checking them in (the fields are checked by the service)."""

    first: str
    last: str
    dob: date | str


@dataclass(frozen=True, slots=True)
class WalkInResult:
    """What the walk-in did: the patient, their appointment, and whether either was created just now."""

    patient_id: int
    patient_name: str
    appointment_id: int
    new_patient: bool
    booked_at: datetime | None  # the start of the appointment they already had today, when one was used instead


def check_in_walk_in(
    *,
    session: Session,
    site: str,
    tz: tzinfo,
    now: datetime,
    actor: str,
    patient_id: int | None = None,
    new_patient: NewPatient | None = None,
    minutes: int = WALK_IN_MINUTES,
) -> WalkInResult:
    """Mark a patient arrived now: an existing one (`patient_id`) or one added here (`new_patient`).

    A patient booked for later today is marked arrived for that appointment rather than booked twice; one
    already arrived or in session is refused. Otherwise a walk-in appointment starting now is created, already
    arrived. Everything, the audit entries included, commits together or not at all.
    """
    if (patient_id is None) == (new_patient is None):
        raise ValidationFailed("choose a patient, or give a new patient's first name, last name and birth date")
    patient, created = _patient(session, patient_id, new_patient, actor)
    assert patient.id is not None
    name = f"{patient.first_name} {patient.last_name}"
    today = _todays(session, patient.id, site, tz, now)
    current = next((a for a in today if a.status in ARRIVED), None)
    if current is not None:
        since = f" since {current.arrived_at.astimezone(tz):%H:%M}" if current.arrived_at is not None else ""
        raise ValidationFailed(f"{name} is already checked in{since}")
    booked = next((a for a in today if a.status == "scheduled" and a.starts_at >= now - timedelta(hours=1)), None)
    appointment = booked or Appointment(
        patient_id=patient.id, site=site, starts_at=now.replace(second=0, microsecond=0), minutes=minutes,
        created_at=now,
    )
    appointment.status, appointment.arrived_at = "arrived", now
    session.add(appointment)
    session.flush()
    audit(session, actor=actor, action="appointment.walk_in", target=f"appointment {appointment.id}",
          detail={"patient_id": patient.id, "new_patient": created, "booked": booked is not None})  # fmt: skip
    return WalkInResult(patient.id, name, appointment.id or 0, created, booked.starts_at if booked else None)


def _patient(session: Session, patient_id: int | None, new: NewPatient | None, actor: str) -> tuple[Patient, bool]:
    """The chosen patient, or the new one added (refused when the same name and birth date exist already)."""
    if patient_id is not None:
        found = session.get(Patient, patient_id)
        if found is None:
            raise NotFound(f"no patient with id {patient_id}")
        return found, False
    assert new is not None
    patient = checked_patient(first=new.first, last=new.last, dob=new.dob)
    same = select(Patient.id).where(
        func.lower(col(Patient.first_name)) == patient.first_name.lower(),
        func.lower(col(Patient.last_name)) == patient.last_name.lower(),
        Patient.dob == patient.dob,
    )
    existing = session.exec(same).first()
    if existing is not None:
        raise ValidationFailed(
            f"{patient.first_name} {patient.last_name}, born {patient.dob.isoformat()}, is already patient "
            f"#{existing}: find them by name instead"
        )
    added = add_patient(session=session, first=patient.first_name, last=patient.last_name, dob=patient.dob, actor=actor)
    return added, True


def _todays(session: Session, patient_id: int, site: str, tz: tzinfo, now: datetime) -> list[Appointment]:
    """The patient's appointments at the site on the clinic's calendar day, in start order."""
    start = datetime.combine(local_today(now, tz), time.min, tzinfo=tz)
    query = (
        select(Appointment)
        .where(
            Appointment.patient_id == patient_id,
            Appointment.site == site,
            col(Appointment.starts_at) >= start,
            col(Appointment.starts_at) < start + timedelta(days=1),
        )
        .order_by(col(Appointment.starts_at))
    )
    return list(session.exec(query).all())
