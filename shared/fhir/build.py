"""Domain rows -> FHIR R4 resources as JSON dicts (pure): Patient, Appointment, Encounter, CarePlan,
ServiceRequest and Observation.

Every resource carries this clinic's own identifier (and the EHR's, where one was imported), and its fullUrl
is a UUID derived from the first of them, so the same day exported twice gives the same Bundle and a repeated
push updates instead of duplicating.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from shared.care.feedback import DIFFICULTY_WORDS, Feedback
from shared.care.models import Appointment, Exercise, Patient, PlanItem
from shared.care.plans import dose_words
from shared.fhir import codes

Resource = dict[str, Any]


@dataclass(frozen=True, slots=True)
class Entry:
    """One resource of an exported Bundle with the fullUrl other resources refer to it by."""

    full_url: str
    resource: Resource


def instant(value: datetime) -> str:
    """An aware time as a FHIR instant in UTC ('2026-11-23T10:30:00Z')."""
    return value.astimezone(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def own_identifier(site: str, kind: str, value: object) -> Resource:
    """This clinic's identifier of a row (`urn:clinic-checkin:<site>:<kind>`, the row's id)."""
    return {"system": codes.own_system(site, kind), "value": str(value)}


def entry(resource: Resource) -> Entry:
    """The resource with a fullUrl derived from its first identifier."""
    first = resource["identifier"][0]
    return Entry(f"urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, first['system'] + '|' + first['value'])}", resource)


def reference(target: Entry, display: str | None = None) -> Resource:
    """A Reference to an entry of the same Bundle."""
    out: Resource = {"reference": target.full_url, "type": target.resource["resourceType"]}
    if display:
        out["display"] = display
    return out


def patient(row: Patient, *, site: str) -> Entry:
    """Who the patient is, as much as the EHR needs to match them: identifiers, name, birth date."""
    identifiers = [own_identifier(site, "patient", row.id)]
    if row.identifier_system and row.identifier_value:
        identifiers.insert(0, {"use": "official", "system": row.identifier_system, "value": row.identifier_value})
    return entry({
        "resourceType": "Patient",
        "identifier": identifiers,
        "name": [{"use": "official", "family": row.last_name, "given": [row.first_name]}],
        "birthDate": row.dob.isoformat(),
    })  # fmt: skip


def appointment(row: Appointment, *, site: str, subject: Entry) -> Entry:
    """The appointment with its current status (arrived with the arrival time in an extension)."""
    resource: Resource = {"resourceType": "Appointment", "identifier": [own_identifier(site, "appointment", row.id)]}
    key = row.external_id or ""
    if key.startswith("Appointment/"):
        resource["id"] = key.removeprefix("Appointment/")
    elif "|" in key:
        system, _, value = key.rpartition("|")
        resource["identifier"].insert(0, {"system": system, "value": value})
    if row.arrived_at is not None and row.status != "scheduled":
        resource["extension"] = [{"url": codes.ARRIVAL_EXTENSION, "valueDateTime": instant(row.arrived_at)}]
    end = row.starts_at.timestamp() + row.minutes * 60
    resource.update({
        "status": codes.APPOINTMENT_STATUS[row.status],
        "start": instant(row.starts_at),
        "end": instant(datetime.fromtimestamp(end, UTC)),
        "minutesDuration": row.minutes,
        "participant": [{"actor": reference(subject), "status": "accepted"}],
    })  # fmt: skip
    if row.clinician:
        performer = [{"coding": [{"system": codes.PARTICIPATION_TYPE, "code": "PPRF"}]}]
        resource["participant"].append({"actor": {"display": row.clinician}, "status": "accepted", "type": performer})
    return entry(resource)


def encounter(row: Appointment, *, site: str, subject: Entry, booked: Entry) -> Entry | None:
    """The visit once the patient has arrived: its status, and the arrival time as the start of its period."""
    status = codes.ENCOUNTER_STATUS.get(row.status)
    if status is None:
        return None
    resource: Resource = {
        "resourceType": "Encounter",
        "identifier": [own_identifier(site, "encounter", row.id)],
        "status": status,
        "class": codes.AMBULATORY,
        "subject": reference(subject),
        "appointment": [reference(booked)],
    }
    if row.arrived_at is not None:
        resource["period"] = {"start": instant(row.arrived_at)}
        resource["statusHistory"] = [{"status": "arrived", "period": {"start": instant(row.arrived_at)}}]
    return entry(resource)


def service_request(item: PlanItem, exercise: Exercise, *, site: str, subject: Entry) -> Entry:
    """One exercise of the plan: SNOMED 'Exercise therapy', the dose in words and in structured timing."""
    dose = dose_words(item.sets, item.reps, item.hold_s, item.minutes, item.load)
    repeat: Resource = {"boundsPeriod": {"start": item.active_from.isoformat()}}
    if item.active_to is not None:
        repeat["boundsPeriod"]["end"] = item.active_to.isoformat()
    if item.minutes:
        repeat.update({"duration": item.minutes, "durationUnit": "min"})
    instruction = f"{exercise.name}: {dose}." if dose else f"{exercise.name}."
    if exercise.instructions:
        instruction += f" {exercise.instructions}"
    resource: Resource = {
        "resourceType": "ServiceRequest",
        "identifier": [own_identifier(site, "plan-line", item.id)],
        "status": "active",
        "intent": "order",
        "code": {"coding": [codes.EXERCISE_THERAPY], "text": exercise.name},
        "subject": reference(subject),
        "occurrenceTiming": {"repeat": repeat},
        "patientInstruction": instruction,
    }
    details = _dose_details(item)
    if details:
        resource["orderDetail"] = [{"text": text} for text in details]
    if item.notes:
        resource["note"] = [{"text": item.notes}]
    return entry(resource)


def care_plan(patient_row: Patient, requests: Sequence[Entry], *, site: str, subject: Entry, day: date) -> Entry:
    """The patient's exercise plan on `day`: a CarePlan whose activities are the ServiceRequests."""
    return entry({
        "resourceType": "CarePlan",
        "identifier": [own_identifier(site, "care-plan", patient_row.id)],
        "status": "active",
        "intent": "plan",
        "title": "Exercise plan",
        "description": f"Exercises planned for {day.isoformat()}",
        "subject": reference(subject),
        "activity": [{"reference": reference(request)} for request in requests],
    })  # fmt: skip


def observations(feedback: Feedback, *, site: str, subject: Entry, visit: Entry | None) -> list[Entry]:
    """A patient's answers after a session: pain now (LOINC 72514-3, 0-10) and how hard it was."""
    common: Resource = {"status": "final", "subject": reference(subject), "effectiveDateTime": instant(feedback.at)}
    if visit is not None:
        common["encounter"] = reference(visit)
    pain = {
        "resourceType": "Observation",
        "identifier": [own_identifier(site, "feedback", f"{feedback.id}-pain")],
        "category": [{"coding": [codes.SURVEY]}],
        "code": {"coding": [codes.PAIN_SCORE], "text": "Pain now (0-10)"},
        **common,
        "valueInteger": feedback.pain,
    }
    difficulty: Resource = {
        "resourceType": "Observation",
        "identifier": [own_identifier(site, "feedback", f"{feedback.id}-difficulty")],
        "category": [{"coding": [codes.SURVEY]}],
        "code": {"text": "How hard the session was (patient-reported)"},
        **common,
        "valueString": DIFFICULTY_WORDS.get(feedback.difficulty, feedback.difficulty),
    }
    if feedback.exercises:
        difficulty["component"] = [
            {"code": {"text": name}, "valueString": DIFFICULTY_WORDS.get(value, value)}
            for name, value in feedback.exercises.items()
        ]
    return [entry(pain), entry(difficulty)]


def _dose_details(item: PlanItem) -> list[str]:
    """Each part of the dose on its own ('3 sets', '10 repetitions', 'hold 5 s', 'load 2 kg')."""
    parts = []
    if item.sets:
        parts.append(f"{item.sets} sets")
    if item.reps:
        parts.append(f"{item.reps} repetitions")
    if item.hold_s:
        parts.append(f"hold {item.hold_s} s")
    if item.minutes:
        parts.append(f"{item.minutes:g} min")
    if item.load:
        parts.append(f"load {item.load}")
    return parts
