"""The lobby's after-session answers as one use case: store the feedback (shared/care/feedback.py) and note its
pain and effort for the therapist's alerts, in the caller's transaction (care cannot call up into outcomes)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from sqlmodel import Session

from shared.care.feedback import Feedback, record_feedback
from shared.care.models import Appointment
from shared.outcomes.alerts import note_effort, note_pain
from shared.store.types import utcnow

VERY_HARD = "too_hard"  # the lobby's hardest answer ("Too hard")


def give_feedback(
    *,
    session: Session,
    appointment_id: int,
    patient_id: int,
    pain: int,
    difficulty: str,
    exercises: Mapping[str, str] | None = None,
    now: datetime | None = None,
) -> tuple[Feedback, bool]:
    """Store the answers; a pain of 7 or more or a "too hard" session flags the patient on Arrivals (once, until
    acknowledged). Returns the feedback and whether it raised an alert."""
    now = now or utcnow()
    saved = record_feedback(session=session, appointment_id=appointment_id, patient_id=patient_id, pain=pain,
                            difficulty=difficulty, exercises=exercises, now=now)  # fmt: skip
    appointment = session.get(Appointment, appointment_id)
    site = appointment.site if appointment is not None else None
    raised = note_pain(session=session, patient_id=patient_id, value=pain, source="lobby", now=now, site=site)
    raised = note_effort(session=session, patient_id=patient_id, very_hard=difficulty == VERY_HARD, source="lobby",
                         now=now, site=site) or raised  # fmt: skip
    return saved, raised
