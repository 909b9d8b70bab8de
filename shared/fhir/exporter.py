"""Export a day at a site as a FHIR R4 Bundle: its appointments with their current status, the patients, the
visits of those who arrived, their exercise plans, their feedback, and the questionnaires they completed that day
(QuestionnaireResponse, and each score as an Observation); and the same as a transaction to push."""

from __future__ import annotations

import json
from collections import defaultdict
from datetime import date, datetime, time, timedelta, tzinfo
from typing import Any
from urllib.parse import quote

from sqlmodel import Session, col, select

from shared.care.feedback import Feedback
from shared.care.models import Appointment, Exercise, Patient, PlanItem, SessionFeedback
from shared.care.plans import active_on
from shared.fhir import build
from shared.fhir.build import Entry, Resource
from shared.fhir.outcome_resources import questionnaire_response, score_observation
from shared.outcomes.catalogue import get_instrument
from shared.outcomes.responses import completed
from shared.store.types import utcnow


def export_day(*, session: Session, day: date, site: str, tz: tzinfo, now: datetime | None = None) -> Resource:
    """A `collection` Bundle of the day's appointments at `site` (a clinic-local day) and what belongs to them."""
    start = datetime.combine(day, time.min, tzinfo=tz)
    end = datetime.combine(day + timedelta(days=1), time.min, tzinfo=tz)
    rows = list(session.exec(
        select(Appointment)
        .where(Appointment.site == site, col(Appointment.starts_at) >= start, col(Appointment.starts_at) < end)
        .order_by(col(Appointment.starts_at), col(Appointment.id))
    ).all())  # fmt: skip
    patient_ids = sorted({row.patient_id for row in rows})
    patients = {p.id: p for p in session.exec(select(Patient).where(col(Patient.id).in_(patient_ids))).all()}
    people = {pid: build.patient(patients[pid], site=site) for pid in patient_ids}
    booked, visits = [], {}
    for row in rows:
        booked.append(build.appointment(row, site=site, subject=people[row.patient_id]))
        visit = build.encounter(row, site=site, subject=people[row.patient_id], booked=booked[-1])
        if visit is not None:
            visits[row.id] = visit
    plans = _plans(session, patients=[patients[pid] for pid in patient_ids], people=people, site=site, day=day)
    feedback = []
    for answer in _feedback(session, [row.id for row in rows if row.id is not None]):
        subject, visit = people[answer.patient_id], visits.get(answer.appointment_id)
        feedback.extend(build.observations(answer, site=site, subject=subject, visit=visit))
    scored = _questionnaires(session, people=people, visits=visits, site=site, start=start, end=end)
    entries = [*people.values(), *booked, *visits.values(), *plans, *feedback, *scored]
    return {
        "resourceType": "Bundle",
        "type": "collection",
        "timestamp": build.instant(now or utcnow()),
        "entry": [{"fullUrl": e.full_url, "resource": e.resource} for e in entries],
    }


def as_transaction(bundle: Resource) -> Resource:
    """The exported Bundle as a transaction: each resource updated by its identifier (created when new).

    Patients are only created when the EHR has none with their identifier (never overwritten: the EHR owns
    who they are); an appointment imported from the EHR updates the EHR's own record.
    """
    entries = []
    for item in bundle["entry"]:
        resource = item["resource"]
        entries.append({"fullUrl": item["fullUrl"], "resource": resource, "request": _request(resource)})
    return {"resourceType": "Bundle", "type": "transaction", "entry": entries}


def dumps(bundle: Resource) -> str:
    """A Bundle as the JSON text written to a file or posted."""
    return json.dumps(bundle, indent=2, ensure_ascii=False) + "\n"


def _request(resource: Resource) -> dict[str, str]:
    kind = resource["resourceType"]
    first = resource["identifier"]
    first = first[0] if isinstance(first, list) else first  # a QuestionnaireResponse has one Identifier
    token = quote(f"{first['system']}|{first['value']}", safe=":/")
    if kind == "Patient":
        return {"method": "POST", "url": "Patient", "ifNoneExist": f"identifier={token}"}
    if "id" in resource:
        return {"method": "PUT", "url": f"{kind}/{resource['id']}"}
    return {"method": "PUT", "url": f"{kind}?identifier={token}"}


def _plans(
    session: Session, *, patients: list[Patient], people: dict[int, Entry], site: str, day: date
) -> list[Entry]:
    """Each patient's plan lines active on `day`: a CarePlan followed by its ServiceRequests."""
    ids = [p.id for p in patients]
    query = (
        select(PlanItem, Exercise)
        .join(Exercise, col(Exercise.id) == col(PlanItem.exercise_id))
        .where(col(PlanItem.patient_id).in_(ids), active_on(day))
        .order_by(col(PlanItem.patient_id), col(PlanItem.position), col(PlanItem.id))
    )  # fmt: skip
    lines: dict[int, list[Entry]] = defaultdict(list)
    for item, exercise in session.exec(query).all():
        lines[item.patient_id].append(build.service_request(item, exercise, site=site, subject=people[item.patient_id]))
    out: list[Entry] = []
    for patient in patients:
        assert patient.id is not None
        if lines[patient.id]:
            out.append(build.care_plan(patient, lines[patient.id], site=site, subject=people[patient.id], day=day))
            out.extend(lines[patient.id])
    return out


def _questionnaires(
    session: Session, *, people: dict[int, Entry], visits: dict[int | None, Entry], site: str, start: datetime,
    end: datetime,
) -> list[Entry]:
    """The day's patients' questionnaires completed that day: each QuestionnaireResponse, then its score."""
    out: list[Entry] = []
    for response in completed(session=session, patient_ids=list(people), since=start, until=end):
        instrument = get_instrument(session=session, code=response.questionnaire)
        subject = people[response.patient_id]
        visit = visits.get(response.appointment_id)
        answers = questionnaire_response(response, instrument, site=site, subject=subject, visit=visit)
        out.append(answers)
        score = score_observation(response, instrument, site=site, subject=subject, visit=visit, answers=answers)
        if score is not None:
            out.append(score)
    return out


def _feedback(session: Session, appointment_ids: list[int]) -> list[Feedback]:
    """Every answer given after these appointments, oldest first."""
    if not appointment_ids:
        return []
    query = (
        select(SessionFeedback)
        .where(col(SessionFeedback.appointment_id).in_(appointment_ids))
        .order_by(col(SessionFeedback.at), col(SessionFeedback.id))
    )
    return [_view(row) for row in session.exec(query).all()]


def _view(row: SessionFeedback) -> Feedback:
    assert row.id is not None
    exercises: Any = json.loads(row.exercises) if row.exercises else {}
    return Feedback(id=row.id, appointment_id=row.appointment_id, patient_id=row.patient_id, at=row.at,
                    pain=row.pain, difficulty=row.difficulty, exercises=exercises)  # fmt: skip
