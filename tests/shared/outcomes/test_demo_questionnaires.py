"""The demo seed assigns the pain rating and the PSFS to every demo patient, so the lobby asks both at today's
check-in, and gives Maria two earlier scores for the staff page's chart (both backends)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine

from shared.care.models import Appointment
from shared.demo.patients import DEMO_PATIENTS, seed_demo_patients
from shared.outcomes.progress import patient_outcomes
from shared.outcomes.schedule import due_at_visit
from shared.store.db import read_session, unit_of_work
from shared.store.settings import Settings

AT = datetime(2026, 11, 23, 15, 30, tzinfo=UTC)


def test_demo_patients_are_asked_both_questionnaires_today(engine: Engine, tmp_path: object) -> None:
    cfg = Settings(_env_file=None, timezone="UTC", kiosk_url="https://lobby.example",  # type: ignore[call-arg]
                   data_dir=str(tmp_path))  # fmt: skip
    cards = seed_demo_patients(engine=engine, settings=cfg, now=AT)
    assert len(cards) == len(DEMO_PATIENTS)
    maria = next(card.patient_id for demo, card in cards if demo.first == "Maria")
    with unit_of_work(engine) as session:
        today = Appointment(patient_id=maria, site="main", starts_at=AT, status="arrived", arrived_at=AT)
        session.add(today)
        session.flush()
        visit = today.id
    assert visit is not None
    with read_session(engine) as session:
        due = due_at_visit(session=session, patient_id=maria, appointment_id=visit, now=AT + timedelta(minutes=1),
                           tz=UTC)  # fmt: skip
        progress = {p.questionnaire: [point.score for point in p.points]
                    for p in patient_outcomes(session=session, patient_id=maria)}  # fmt: skip
    assert [d.instrument.code for d in due] == ["nprs", "psfs"]
    assert [q.activity for q in due[1].questions] == ["Climbing stairs", "Walking to the shops",
                                                      "Getting up from a chair"]  # fmt: skip
    assert progress == {"nprs": [6, 5], "psfs": [3.0]}
