"""The Patients page keeps a patient's EHR identifier (SYSTEM|VALUE) that FHIR imports match on."""

from __future__ import annotations

from sqlalchemy import Engine

from shared.care.patients import get_patient
from shared.store.db import read_session
from tests import factories as make
from tests.kiosk.staff_app import add_staff, click, errors, open_page, successes

MRN = "http://ehr.example/mrn"


def test_staff_set_change_and_clear_a_patients_ehr_identifier(engine: Engine, care_env: None) -> None:
    add_staff(engine, "desk", "front_desk")
    maria = make.new_patient_id(engine, "Maria", "Gonzalez")
    john = make.new_patient_id(engine, "John", "Smith")
    app = open_page("desk", "patients.py")
    app.text_input(key="patients_search").set_value(f"#{maria}")
    app.run()
    app.text_input(key=f"edit_identifier_{maria}").set_value(f" {MRN}|MRN0001 ")
    click(app, f"edit_save_{maria}")
    assert successes(app) == [f"Saved the changes to patient #{maria}."]
    with read_session(engine) as session:
        saved = get_patient(session=session, patient_id=maria)
    assert (saved.identifier_system, saved.identifier_value) == (MRN, "MRN0001")

    app.text_input(key="patients_search").set_value(f"#{john}")
    app.run()
    app.text_input(key=f"edit_identifier_{john}").set_value(f"{MRN}|MRN0001")
    app.text_input(key=f"edit_last_{john}").set_value("Smithson")
    click(app, f"edit_save_{john}")
    assert errors(app) == [f"Identifier {MRN}|MRN0001 already belongs to patient {maria}"]
    with read_session(engine) as session:
        assert get_patient(session=session, patient_id=john).last_name == "Smith", "a refused identifier saves nothing"

    app.text_input(key="patients_search").set_value(f"#{maria}")
    app.run()
    app.text_input(key=f"edit_identifier_{maria}").set_value("")
    click(app, f"edit_save_{maria}")
    with read_session(engine) as session:
        assert get_patient(session=session, patient_id=maria).identifier_value is None
    assert [action for _, action, _, _ in make.audit_log(engine)] == ["patient.identifier", "patient.identifier"]
