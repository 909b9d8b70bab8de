"""What a parsed Bundle holds: plain dataclasses of its Patients and Appointments (pure; no store)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from shared.fhir.codes import CANCELLED


@dataclass(frozen=True, slots=True)
class IdentifierIn:
    """A FHIR Identifier with both a system and a value; `mrn` when typed as a medical record number."""

    system: str
    value: str
    mrn: bool = False

    @property
    def token(self) -> str:
        """The FHIR search token `system|value`."""
        return f"{self.system}|{self.value}"


@dataclass(frozen=True, slots=True)
class PatientIn:
    """A Patient of the Bundle, as this system keeps one."""

    where: str
    keys: frozenset[str]  # fullUrl and Patient/<id>: how the Bundle's Appointments refer to it
    identifiers: tuple[IdentifierIn, ...]
    first: str
    last: str
    dob: date
    phone: str | None


@dataclass(frozen=True, slots=True)
class AppointmentIn:
    """An Appointment of the Bundle: whose, when, how long, with whom, and its FHIR status."""

    where: str
    external_id: str
    status: str
    starts_at: datetime | None
    minutes: int
    clinician: str
    patient_ref: str | None
    patient_identifier: IdentifierIn | None

    @property
    def cancelled(self) -> bool:
        """Whether the EHR cancelled it (or entered it in error)."""
        return self.status in CANCELLED


@dataclass(frozen=True, slots=True)
class ParsedBundle:
    """What a Bundle holds for this system, in Bundle order."""

    patients: tuple[PatientIn, ...]
    appointments: tuple[AppointmentIn, ...]
    ignored: int
