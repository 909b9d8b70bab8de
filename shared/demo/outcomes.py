"""Demo questionnaires: every demo patient is asked the pain rating at every visit and the PSFS every 14 days,
and Maria has two earlier visits' answers, so the lobby asks both today and the staff page has a trend to chart."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlmodel import Session

from shared.care.models import Appointment
from shared.outcomes.responses import answer
from shared.outcomes.schedule import assign

ACTIVITIES = {
    "Maria": ("Climbing stairs", "Walking to the shops", "Getting up from a chair"),
    "James": ("Kneeling in the garden", "Carrying the shopping"),
    "Ruth": ("Walking with my stick", "Getting in and out of the car"),
    "Sam": ("Running 5 km", "Squatting to lift boxes"),
}
HISTORY = {"Maria": ((14, 6, (3, 4, 2)), (7, 5, None))}  # days ago, pain, PSFS ratings (None: not asked)
ACTOR = "demo"


def seed_demo_outcomes(*, session: Session, patient_id: int, first: str, site: str, now: datetime) -> None:
    """Assign the demo questionnaires (and Maria's earlier answers) in the caller's transaction."""
    activities = list(ACTIVITIES.get(first, ("Walking", "Climbing stairs")))
    assign(session=session, patient_id=patient_id, questionnaire="nprs", every_visits=1, actor=ACTOR, now=now)
    assign(session=session, patient_id=patient_id, questionnaire="psfs", at_intake=True, every_days=14,
           activities=activities, actor=ACTOR, now=now)  # fmt: skip
    for days_ago, pain, ratings in HISTORY.get(first, ()):
        at = (now - timedelta(days=days_ago)).replace(second=0, microsecond=0)
        visit = Appointment(patient_id=patient_id, site=site, starts_at=at, status="done", arrived_at=at)
        session.add(visit)
        session.flush()
        assert visit.id is not None
        answer(session=session, patient_id=patient_id, appointment_id=visit.id, questionnaire="nprs", link_id="pain",
               value=pain, now=at, site=site)  # fmt: skip
        for number, rating in enumerate(ratings or (), start=1):
            answer(session=session, patient_id=patient_id, appointment_id=visit.id, questionnaire="psfs",
                   link_id=f"activity-{number}", value=rating, now=at)  # fmt: skip
