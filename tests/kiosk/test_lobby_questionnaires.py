"""Questionnaires at the lobby after check-in (AppTest, both backends): a due questionnaire is asked one question
a screen, answers are kept against the visit and resumed after the screen resets, "Ask me at the desk" skips it,
"See my plan" goes to the plan, Spanish patients read Spanish, and a patient with nothing due goes straight to
the plan."""

from __future__ import annotations

import json

from sqlalchemy import Engine, select
from streamlit.testing.v1 import AppTest

from shared.care.patient_language import set_language
from shared.outcomes.alerts import open_alerts
from shared.outcomes.catalogue import add_questionnaire
from shared.outcomes.questionnaire_models import QuestionnaireAnswerRow
from shared.outcomes.schedule import assign
from shared.store.db import read_session, unit_of_work
from tests.factories import DOB
from tests.kiosk.lobby_app import enter_dob, new_app, scan, shown, texts
from tests.shared.outcomes.test_questionnaire_scoring import _lefs_like

ACTIVITIES = ["Climbing stairs", "Gardening"]


def _assign_both(engine: Engine, patient_id: int) -> None:
    with unit_of_work(engine) as session:
        assign(session=session, patient_id=patient_id, questionnaire="nprs", every_visits=1, actor="cli:test")
        assign(session=session, patient_id=patient_id, questionnaire="psfs", at_intake=True, activities=ACTIVITIES,
               actor="cli:test")  # fmt: skip


def _checked_in(card_url: str) -> AppTest:
    app = new_app()
    scan(app, card_url)
    enter_dob(app, DOB)
    return app


def _responses(engine: Engine) -> dict[str, tuple[str, dict[str, int], float | None]]:
    with read_session(engine) as session:
        rows = session.execute(select(QuestionnaireAnswerRow)).scalars().all()
        return {r.questionnaire: (r.status, json.loads(r.answers), r.score) for r in rows}


def _tap(app: AppTest, key: str) -> None:
    app.button(key=key).click()
    app.run()


def test_due_questionnaires_are_asked_then_resumed_after_a_reset(engine: Engine, patient_id: int,
                                                                  card_url: str) -> None:  # fmt: skip
    _assign_both(engine, patient_id)
    app = _checked_in(card_url)
    assert not app.exception
    assert shown(app.title[0].value) == "Pain rating (0-10)"
    assert "Question 1 of 1" in texts(app)
    assert "How much pain do you have right now?" in texts(app)
    assert [app.button(key=f"q_nprs_pain_{n}").label for n in range(11)] == [str(n) for n in range(11)]
    _tap(app, "q_nprs_pain_8")
    assert shown(app.title[0].value) == "Patient-Specific Functional Scale"
    assert shown(app.header[0].value) == "Climbing stairs"
    assert "Question 1 of 2" in texts(app)
    _tap(app, "q_psfs_activity-1_4")
    assert shown(app.header[0].value) == "Gardening"
    assert _responses(engine) == {"nprs": ("completed", {"pain": 8}, 8.0),
                                  "psfs": ("in-progress", {"activity-1": 4}, None)}  # fmt: skip
    with read_session(engine) as session:
        assert [(a.patient_id, a.value) for a in open_alerts(session=session)] == [(patient_id, 8)]

    again = _checked_in(card_url)  # the screen reset (a new session): the next scan resumes, pain is not re-asked
    assert shown(again.title[0].value) == "Patient-Specific Functional Scale"
    assert shown(again.header[0].value) == "Gardening"
    assert "Question 2 of 2" in texts(again)
    _tap(again, "q_psfs_activity-2_6")
    assert shown(again.title[0].value) == "You're checked in"
    assert "Treadmill walk" in texts(again)
    assert _responses(engine)["psfs"] == ("completed", {"activity-1": 4, "activity-2": 6}, 5.0)


def test_ask_me_at_the_desk_skips_and_see_my_plan_leaves_it_for_later(engine: Engine, patient_id: int,
                                                                       card_url: str) -> None:  # fmt: skip
    _assign_both(engine, patient_id)
    app = _checked_in(card_url)
    assert app.button(key="q_skip").label == "Ask me at the desk"
    _tap(app, "q_skip")
    assert shown(app.title[0].value) == "Patient-Specific Functional Scale"  # the pain rating is skipped for this visit
    _tap(app, "q_plan")
    assert shown(app.title[0].value) == "You're checked in"
    assert "Treadmill walk" in texts(app)
    assert _responses(engine) == {"nprs": ("skipped", {}, None)}
    again = _checked_in(card_url)
    assert shown(again.title[0].value) == "Patient-Specific Functional Scale"  # still due: left for later, not skipped


def test_a_spanish_speaking_patient_reads_the_questions_in_spanish(engine: Engine, patient_id: int,
                                                                   card_url: str) -> None:  # fmt: skip
    _assign_both(engine, patient_id)
    with unit_of_work(engine) as session:
        set_language(session=session, patient_id=patient_id, code="es", actor="cli:test")
    app = _checked_in(card_url)
    assert shown(app.title[0].value) == "Dolor (0-10)"
    assert "Pregunta 1 de 1" in texts(app)
    assert "¿Cuánto dolor tiene ahora mismo?" in texts(app)
    assert app.button(key="q_skip").label == "Pregúntenme en recepción"
    assert app.button(key="q_plan").label == "Ver mi plan"


def test_nothing_due_goes_straight_to_the_plan(engine: Engine, patient_id: int, card_url: str) -> None:
    app = _checked_in(card_url)
    assert shown(app.title[0].value) == "You're checked in"
    assert shown(app.success[0].value).startswith("Welcome, Maria G.")
    assert _responses(engine) == {}


def test_a_clinics_own_questionnaire_asks_choices_as_labelled_buttons_and_a_long_scale_as_a_number(
    engine: Engine, patient_id: int, card_url: str
) -> None:
    options = [{"valueCoding": {"code": str(n), "display": label}}
               for n, label in enumerate(["Unable", "Quite a bit of difficulty", "No difficulty"])]  # fmt: skip
    resource = _lefs_like(id="walking", title="Walking", extension=_lefs_like()["extension"], item=[
        {"linkId": "stairs", "type": "choice", "text": "Going up 10 stairs", "answerOption": options},
        {"linkId": "metres", "type": "integer", "text": "How far can you walk, in tens of metres?",
         "extension": [{"url": "http://hl7.org/fhir/StructureDefinition/minValue", "valueInteger": 0},
                       {"url": "http://hl7.org/fhir/StructureDefinition/maxValue", "valueInteger": 100}]},
    ])  # fmt: skip
    resource["extension"][0]["extension"][5]["valueInteger"] = 2
    with unit_of_work(engine) as session:
        add_questionnaire(session=session, resource=resource, actor="cli:test")
        assign(session=session, patient_id=patient_id, questionnaire="walking", every_days=7, actor="cli:test")
    app = _checked_in(card_url)
    assert shown(app.title[0].value) == "Walking"
    assert [app.button(key=f"q_walking_stairs_{n}").label for n in range(3)] == [
        "Unable", "Quite a bit of difficulty", "No difficulty"]  # fmt: skip
    _tap(app, "q_walking_stairs_1")
    assert "How far can you walk, in tens of metres?" in texts(app)
    _tap(app, "q_walking_metres_next")
    assert [w.value for w in app.warning] == ["Please type a number from 0 to 100."]
    app.number_input(key="q_walking_metres_number").set_value(35)
    _tap(app, "q_walking_metres_next")
    assert shown(app.title[0].value) == "You're checked in"
    assert _responses(engine) == {"walking": ("completed", {"stairs": 1, "metres": 35}, 36.0)}
