"""The day's FHIR export with questionnaires (SQLite and PostgreSQL): each completed questionnaire is a
QuestionnaireResponse with its answers, and its score an Observation derived from it; all valid R4."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import Engine

from shared.fhir.exporter import as_transaction
from shared.outcomes.responses import answer
from shared.outcomes.schedule import assign
from shared.store.db import unit_of_work
from tests.fhir_support import validate_bundle, validate_r4
from tests.shared.fhir.test_fhir_export import NOW, checked_in, export, of_type

__all__ = ["checked_in"]  # the fixture: Maria's imported appointment, checked in at 15:00


def test_completed_questionnaires_export_as_responses_and_score_observations(engine: Engine, checked_in: int) -> None:
    maria, at = 1, NOW + timedelta(minutes=2)
    with unit_of_work(engine) as session:
        assign(session=session, patient_id=maria, questionnaire="nprs", every_visits=1, actor="t")
        assign(session=session, patient_id=maria, questionnaire="psfs", at_intake=True,
               activities=["Climbing stairs", "Gardening", "Walking the dog"], actor="t")  # fmt: skip
    with unit_of_work(engine) as session:
        answer(session=session, patient_id=maria, appointment_id=checked_in, questionnaire="nprs", link_id="pain",
               value=5, now=at)  # fmt: skip
        for n, value in enumerate([3, 5, 6], start=1):
            answer(session=session, patient_id=maria, appointment_id=checked_in, questionnaire="psfs",
                   link_id=f"activity-{n}", value=value, now=at)  # fmt: skip
    exported = export(engine)
    resources = validate_bundle(exported)
    pain_answers, psfs_answers = of_type(resources, "QuestionnaireResponse")
    assert pain_answers["questionnaire"] == "https://clinic-checkin.example/fhir/Questionnaire/nprs"
    assert (pain_answers["status"], pain_answers["authored"]) == ("completed", "2026-11-23T15:02:00Z")
    assert pain_answers["item"][0]["answer"] == [{"valueInteger": 5}]
    assert [(i["text"], i["answer"][0]["valueInteger"]) for i in psfs_answers["item"]] == [
        ("Climbing stairs", 3), ("Gardening", 5), ("Walking the dog", 6)]  # fmt: skip
    visit = next(e["fullUrl"] for e in exported["entry"] if e["resource"]["resourceType"] == "Encounter")
    assert pain_answers["encounter"]["reference"] == visit
    scores = [o for o in of_type(resources, "Observation") if "derivedFrom" in o]
    assert [(o["code"]["text"], o["valueQuantity"]["value"]) for o in scores] == [
        ("Pain rating (0-10) score", 5), ("Patient-Specific Functional Scale score", 4.67)]  # fmt: skip
    assert scores[0]["code"]["coding"][0]["code"] == "72514-3"
    urls = {e["resource"]["identifier"]["value"] if isinstance(e["resource"]["identifier"], dict) else "":
            e["fullUrl"] for e in exported["entry"]}  # fmt: skip
    assert scores[1]["derivedFrom"][0]["reference"] in urls.values()
    pushed = as_transaction(exported)
    validate_r4(pushed)
    kinds = [(e["resource"]["resourceType"], e["request"]["url"]) for e in pushed["entry"]]
    requests = [url for kind, url in kinds if kind == "QuestionnaireResponse"]
    assert all(url.startswith("QuestionnaireResponse?identifier=urn") for url in requests) and len(requests) == 2
