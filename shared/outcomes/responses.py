"""Answers at the lobby: each answer is kept at once against the visit (so a reset screen resumes where it was),
the last one completes the QuestionnaireResponse with its score; "Ask me at the desk" skips it for this visit."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from shared.outcomes.alerts import note_pain
from shared.outcomes.catalogue import get_instrument
from shared.outcomes.questionnaire_models import QuestionnaireAnswerRow, QuestionnaireAssignment
from shared.outcomes.schedule import questions
from shared.outcomes.scoring import check_answer, score
from shared.store.errors import NotFound, ValidationFailed
from shared.store.types import utcnow

PAIN_QUESTIONNAIRES = ("nprs",)  # a pain rating: its answer goes to the therapist's alerts (7 or more flags)


@dataclass(frozen=True, slots=True)
class Answered:
    """Where a questionnaire stands after an answer: complete (with its score) or not yet."""

    complete: bool
    score: float | None


@dataclass(frozen=True, slots=True)
class ScoredResponse:
    """A completed QuestionnaireResponse as reports and the FHIR export read it."""

    id: int
    patient_id: int
    questionnaire: str
    appointment_id: int | None
    answers: dict[str, int]
    asked: dict[str, str]
    score: float | None
    authored_at: datetime


def answer(
    *,
    session: Session,
    patient_id: int,
    appointment_id: int,
    questionnaire: str,
    link_id: str,
    value: int,
    now: datetime | None = None,
    site: str | None = None,
) -> Answered:
    """Keep one answer of a questionnaire asked at this visit; the last one scores and completes it. An item
    already answered keeps its answer (a second tap that reaches the server late, as the next question shows)."""
    now = now or utcnow()
    assigned = session.exec(select(QuestionnaireAssignment).where(
        QuestionnaireAssignment.patient_id == patient_id,
        QuestionnaireAssignment.questionnaire == questionnaire)).first()  # fmt: skip
    if assigned is None:
        raise NotFound(f"patient {patient_id} is not asked {questionnaire!r}")
    instrument = get_instrument(session=session, code=questionnaire)
    asked = questions(instrument, tuple(json.loads(assigned.activities)) if assigned.activities else ())
    question = next((q for q in asked if q.item.link_id == link_id), None)
    if question is None:
        raise ValidationFailed(f"{link_id!r} is not asked in {questionnaire!r}")
    points = check_answer(question.item, value)
    row = _row_at_visit(session, patient_id, appointment_id, questionnaire, now)
    if row.status != "in-progress":
        raise ValidationFailed(f"{questionnaire!r} is already {row.status} at this visit")
    kept = json.loads(row.answers)
    if link_id in kept:  # the first answer stands: a tap on a screen that has already moved on changes nothing
        return Answered(False, None)
    answers = {**kept, link_id: points}
    row.answers = json.dumps(answers)
    row.asked = json.dumps({q.item.link_id: q.activity for q in asked if q.activity}, ensure_ascii=False) or None
    if questionnaire in PAIN_QUESTIONNAIRES:
        note_pain(session=session, patient_id=patient_id, value=points, source="questionnaire", now=now, site=site)
    complete = all(q.item.link_id in answers for q in asked)
    if complete:
        row.status, row.score, row.authored_at = "completed", score(instrument, answers), now
    session.add(row)
    return Answered(complete, row.score)


def skip(
    *, session: Session, patient_id: int, appointment_id: int, questionnaire: str, now: datetime | None = None
) -> None:
    """The patient's "Ask me at the desk": not asked again at this visit (answers given so far stay, unscored)."""
    row = _row_at_visit(session, patient_id, appointment_id, questionnaire, now or utcnow())
    if row.status == "in-progress":
        row.status = "skipped"
        session.add(row)


def _row_at_visit(
    session: Session, patient_id: int, appointment_id: int, questionnaire: str, now: datetime
) -> QuestionnaireAnswerRow:
    """This visit's response (started now when there is none yet)."""
    query = select(QuestionnaireAnswerRow).where(QuestionnaireAnswerRow.appointment_id == appointment_id,
                                                 QuestionnaireAnswerRow.questionnaire == questionnaire)  # fmt: skip
    row = session.exec(query).first()
    if row is not None:
        if row.patient_id != patient_id:
            raise ValidationFailed("that visit is another patient's")
        return row
    row = QuestionnaireAnswerRow(patient_id=patient_id, questionnaire=questionnaire, appointment_id=appointment_id,
                                 status="in-progress", answers="{}", started_at=now)  # fmt: skip
    try:
        with session.begin_nested():  # two kiosks answering at once: the second reads the first's row
            session.add(row)
            session.flush()
    except IntegrityError:
        found = session.exec(query).first()
        assert found is not None
        return found
    return row


def completed(
    *, session: Session, patient_ids: list[int] | None = None, since: datetime | None = None,
    until: datetime | None = None,
) -> list[ScoredResponse]:
    """Completed responses, oldest first, for these patients and this time range."""
    query = select(QuestionnaireAnswerRow).where(QuestionnaireAnswerRow.status == "completed")
    if patient_ids is not None:
        query = query.where(col(QuestionnaireAnswerRow.patient_id).in_(patient_ids))
    if since is not None:
        query = query.where(col(QuestionnaireAnswerRow.authored_at) >= since)
    if until is not None:
        query = query.where(col(QuestionnaireAnswerRow.authored_at) < until)
    rows = session.exec(query.order_by(col(QuestionnaireAnswerRow.authored_at), col(QuestionnaireAnswerRow.id)))
    out = []
    for row in rows.all():
        assert row.id is not None and row.authored_at is not None
        out.append(ScoredResponse(row.id, row.patient_id, row.questionnaire, row.appointment_id,
                                  json.loads(row.answers), json.loads(row.asked) if row.asked else {}, row.score,
                                  row.authored_at))  # fmt: skip
    return out
