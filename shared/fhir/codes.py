"""Code systems, codes and status maps between this project's statuses and FHIR R4 value sets."""

from __future__ import annotations

SNOMED = "http://snomed.info/sct"
LOINC = "http://loinc.org"
UCUM = "http://unitsofmeasure.org"
V2_IDENTIFIER_TYPE = "http://terminology.hl7.org/CodeSystem/v2-0203"
ACT_CODE = "http://terminology.hl7.org/CodeSystem/v3-ActCode"
OBSERVATION_CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"
PARTICIPATION_TYPE = "http://terminology.hl7.org/CodeSystem/v3-ParticipationType"

EXERCISE_THERAPY = {"system": SNOMED, "code": "229065009", "display": "Exercise therapy"}
PAIN_SCORE = {
    "system": LOINC,
    "code": "72514-3",
    "display": "Pain severity - 0-10 verbal numeric rating [Score] - Reported",
}
AMBULATORY = {"system": ACT_CODE, "code": "AMB", "display": "ambulatory"}
SURVEY = {"system": OBSERVATION_CATEGORY, "code": "survey", "display": "Survey"}

# This system's own identifiers on exported resources, so a repeated push updates instead of duplicating.
OWN_SYSTEM = "urn:clinic-checkin:{site}:{kind}"
ARRIVAL_EXTENSION = "urn:clinic-checkin:fhir:StructureDefinition/arrival-time"

# Local appointment status -> FHIR R4 Appointment.status (R4 has no "in progress" for an Appointment: the
# patient has arrived; the Encounter says in-progress).
APPOINTMENT_STATUS = {
    "scheduled": "booked",
    "arrived": "arrived",
    "in_session": "arrived",
    "done": "fulfilled",
    "no_show": "noshow",
}
ENCOUNTER_STATUS = {"arrived": "arrived", "in_session": "in-progress", "done": "finished"}

# FHIR R4 Appointment.status -> what an import does with it.
BOOKED = frozenset({"proposed", "pending", "booked", "arrived", "checked-in", "fulfilled", "waitlist"})
NO_SHOW = frozenset({"noshow"})
CANCELLED = frozenset({"cancelled", "entered-in-error"})
R4_APPOINTMENT_STATUSES = BOOKED | NO_SHOW | CANCELLED


def own_system(site: str, kind: str) -> str:
    """The identifier system of this clinic's own `kind` ids (patient, appointment, plan, ...)."""
    return OWN_SYSTEM.format(site=site, kind=kind)
