"""One Patient's or Appointment's fields, read and checked; a problem raises `BadField` (pure; no store)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime, timedelta
from typing import Any

from shared.fhir.codes import CANCELLED, R4_APPOINTMENT_STATUSES, V2_IDENTIFIER_TYPE
from shared.fhir.parsed import AppointmentIn, IdentifierIn, PatientIn

DEFAULT_MINUTES = 45
MAX_NAME = 100
MAX_SYSTEM = 255
MAX_VALUE = 100
MAX_EXTERNAL_ID = 400


class BadField(Exception):
    """One resource's problem, before the entry is named."""


def patient_fields(where: str, entry: Mapping[str, Any], resource: Mapping[str, Any]) -> PatientIn:
    """The Patient as this system keeps one: identifiers, name, birth date and phone."""
    identifiers = tuple(_identifiers(resource.get("identifier"), "Patient.identifier"))
    if not identifiers:
        raise BadField("Patient has no identifier with both a system and a value, so it cannot be matched again")
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


def appointment_fields(where: str, resource: Mapping[str, Any], patient_keys: frozenset[str]) -> AppointmentIn:
    """The Appointment: its key, status, start and length, patient and clinician."""
    status = resource.get("status")
    if status not in R4_APPOINTMENT_STATUSES:
        raise BadField(f"Appointment.status {status!r} is not an R4 appointment status")
    starts_at = _instant(resource.get("start"), "Appointment.start")
    if starts_at is None and status not in CANCELLED:
        raise BadField("Appointment.start is missing")
    minutes = _minutes(resource, starts_at)
    if status not in CANCELLED and not 5 <= minutes <= 480:
        raise BadField(f"the appointment's length {minutes} min is not between 5 and 480 minutes")
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
        raise BadField(f"{path} is not a list")
    out = []
    for item in value:
        if not isinstance(item, Mapping):
            raise BadField(f"{path} holds something that is not an Identifier")
        identifier = _identifier(item, path)
        if identifier is not None:
            out.append(identifier)
    return out


def _identifier(item: Mapping[str, Any], path: str) -> IdentifierIn | None:
    system, value = item.get("system"), item.get("value")
    if not isinstance(system, str) or not isinstance(value, str) or not system.strip() or not value.strip():
        return None
    if len(system) > MAX_SYSTEM or len(value) > MAX_VALUE:
        raise BadField(f"{path} is longer than {MAX_SYSTEM} (system) or {MAX_VALUE} (value) characters")
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
        raise BadField("Patient.name is missing")
    chosen = next((n for n in value if n.get("use") == "official"), None)
    chosen = chosen or next((n for n in value if n.get("use") in (None, "usual")), value[0])
    given = chosen.get("given") or []
    first = given[0] if isinstance(given, list) and given and isinstance(given[0], str) else ""
    last = chosen.get("family") if isinstance(chosen.get("family"), str) else ""
    first, last = " ".join(first.split()), " ".join(last.split())
    if not first or not last:
        raise BadField("Patient.name needs a given name and a family name")
    if len(first) > MAX_NAME or len(last) > MAX_NAME:
        raise BadField(f"Patient.name is longer than {MAX_NAME} characters")
    return first, last


def _birth_date(value: object) -> date:
    if not isinstance(value, str):
        raise BadField("Patient.birthDate is missing")
    try:
        born = date.fromisoformat(value) if len(value) == 10 else None
    except ValueError:
        born = None
    if born is None:
        raise BadField(f"Patient.birthDate {value!r} is not a full date like 1950-04-17")
    if born > date.today() or born < date.today() - timedelta(days=125 * 366):
        raise BadField(f"Patient.birthDate {value} is not a plausible birth date")
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
        raise BadField(f"{path} {value!r} is not an instant like 2026-11-23T10:30:00+01:00 (with its time zone)")
    return parsed.astimezone(UTC)


def _minutes(resource: Mapping[str, Any], starts_at: datetime | None) -> int:
    duration = resource.get("minutesDuration")
    if duration is not None:
        if isinstance(duration, bool) or not isinstance(duration, int):
            raise BadField(f"Appointment.minutesDuration {duration!r} is not a whole number")
        return duration
    ends_at = _instant(resource.get("end"), "Appointment.end")
    if ends_at is not None and starts_at is not None:
        return round((ends_at - starts_at).total_seconds() / 60)
    return DEFAULT_MINUTES


def _participants(value: object, patient_keys: frozenset[str]) -> tuple[str | None, IdentifierIn | None, str]:
    """The patient's reference (or identifier) and the clinician's name, from Appointment.participant."""
    if not isinstance(value, list) or not value:
        raise BadField("Appointment.participant is missing")
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
        raise BadField("Appointment.participant has no Patient")
    if len(patients) > 1:
        raise BadField("Appointment.participant has more than one Patient (group appointments are not imported)")
    reference, identifier = patients[0]
    if reference is None and identifier is None:
        raise BadField("the Appointment's Patient has neither a reference nor an identifier")
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
        raise BadField("Appointment has neither an identifier nor an id, so a second import could not find it")
    if len(key) > MAX_EXTERNAL_ID:
        raise BadField(f"the Appointment's identifier is longer than {MAX_EXTERNAL_ID} characters")
    return key
