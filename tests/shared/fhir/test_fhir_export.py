"""Exporting a day as FHIR R4 on real SQLite and PostgreSQL: after a kiosk check-in the imported Appointment says
`arrived`; plans become CarePlan + ServiceRequest, feedback Observations; every resource validates as R4."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine

from shared.care.appointments import add_appointment, set_appointment_status
from shared.care.cards import issue_card
from shared.care.exercises import add_exercise
from shared.care.feedback import record_feedback
from shared.care.patients import add_patient
from shared.care.plans import add_plan_item
from shared.fhir.exporter import as_transaction, export_day
from shared.fhir.importer import import_bundle
from shared.store.db import read_session, unit_of_work
from shared.store.settings import Settings
from tests import lobby_steps
from tests.fhir_support import APPOINTMENTS, MRN, NotR4, appointment, bundle, patient, validate_bundle, validate_r4

NOW = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)
DAY = NOW.date()


def settings() -> Settings:
    return Settings(_env_file=None, timezone="UTC", kiosk_url="https://lobby.example")  # type: ignore[call-arg]


def export(engine: Engine, day: date = DAY) -> dict[str, Any]:
    with read_session(engine) as session:
        return export_day(session=session, day=day, site="main", tz=UTC, now=NOW)


def of_type(resources: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [r for r in resources if r["resourceType"] == kind]


@pytest.fixture
def checked_in(engine: Engine) -> int:
    """The EHR's 15:10 appointment for Maria imported, a plan, a kiosk check-in at 15:00 and her feedback."""
    schedule = bundle(patient("p1", mrn="MRN0001"), appointment("a1", patient_ref="Patient/p1",
                                                                start="2026-11-23T15:10:00Z"))  # fmt: skip
    with unit_of_work(engine) as session:
        import_bundle(session=session, bundle=schedule, site="main")
    maria = 1
    with unit_of_work(engine) as session:
        add_exercise(session=session, name="Heel raises", instructions="Rise onto your toes, slowly down.")
    with unit_of_work(engine) as session:
        add_exercise(session=session, name="Treadmill walk")
    with unit_of_work(engine) as session:
        add_plan_item(session=session, patient_id=maria, exercise="Heel raises", sets=3, reps=10, hold_s=2, load="2 kg",
                      active_from=DAY - timedelta(days=7), active_to=DAY + timedelta(days=21),
                      notes="Hold the bar.")  # fmt: skip
    with unit_of_work(engine) as session:
        add_plan_item(session=session, patient_id=maria, exercise="Treadmill walk", minutes=10, active_from=DAY)
    with unit_of_work(engine) as session:
        add_plan_item(session=session, patient_id=maria, exercise="Treadmill walk", minutes=5,
                      active_from=DAY - timedelta(days=9),
                      active_to=DAY - timedelta(days=1))  # ended: not in today's plan  # fmt: skip
    with unit_of_work(engine) as session:
        card = issue_card(session=session, patient_id=maria, base_url="https://lobby.example")
    outcome = lobby_steps.check_in(engine=engine, settings=settings(), scan=card.token, now=NOW)
    assert outcome.result == "checked_in" and outcome.appointment_id is not None
    with unit_of_work(engine) as session:
        record_feedback(session=session, appointment_id=outcome.appointment_id, patient_id=maria, pain=6,
                        difficulty="too_hard",
                        exercises={"Heel raises": "too_hard"}, now=NOW + timedelta(minutes=50))  # fmt: skip
    return outcome.appointment_id


def test_after_a_kiosk_check_in_the_exported_appointment_is_arrived_and_valid_r4(
    engine: Engine, checked_in: int
) -> None:
    resources = validate_bundle(export(engine))
    [booked] = of_type(resources, "Appointment")
    assert booked["status"] == "arrived"
    assert booked["identifier"][0] == {"system": APPOINTMENTS, "value": "a1"}  # the EHR's own, first
    assert booked["extension"] == [
        {"url": "urn:clinic-checkin:fhir:StructureDefinition/arrival-time", "valueDateTime": "2026-11-23T15:00:00Z"}
    ]
    assert (booked["start"], booked["end"], booked["minutesDuration"]) == (
        "2026-11-23T15:10:00Z",
        "2026-11-23T15:55:00Z",
        45,
    )
    [visit] = of_type(resources, "Encounter")
    assert (visit["status"], visit["period"]) == ("arrived", {"start": "2026-11-23T15:00:00Z"})
    [person] = of_type(resources, "Patient")
    assert person["identifier"][0] == {"use": "official", "system": MRN, "value": "MRN0001"}
    assert "telecom" not in person  # the EHR has the phone; the export sends no more than it needs to match


def test_the_plan_is_a_care_plan_of_exercise_therapy_service_requests(engine: Engine, checked_in: int) -> None:
    resources = validate_bundle(export(engine))
    [plan] = of_type(resources, "CarePlan")
    requests = of_type(resources, "ServiceRequest")
    assert [r["code"]["text"] for r in requests] == ["Heel raises", "Treadmill walk"]
    assert all(r["code"]["coding"] == [{"system": "http://snomed.info/sct", "code": "229065009",
                                        "display": "Exercise therapy"}] for r in requests)  # fmt: skip
    assert (plan["status"], plan["intent"], len(plan["activity"])) == ("active", "plan", 2)
    heel, walk = requests
    assert heel["patientInstruction"] == "Heel raises: 3 x 10, hold 2 s, 2 kg. Rise onto your toes, slowly down."
    assert [d["text"] for d in heel["orderDetail"]] == ["3 sets", "10 repetitions", "hold 2 s", "load 2 kg"]
    assert heel["occurrenceTiming"] == {"repeat": {"boundsPeriod": {"start": "2026-11-16", "end": "2026-12-14"}}}
    assert heel["note"] == [{"text": "Hold the bar."}]
    assert walk["occurrenceTiming"] == {
        "repeat": {"boundsPeriod": {"start": "2026-11-23"}, "duration": 10, "durationUnit": "min"}
    }


def test_the_plan_refers_to_its_service_requests(engine: Engine, checked_in: int) -> None:
    entries = export(engine)["entry"]
    [plan] = [e["resource"] for e in entries if e["resource"]["resourceType"] == "CarePlan"]
    request_urls = [e["fullUrl"] for e in entries if e["resource"]["resourceType"] == "ServiceRequest"]
    assert [a["reference"]["reference"] for a in plan["activity"]] == request_urls


def test_feedback_is_a_pain_observation_and_a_difficulty_observation(engine: Engine, checked_in: int) -> None:
    exported = export(engine)
    resources = validate_bundle(exported)
    pain, difficulty = of_type(resources, "Observation")
    assert pain["code"]["coding"][0]["system"] == "http://loinc.org" and pain["code"]["coding"][0]["code"] == "72514-3"
    assert (pain["valueInteger"], pain["effectiveDateTime"], pain["status"]) == (6, "2026-11-23T15:50:00Z", "final")
    visit_url = next(e["fullUrl"] for e in exported["entry"] if e["resource"]["resourceType"] == "Encounter")
    assert pain["encounter"]["reference"] == visit_url
    assert difficulty["valueString"] == "too hard"
    assert difficulty["component"] == [{"code": {"text": "Heel raises"}, "valueString": "too hard"}]


@pytest.mark.parametrize(("status", "appointment_status", "encounter_status"), [
    ("scheduled", "booked", None), ("arrived", "arrived", "arrived"), ("in_session", "arrived", "in-progress"),
    ("done", "fulfilled", "finished"), ("no_show", "noshow", None),
])  # fmt: skip
def test_each_local_status_maps_to_its_r4_status(
    engine: Engine, status: str, appointment_status: str, encounter_status: str | None
) -> None:
    with unit_of_work(engine) as session:
        maria = add_patient(session=session, first="Maria", last="Gonzalez", dob="1950-04-17")
    assert maria.id is not None
    with unit_of_work(engine) as session:
        booked = add_appointment(session=session, patient_id=maria.id, starts_at=NOW, site="main", clinician="Alex")
    assert booked.id is not None
    with unit_of_work(engine) as session:
        set_appointment_status(session=session, appointment_id=booked.id, status=status, now=NOW)
    resources = validate_bundle(export(engine))
    assert of_type(resources, "Appointment")[0]["status"] == appointment_status
    assert [e["status"] for e in of_type(resources, "Encounter")] == ([encounter_status] if encounter_status else [])
    assert of_type(resources, "Appointment")[0]["participant"][1]["actor"] == {"display": "Alex"}


def test_the_day_is_the_clinics_local_day_and_exporting_twice_gives_the_same_bundle(
    engine: Engine, checked_in: int
) -> None:
    assert export(engine) == export(engine)
    assert export(engine, DAY + timedelta(days=1))["entry"] == []


def test_as_a_transaction_each_resource_is_updated_by_its_identifier(engine: Engine, checked_in: int) -> None:
    transaction = as_transaction(export(engine))
    validate_r4(transaction)
    requests = {e["resource"]["resourceType"]: e["request"] for e in transaction["entry"]}
    assert requests["Patient"] == {"method": "POST", "url": "Patient", "ifNoneExist": f"identifier={MRN}%7CMRN0001"}
    assert requests["Appointment"] == {"method": "PUT", "url": f"Appointment?identifier={APPOINTMENTS}%7Ca1"}
    own = "urn:clinic-checkin:main:encounter%7C1"
    assert requests["Encounter"] == {"method": "PUT", "url": f"Encounter?identifier={own}"}


def test_the_validator_refuses_what_is_not_r4() -> None:
    """The checks above can fail: a local status, a time without its zone, an unknown element."""
    good = appointment("a1", patient_ref="Patient/p1", start="2026-11-23T15:10:00Z")
    validate_r4(good)
    for bad in ({**good, "status": "in_session"}, {**good, "start": "2026-11-23 15:10"}, {**good, "arrivedAt": "x"},
                {**good, "minutesDuration": 0}):  # fmt: skip
        with pytest.raises(NotR4):
            validate_r4(bad)
