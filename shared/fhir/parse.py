"""FHIR R4 Bundle JSON -> plain dataclasses of the Patients and Appointments in it (pure; no store).

Every refusal names the entry (`Bundle.entry[3]`, its fullUrl) and the reason; resources of other types are
counted and skipped (a search answer carries an OperationOutcome, an EHR may add Practitioners).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from shared.fhir.errors import BundleRefused
from shared.fhir.parsed import AppointmentIn, ParsedBundle, PatientIn
from shared.fhir.resource_fields import BadField, appointment_fields, patient_fields


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
        return patient_fields(where, entry, resource)
    except BadField as exc:
        raise _refused(where, str(exc)) from None


def _appointment(where: str, resource: Mapping[str, Any], patient_keys: frozenset[str]) -> AppointmentIn:
    try:
        return appointment_fields(where, resource, patient_keys)
    except BadField as exc:
        raise _refused(where, str(exc)) from None
