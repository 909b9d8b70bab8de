"""Patients' feedback after a session, given at the lobby: pain now (0-10) and how hard the session was,
optionally per exercise. Staff see it next to the appointment; a pain of PAIN_ALERT or more is highlighted."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, tzinfo

from sqlmodel import Session, col, select

from shared.care.checkin import ARRIVED_STATUSES
from shared.care.models import Appointment, SessionFeedback
from shared.store.errors import NotFound, ValidationFailed
from shared.store.types import utcnow

DIFFICULTIES = ("easy", "about_right", "too_hard")
DIFFICULTY_WORDS = {"easy": "easy", "about_right": "about right", "too_hard": "too hard"}
PAIN_SCALE = range(0, 11)
PAIN_ALERT = 7  # pain now at or above this is highlighted for the clinician
MAX_EXERCISES = 50
MAX_EXERCISE_NAME = 120


@dataclass(frozen=True, slots=True)
class Feedback:
    """One patient's answers after one session."""

    id: int
    appointment_id: int
    patient_id: int
    at: datetime
    pain: int
    difficulty: str
    exercises: dict[str, str] = field(default_factory=dict)  # exercise name -> difficulty

    @property
    def pain_alert(self) -> bool:
        """Pain high enough for the clinician to look at before the patient leaves."""
        return pain_alert(self.pain)


def pain_alert(pain: int) -> bool:
    """Whether a pain score is highlighted for the clinician (PAIN_ALERT or more)."""
    return pain >= PAIN_ALERT


def record_feedback(
    *,
    session: Session,
    appointment_id: int,
    patient_id: int,
    pain: int,
    difficulty: str,
    exercises: Mapping[str, str] | None = None,
    now: datetime | None = None,
) -> Feedback:
    """Store a patient's answers for an appointment they checked in for (answering again adds a newer row;
    staff see the latest)."""
    _check_pain(pain)
    _check_difficulty(difficulty)
    per_exercise = _exercises(exercises or {})
    _appointment(session.get(Appointment, appointment_id), patient_id)
    row = SessionFeedback(
        appointment_id=appointment_id,
        patient_id=patient_id,
        at=now or utcnow(),
        pain=pain,
        difficulty=difficulty,
        exercises=json.dumps(per_exercise) if per_exercise else None,
    )
    session.add(row)
    session.flush()
    return _view(row)


def add_exercise_feedback(
    *,
    session: Session,
    feedback_id: int,
    patient_id: int,
    exercises: Mapping[str, str],
) -> Feedback:
    """The optional second step: how hard each exercise was, added to the answers just given."""
    per_exercise = _exercises(exercises)
    row = session.get(SessionFeedback, feedback_id)
    if row is None or row.patient_id != patient_id:
        raise NotFound(f"no feedback {feedback_id} from this patient")
    row.exercises = json.dumps(per_exercise) if per_exercise else None
    session.add(row)
    session.flush()
    return _view(row)


def latest_feedback(*, session: Session, appointment_ids: Iterable[int]) -> dict[int, Feedback]:
    """The newest answers for each of these appointments (those without any are left out)."""
    ids = list(appointment_ids)
    if not ids:
        return {}
    query = (
        select(SessionFeedback)
        .where(col(SessionFeedback.appointment_id).in_(ids))
        .order_by(col(SessionFeedback.at), col(SessionFeedback.id))
    )
    return {row.appointment_id: _view(row) for row in session.exec(query).all()}


def describe_feedback(feedback: Feedback, tz: tzinfo) -> str:
    """'Feedback at 11:02: pain 8/10, too hard' in plain words."""
    at = feedback.at.astimezone(tz).strftime("%H:%M")
    return f"Feedback at {at}: pain {feedback.pain}/10, {DIFFICULTY_WORDS[feedback.difficulty]}"


def describe_exercises(feedback: Feedback) -> str:
    """'Treadmill walk: easy · Heel raises: too hard', or '' when the patient skipped that step."""
    return " · ".join(f"{name}: {DIFFICULTY_WORDS.get(value, value)}" for name, value in feedback.exercises.items())


def _check_pain(pain: object) -> None:
    if isinstance(pain, bool) or not isinstance(pain, int) or pain not in PAIN_SCALE:
        raise ValidationFailed(f"pain must be a whole number from 0 to 10, not {pain!r}")


def _check_difficulty(difficulty: object) -> None:
    if difficulty not in DIFFICULTIES:
        raise ValidationFailed(f"difficulty must be one of {', '.join(DIFFICULTIES)}, not {difficulty!r}")


def _exercises(exercises: Mapping[str, str]) -> dict[str, str]:
    """Per-exercise answers, checked: at most MAX_EXERCISES names of 1-120 characters, each a difficulty."""
    if len(exercises) > MAX_EXERCISES:
        raise ValidationFailed(f"at most {MAX_EXERCISES} exercises")
    out: dict[str, str] = {}
    for name, difficulty in exercises.items():
        cleaned = " ".join(str(name).split())
        if not 0 < len(cleaned) <= MAX_EXERCISE_NAME:
            raise ValidationFailed(f"exercise name must be 1 to {MAX_EXERCISE_NAME} characters")
        _check_difficulty(difficulty)
        out[cleaned] = difficulty
    return out


def _appointment(appointment: Appointment | None, patient_id: int) -> Appointment:
    if appointment is None or appointment.patient_id != patient_id:
        raise NotFound("no such appointment for this patient")
    if appointment.status not in ARRIVED_STATUSES:
        raise ValidationFailed("feedback is for a session the patient checked in for")
    return appointment


def _view(row: SessionFeedback) -> Feedback:
    assert row.id is not None
    return Feedback(
        id=row.id,
        appointment_id=row.appointment_id,
        patient_id=row.patient_id,
        at=row.at,
        pain=row.pain,
        difficulty=row.difficulty,
        exercises=json.loads(row.exercises) if row.exercises else {},
    )
