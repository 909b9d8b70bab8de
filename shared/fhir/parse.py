"""FHIR R4 Bundle JSON -> plain dataclasses of the Patients and Appointments in it (pure; no store).

Every refusal names the entry (`Bundle.entry[3]`, its fullUrl) and the reason; resources of other types are
counted and skipped (a search answer carries an OperationOutcome, an EHR may add Practitioners).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from shared.fhir.codes import CANCELLED, R4_APPOINTMENT_STATUSES, V2_IDENTIFIER_TYPE
from shared.fhir.errors import BundleRefused

DEFAULT_MINUTES = 45
MAX_NAME = 100
MAX_SYSTEM = 255
MAX_VALUE = 100
MAX_EXTERNAL_ID = 400


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


class _Bad(Exception):
    """One resource's problem, before the entry is named."""


def parse_bundle(data: object) -> ParsedBundle:
    """Read a Bundle's Patients and Appointments; the first bad entry refuses the whole Bundle."""
    if not isinstance(data, Mapping) or data.get("resourceType") != "Bundle":
        found = data.get("resourceType") if isinstance(data, Mapping) else type(data).__name__
        raise BundleRefused(f"expected a FHIR Bundle, got {found!r}; nothing was imported")
    entries = data.get("entry", [])
    if not isinstance(entries, list):
        raise BundleRefused("Bundle.entry is not a list; nothing was imported")
    resources = [_resource(_where(index, entry), entry) for index, entry in enumerate(entries)]
    patients = [_patient(where, entry, res) for where, entry, res in resources if res["resourceType"] == "Patient"]
    patient_keys = frozenset().union(*(p.keys for p in patients))
    appointments: list[AppointmentIn] = []
    seen: dict[str, str] = {}
    for where, _, resource in resources:
        if resource["resourceType"] != "Appointment":
            continue
        appointment = _appointment(where, resource, patient_keys)
        if appointment.external_id in seen:
            raise _refused(where, f"the same appointment as {seen[appointment.external_id]}")
        seen[appointment.external_id] = where
        appointments.append(appointment)
    ignored = len(resources) - len(patients) - len(appointments)
    return ParsedBundle(tuple(patients), tuple(appointments), ignored)


def _refused(where: str, reason: str) -> BundleRefused:
    return BundleRefused(f"{where}: {reason}; nothing was imported")


def _resource(where: str, entry: object) -> tuple[str, Mapping[str, Any], Mapping[str, Any]]:
    resource = entry.get("resource") if isinstance(entry, Mapping) else None
    if not isinstance(resource, Mapping) or not isinstance(resource.get("resourceType"), str):
        raise _refused(where, "the entry has no resource with a resourceType")
    assert isinstance(entry, Mapping)
    return where, entry, resource


def _where(index: int, entry: object) -> str:
    full_url = entry.get("fullUrl") if isinstance(entry, Mapping) else None
    suffix = f" ({full_url[:200]})" if isinstance(full_url, str) and full_url else ""
    return f"Bundle.entry[{index}]{suffix}"


def _patient(where: str, entry: Mapping[str, Any], resource: Mapping[str, Any]) -> PatientIn:
    try:
        return _patient_fields(where, entry, resource)
    except _Bad as exc:
        raise _refused(where, str(exc)) from None


def _appointment(where: str, resource: Mapping[str, Any], patient_keys: frozenset[str]) -> AppointmentIn:
    try:
        return _appointment_fields(where, resource, patient_keys)
    except _Bad as exc:
        raise _refused(where, str(exc)) from None


def _patient_fields(where: str, entry: Mapping[str, Any], resource: Mapping[str, Any]) -> PatientIn:
    identifiers = tuple(_identifiers(resource.get("identifier"), "Patient.identifier"))
    if not identifiers:
        raise _Bad("Patient has no identifier with both a system and a value, so it cannot be matched again")
    first, last = _name(resource.get("name"))
    return PatientIn(
        where=where,
        keys=_keys(entry, resource, "Patient"),
        identifiers=identifiers,
        first=first,
        last=last,
        dob=_birth_date(resource.get("birthDate")),
        phone=_phone(resource.get("telecom")),
    )


def _appointment_fields(where: str, resource: Mapping[str, Any], patient_keys: frozenset[str]) -> AppointmentIn:
    status = resource.get("status")
    if status not in R4_APPOINTMENT_STATUSES:
        raise _Bad(f"Appointment.status {status!r} is not an R4 appointment status")
    starts_at = _instant(resource.get("start"), "Appointment.start")
    if starts_at is None and status not in CANCELLED:
        raise _Bad("Appointment.start is missing")
    minutes = _minutes(resource, starts_at)
    if status not in CANCELLED and not 5 <= minutes <= 480:
        raise _Bad(f"the appointment's length {minutes} min is not between 5 and 480 minutes")
    patient_ref, patient_identifier, clinician = _participants(resource.get("participant"), patient_keys)
    return AppointmentIn(
        where=where,
        external_id=_external_id(resource),
        status=str(status),
        starts_at=starts_at,
        minutes=minutes,
        clinician=clinician,
        patient_ref=patient_ref,
        patient_identifier=patient_identifier,
    )


def _identifiers(value: object, path: str) -> list[IdentifierIn]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise _Bad(f"{path} is not a list")
    out = []
    for item in value:
        if not isinstance(item, Mapping):
            raise _Bad(f"{path} holds something that is not an Identifier")
        identifier = _identifier(item, path)
        if identifier is not None:
            out.append(identifier)
    return out


def _identifier(item: Mapping[str, Any], path: str) -> IdentifierIn | None:
    system, value = item.get("system"), item.get("value")
    if not isinstance(system, str) or not isinstance(value, str) or not system.strip() or not value.strip():
        return None
    if len(system) > MAX_SYSTEM or len(value) > MAX_VALUE:
        raise _Bad(f"{path} is longer than {MAX_SYSTEM} (system) or {MAX_VALUE} (value) characters")
    codings = (item.get("type") or {}).get("coding") if isinstance(item.get("type"), Mapping) else None
    mrn = any(
        isinstance(c, Mapping) and c.get("system") == V2_IDENTIFIER_TYPE and c.get("code") == "MR"
        for c in codings or []
    )
    return IdentifierIn(system.strip(), value.strip(), mrn)


def _keys(entry: Mapping[str, Any], resource: Mapping[str, Any], kind: str) -> frozenset[str]:
    keys = set()
    full_url = entry.get("fullUrl")
    if isinstance(full_url, str) and full_url:
        keys.add(full_url)
        tail = full_url.rstrip("/").split("/")
        if len(tail) >= 2 and tail[-2] == kind:
            keys.add(f"{kind}/{tail[-1]}")
    if isinstance(resource.get("id"), str):
        keys.add(f"{kind}/{resource['id']}")
    return frozenset(keys)


def _name(value: object) -> tuple[str, str]:
    if not isinstance(value, list) or not value or not all(isinstance(n, Mapping) for n in value):
        raise _Bad("Patient.name is missing")
    chosen = next((n for n in value if n.get("use") == "official"), None)
    chosen = chosen or next((n for n in value if n.get("use") in (None, "usual")), value[0])
    given = chosen.get("given") or []
    first = given[0] if isinstance(given, list) and given and isinstance(given[0], str) else ""
    last = chosen.get("family") if isinstance(chosen.get("family"), str) else ""
    first, last = " ".join(first.split()), " ".join(last.split())
    if not first or not last:
        raise _Bad("Patient.name needs a given name and a family name")
    if len(first) > MAX_NAME or len(last) > MAX_NAME:
        raise _Bad(f"Patient.name is longer than {MAX_NAME} characters")
    return first, last


def _birth_date(value: object) -> date:
    if not isinstance(value, str):
        raise _Bad("Patient.birthDate is missing")
    try:
        born = date.fromisoformat(value) if len(value) == 10 else None
    except ValueError:
        born = None
    if born is None:
        raise _Bad(f"Patient.birthDate {value!r} is not a full date like 1950-04-17")
    if born > date.today() or born < date.today() - timedelta(days=125 * 366):
        raise _Bad(f"Patient.birthDate {value} is not a plausible birth date")
    return born


def _phone(value: object) -> str | None:
    if not isinstance(value, list):
        return None
    phones = [t for t in value if isinstance(t, Mapping) and t.get("system") == "phone" and t.get("value")]
    if not phones:
        return None
    chosen = next((t for t in phones if t.get("use") == "mobile"), phones[0])
    return " ".join(str(chosen["value"]).split())[:40] or None


def _instant(value: object, path: str) -> datetime | None:
    if value is None:
        return None
    try:
        parsed = datetime.fromisoformat(value) if isinstance(value, str) and "T" in value else None
    except ValueError:
        parsed = None
    if parsed is None or parsed.tzinfo is None:
        raise _Bad(f"{path} {value!r} is not an instant like 2026-11-23T10:30:00+01:00 (with its time zone)")
    return parsed.astimezone(UTC)


def _minutes(resource: Mapping[str, Any], starts_at: datetime | None) -> int:
    duration = resource.get("minutesDuration")
    if duration is not None:
        if isinstance(duration, bool) or not isinstance(duration, int):
            raise _Bad(f"Appointment.minutesDuration {duration!r} is not a whole number")
        return duration
    ends_at = _instant(resource.get("end"), "Appointment.end")
    if ends_at is not None and starts_at is not None:
        return round((ends_at - starts_at).total_seconds() / 60)
    return DEFAULT_MINUTES


def _participants(value: object, patient_keys: frozenset[str]) -> tuple[str | None, IdentifierIn | None, str]:
    """The patient's reference (or identifier) and the clinician's name, from Appointment.participant."""
    if not isinstance(value, list) or not value:
        raise _Bad("Appointment.participant is missing")
    patients: list[tuple[str | None, IdentifierIn | None]] = []
    clinician = ""
    for participant in value:
        actor = participant.get("actor") if isinstance(participant, Mapping) else None
        if not isinstance(actor, Mapping):
            continue
        reference = actor.get("reference") if isinstance(actor.get("reference"), str) else None
        kind = _reference_type(reference, patient_keys) or actor.get("type")
        if kind == "Patient":
            identifier = actor.get("identifier")
            found = _identifier(identifier, "participant.actor.identifier") if isinstance(identifier, Mapping) else None
            patients.append((reference, found))
        elif kind in ("Practitioner", "PractitionerRole") and not clinician:
            clinician = " ".join(str(actor.get("display") or "").split())[:100]
    if not patients:
        raise _Bad("Appointment.participant has no Patient")
    if len(patients) > 1:
        raise _Bad("Appointment.participant has more than one Patient (group appointments are not imported)")
    reference, identifier = patients[0]
    if reference is None and identifier is None:
        raise _Bad("the Appointment's Patient has neither a reference nor an identifier")
    return reference, identifier, clinician


def _reference_type(reference: str | None, patient_keys: frozenset[str]) -> str | None:
    """'Patient' for Patient/123, .../Patient/123 or the fullUrl of a Patient in the Bundle; None if unknown."""
    if not reference:
        return None
    if reference in patient_keys:
        return "Patient"
    parts = reference.rstrip("/").split("/")
    return parts[-2] if len(parts) >= 2 and not reference.startswith("urn:") else None


def _external_id(resource: Mapping[str, Any]) -> str:
    identifiers = _identifiers(resource.get("identifier"), "Appointment.identifier")
    if identifiers:
        key = identifiers[0].token
    elif isinstance(resource.get("id"), str) and resource["id"]:
        key = f"Appointment/{resource['id']}"
    else:
        raise _Bad("Appointment has neither an identifier nor an id, so a second import could not find it")
    if len(key) > MAX_EXTERNAL_ID:
        raise _Bad(f"the Appointment's identifier is longer than {MAX_EXTERNAL_ID} characters")
    return key
