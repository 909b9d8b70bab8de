"""Importing an EHR's FHIR R4 Bundle on real SQLite and PostgreSQL: patients matched by identifier, appointments
created, moved and cancelled, the same Bundle twice changing nothing, and a bad entry importing nothing."""

from __future__ import annotations

import copy
from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any

import pytest
from sqlalchemy import Engine
from sqlmodel import col, select

from shared.care.appointments import set_appointment_status
from shared.care.models import Appointment, Patient
from shared.care.patients import add_patient
from shared.fhir.errors import BundleRefused
from shared.fhir.identifiers import parse_identifier, set_identifier
from shared.fhir.importer import ImportReport, import_bundle
from shared.store.db import read_session, unit_of_work
from tests.fhir_support import APPOINTMENTS, MRN, appointment, bundle, patient

START = "2026-11-23T10:30:00+01:00"
START_UTC = datetime(2026, 11, 23, 9, 30, tzinfo=UTC)


def schedule() -> dict[str, Any]:
    """Two patients and three appointments, as an EHR's export of a day."""
    return bundle(
        patient("p1", mrn="MRN0001"),
        patient("p2", mrn="MRN0002", given="John", family="Smith", born="1962-01-05", phone=None),
        appointment("a1", patient_ref="Patient/p1", start=START),
        appointment("a2", patient_ref="Patient/p2", start="2026-11-23T11:00:00+01:00", minutes=None),
        appointment("a3", patient_ref="http://ehr.example/fhir/Patient/p1", start="2026-11-23T15:00:00Z", minutes=30),
    )


def run(engine: Engine, data: object, **options: Any) -> ImportReport:
    with unit_of_work(engine) as session:
        return import_bundle(session=session, bundle=data, site="main", **options)


def stored(engine: Engine) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    """Every patient and appointment as comparable tuples."""
    with read_session(engine) as session:
        patients = [
            (p.id, p.first_name, p.last_name, p.dob, p.phone, p.identifier_system, p.identifier_value)
            for p in session.exec(select(Patient).order_by(col(Patient.id))).all()
        ]
        appointments = [
            (a.id, a.patient_id, a.site, a.starts_at, a.minutes, a.clinician, a.status, a.external_id)
            for a in session.exec(select(Appointment).order_by(col(Appointment.id))).all()
        ]
    return patients, appointments


def test_a_schedule_creates_its_patients_and_appointments(engine: Engine) -> None:
    report = run(engine, schedule())
    assert (report.patients_created, report.appointments_created, report.changed) == (2, 3, 5)
    patients, appointments = stored(engine)
    assert [p[1:] for p in patients] == [
        ("Maria", "Gonzalez", date(1950, 4, 17), "+1 555 0100", MRN, "MRN0001"),  # the MR identifier, not the SSN
        ("John", "Smith", date(1962, 1, 5), None, MRN, "MRN0002"),
    ]
    maria, john = patients[0][0], patients[1][0]
    assert [a[1:] for a in appointments] == [
        (maria, "main", START_UTC, 45, "Alex Kim", "scheduled", f"{APPOINTMENTS}|a1"),
        (john, "main", datetime(2026, 11, 23, 10, 0, tzinfo=UTC), 45, "Alex Kim", "scheduled", f"{APPOINTMENTS}|a2"),
        (maria, "main", datetime(2026, 11, 23, 15, 0, tzinfo=UTC), 30, "Alex Kim", "scheduled", f"{APPOINTMENTS}|a3"),
    ]


def test_the_same_bundle_twice_changes_nothing(engine: Engine) -> None:
    run(engine, schedule())
    before = stored(engine)
    again = run(engine, schedule())
    assert again.changed == 0 and again.unchanged == 5
    assert stored(engine) == before


def test_a_moved_appointment_and_a_renamed_patient_are_updated_in_place(engine: Engine) -> None:
    run(engine, schedule())
    changed = schedule()
    changed["entry"][0]["resource"]["name"][0]["family"] = "Gonzalez-Ruiz"
    changed["entry"][2]["resource"].update(start="2026-11-23T12:00:00+01:00", minutesDuration=60)
    report = run(engine, changed)
    assert (report.patients_updated, report.appointments_moved, report.appointments_created) == (1, 1, 0)
    patients, appointments = stored(engine)
    assert patients[0][2] == "Gonzalez-Ruiz" and len(patients) == 2
    assert appointments[0][3:5] == (datetime(2026, 11, 23, 11, 0, tzinfo=UTC), 60) and len(appointments) == 3


def test_a_cancelled_appointment_is_removed_unless_the_patient_has_checked_in(engine: Engine) -> None:
    run(engine, schedule())
    _, appointments = stored(engine)
    with unit_of_work(engine) as session:
        set_appointment_status(session=session, appointment_id=appointments[1][0], status="arrived")
    cancelled = schedule()
    for index in (2, 3):
        cancelled["entry"][index]["resource"]["status"] = "cancelled"
    report = run(engine, cancelled)
    assert report.appointments_cancelled == 1
    assert report.notes == [
        "Bundle.entry[3] (http://ehr.example/fhir/Appointment/a2): cancelled in the EHR but kept here: "
        "the patient has checked in (arrived)"
    ]
    assert [a[-1] for a in stored(engine)[1]] == [f"{APPOINTMENTS}|a2", f"{APPOINTMENTS}|a3"]
    assert run(engine, cancelled).changed == 0  # cancelling again: nothing left to do


def test_a_no_show_in_the_ehr_marks_a_scheduled_appointment(engine: Engine) -> None:
    run(engine, schedule())
    noshow = schedule()
    noshow["entry"][2]["resource"]["status"] = "noshow"
    assert run(engine, noshow).appointments_no_show == 1
    assert stored(engine)[1][0][6] == "no_show"


def test_a_patient_registered_here_first_is_matched_by_the_identifier_staff_gave_them(engine: Engine) -> None:
    with unit_of_work(engine) as session:
        local = add_patient(session=session, first="Maria", last="Gonzalez", dob="1950-04-17", phone="555 0199")
    assert local.id is not None
    with unit_of_work(engine) as session:
        set_identifier(session=session, patient_id=local.id, identifier=parse_identifier(f"{MRN}|MRN0001"))
    report = run(engine, schedule())
    assert (report.patients_created, report.patients_updated) == (1, 1)  # John is new; Maria's phone came along
    patients, appointments = stored(engine)
    assert patients[0][0] == local.id and patients[0][4] == "+1 555 0100"
    assert appointments[0][1] == local.id


def test_an_appointment_may_name_a_known_patient_by_identifier_only(engine: Engine) -> None:
    run(engine, schedule())
    later = appointment("a9", patient_ref="Patient/p1", start=START)
    later["participant"][0]["actor"] = {"type": "Patient", "identifier": {"system": MRN, "value": "MRN0002"}}
    report = run(engine, bundle(later))
    assert report.appointments_created == 1
    assert stored(engine)[1][-1][1] == stored(engine)[0][1][0]  # John's


def test_identifier_system_chooses_which_identifier_a_new_patient_keeps(engine: Engine) -> None:
    run(engine, bundle(patient("p1", mrn="MRN0001")), identifier_system="http://hl7.org/fhir/sid/us-ssn")
    assert stored(engine)[0][0][5:] == ("http://hl7.org/fhir/sid/us-ssn", "999-00-0001")


Change = Callable[[dict[str, Any]], None]


def _set(index: int, path: str, value: object) -> Change:
    def change(data: dict[str, Any]) -> None:
        target = data["entry"][index]["resource"]
        *parents, last = path.split(".")
        for name in parents:
            target = target[name] if not name.isdigit() else target[int(name)]
        if value is None:
            del target[int(last) if last.isdigit() else last]
        else:
            target[int(last) if last.isdigit() else last] = value

    return change


def _add(resource: dict[str, Any]) -> Change:
    return lambda data: data["entry"].append({"fullUrl": "urn:uuid:7f8e1d2c-0000-4000-8000-000000000001",
                                              "resource": resource})  # fmt: skip


A1 = "Bundle.entry[2] (http://ehr.example/fhir/Appointment/a1)"
P1 = "Bundle.entry[0] (http://ehr.example/fhir/Patient/p1)"
NOTHING = "; nothing was imported"
ERRORS = [
    (_set(2, "start", None), f"{A1}: Appointment.start is missing"),
    (_set(2, "start", "2026-11-23 10:30"), f"{A1}: Appointment.start '2026-11-23 10:30' is not an instant like "
                                           "2026-11-23T10:30:00+01:00 (with its time zone)"),
    (_set(2, "start", "2026-11-23T10:30:00"), f"{A1}: Appointment.start '2026-11-23T10:30:00' is not an instant like "
                                              "2026-11-23T10:30:00+01:00 (with its time zone)"),
    (_set(2, "status", "done"), f"{A1}: Appointment.status 'done' is not an R4 appointment status"),
    (_set(2, "minutesDuration", 600), f"{A1}: the appointment's length 600 min is not between 5 and 480 minutes"),
    (_set(2, "minutesDuration", "45"), f"{A1}: Appointment.minutesDuration '45' is not a whole number"),
    (_set(2, "participant", []), f"{A1}: Appointment.participant is missing"),
    (_set(2, "participant.0", None), f"{A1}: Appointment.participant has no Patient"),
    (_set(2, "participant.1.actor", {"reference": "Patient/p2"}),
     f"{A1}: Appointment.participant has more than one Patient (group appointments are not imported)"),
    (_set(2, "participant.0.actor.reference", "Patient/p7"),
     f"{A1}: the Appointment's patient Patient/p7 is neither in the Bundle nor known here by identifier "
     "(a search needs _include=Appointment:patient)"),
    (_set(3, "identifier.0.value", "a1"),
     f"Bundle.entry[3] (http://ehr.example/fhir/Appointment/a2): the same appointment as {A1}"),
    (_set(0, "identifier", [{"value": "MRN0001"}]),
     f"{P1}: Patient has no identifier with both a system and a value, so it cannot be matched again"),
    (_set(0, "name", None), f"{P1}: Patient.name is missing"),
    (_set(0, "name.0.given", None), f"{P1}: Patient.name needs a given name and a family name"),
    (_set(0, "birthDate", "1950"), f"{P1}: Patient.birthDate '1950' is not a full date like 1950-04-17"),
    (_set(0, "birthDate", "1850-01-01"), f"{P1}: Patient.birthDate 1850-01-01 is not a plausible birth date"),
    (_add({"resourceType": "Appointment", "status": "booked", "start": START,
           "participant": [{"actor": {"reference": "Patient/p1"}}]}),
     "Bundle.entry[5] (urn:uuid:7f8e1d2c-0000-4000-8000-000000000001): Appointment has neither an identifier nor "
     "an id, so a second import could not find it"),
    (lambda data: data["entry"].append({"fullUrl": "x"}), "Bundle.entry[5] (x): the entry has no resource with a "
                                                          "resourceType"),
    (lambda data: data.update(resourceType="Patient"), "expected a FHIR Bundle, got 'Patient'"),
]  # fmt: skip


@pytest.mark.parametrize(("change", "message"), ERRORS, ids=[m.split(": ", 1)[-1][:40] for _, m in ERRORS])
def test_a_bad_entry_is_named_with_its_reason_and_nothing_is_imported(
    engine: Engine, change: Change, message: str
) -> None:
    data = copy.deepcopy(schedule())
    change(data)
    with pytest.raises(BundleRefused) as refused:
        run(engine, data)
    assert str(refused.value) == message + NOTHING
    assert stored(engine) == ([], [])


def test_a_refusal_found_after_writing_rolls_everything_back(engine: Engine) -> None:
    """Two stored patients both match one Patient of the Bundle: found after the first entries were written."""
    run(engine, bundle(patient("p2", mrn="MRN0002")))
    with unit_of_work(engine) as session:
        other = add_patient(session=session, first="Maria", last="G", dob="1950-04-17")
    assert other.id is not None
    with unit_of_work(engine) as session:
        set_identifier(session=session, patient_id=other.id, identifier=parse_identifier(f"{MRN}|MRN0001"))
    before = stored(engine)
    twins = schedule()
    twins["entry"][0]["resource"]["identifier"][0] = {"system": MRN, "value": "MRN0002"}
    order = [twins["entry"][i] for i in (1, 0, 2, 3, 4)]  # John (an update) is written first
    twins["entry"] = order
    order[0]["resource"]["name"][0]["family"] = "Smithson"
    with pytest.raises(BundleRefused, match=r"its identifiers match several patients \(1, 2\)"):
        run(engine, twins)
    assert stored(engine) == before
