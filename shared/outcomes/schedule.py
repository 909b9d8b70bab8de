"""When each questionnaire is due, per patient: every N visits, every N days, at intake, at discharge.

`assign` sets a patient's rule for one questionnaire (one row per patient and questionnaire: assigning again
replaces the rule). `is_due` is the rule itself (pure). `due_at_visit` is what the lobby asks after a check-in
(`due_after_check_in`, in the check-in's own transaction): for a patient with no assignment it is one query on an
indexed column and nothing more.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo

from sqlalchemy import func
from sqlmodel import Session, col, select

from shared.care.checkin import Outcome
from shared.care.models import Appointment, Patient
from shared.outcomes.catalogue import get_instrument
from shared.outcomes.instruments import Instrument, Item
from shared.outcomes.questionnaire_models import QuestionnaireAnswerRow, QuestionnaireAssignment
from shared.staff.audit import audit
from shared.store.errors import ClinicError, NotFound, ValidationFailed
from shared.store.types import utcnow

log = logging.getLogger(__name__)
MAX_EVERY = 365
MAX_ACTIVITY = 80


@dataclass(frozen=True, slots=True)
class Rule:
    """When a questionnaire is due for a patient."""

    every_visits: int | None = None
    every_days: int | None = None
    at_intake: bool = False
    discharge_from: datetime | None = None

    @property
    def words(self) -> str:
        """'every visit', 'every 3 visits, at discharge', ... for staff."""
        parts = []
        if self.at_intake:
            parts.append("at intake")
        if self.every_visits:
            parts.append("every visit" if self.every_visits == 1 else f"every {self.every_visits} visits")
        if self.every_days:
            parts.append("every day" if self.every_days == 1 else f"every {self.every_days} days")
        if self.discharge_from is not None:
            parts.append("at discharge (the next visit)")
        return ", ".join(parts)


@dataclass(frozen=True, slots=True)
class Assignment:
    """A questionnaire a patient is asked, with its rule and (PSFS) the activities they named."""

    questionnaire: str
    title: str
    rule: Rule
    activities: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Question:
    """One question as the lobby asks it: the item and, for a patient-named item, the activity."""

    item: Item
    activity: str | None = None


@dataclass(frozen=True, slots=True)
class DueQuestionnaire:
    """A questionnaire due at this visit, with the questions to ask and the answers already given."""

    instrument: Instrument
    questions: tuple[Question, ...]
    answers: dict[str, int]

    @property
    def next_question(self) -> Question | None:
        """The first question not answered yet (None: all answered)."""
        return next((q for q in self.questions if q.item.link_id not in self.answers), None)


def questions(instrument: Instrument, activities: tuple[str, ...]) -> tuple[Question, ...]:
    """The questions to ask: every item, and a patient-named item only for an activity the patient named."""
    out, named = [], iter(activities)
    for item in instrument.items:
        if not item.patient_named:
            out.append(Question(item))
        elif (activity := next(named, None)) is not None:
            out.append(Question(item, activity))
    return tuple(out)


def is_due(rule: Rule, *, last_done: datetime | None, visits_since: int, now: datetime, tz: tzinfo) -> bool:
    """Whether the rule asks now, given the last completed answer and the visits since (this one included)."""
    if rule.discharge_from is not None and (last_done is None or last_done < rule.discharge_from):
        return True
    if last_done is None:
        return rule.at_intake or bool(rule.every_visits) or bool(rule.every_days)
    if rule.every_visits and visits_since >= rule.every_visits:
        return True
    days = (now.astimezone(tz).date() - last_done.astimezone(tz).date()).days
    return bool(rule.every_days) and days >= (rule.every_days or 0)


def _count(value: int | None, flag: str) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not 1 <= value <= MAX_EVERY:
        raise ValidationFailed(f"{flag} must be a whole number from 1 to {MAX_EVERY}, not {value}")
    return value


def _activities(instrument: Instrument, activities: list[str] | None) -> tuple[str, ...]:
    named = [a.strip() for a in activities or [] if a.strip()]
    slots = sum(1 for item in instrument.items if item.patient_named)
    if len(named) > slots:
        raise ValidationFailed(f"{instrument.code} rates at most {slots} activities, not {len(named)}")
    if slots and not named:
        raise ValidationFailed(f"{instrument.name('en')} rates activities the patient names: name at least one, "
                               "such as \"Climbing stairs\"")  # fmt: skip
    if not slots and named:
        raise ValidationFailed(f"{instrument.code} has no patient-named activities")
    if any(len(a) > MAX_ACTIVITY for a in named):
        raise ValidationFailed(f"an activity is at most {MAX_ACTIVITY} characters")
    return tuple(named)


def assign(
    *,
    session: Session,
    patient_id: int,
    questionnaire: str,
    every_visits: int | None = None,
    every_days: int | None = None,
    at_intake: bool = False,
    at_discharge: bool = False,
    activities: list[str] | None = None,
    actor: str,
    now: datetime | None = None,
) -> Assignment:
    """Ask a patient a questionnaire by this rule (replacing the rule they had for it); audited."""
    now = now or utcnow()
    if session.get(Patient, patient_id) is None:
        raise NotFound(f"no patient {patient_id}")
    instrument = get_instrument(session=session, code=questionnaire)
    rule = Rule(_count(every_visits, "--every-visits"), _count(every_days, "--every-days"), at_intake,
                now if at_discharge else None)  # fmt: skip
    if not rule.words:
        raise ValidationFailed("say when it is due: --every-visits N, --every-days N, --at-intake or --at-discharge")
    named = _activities(instrument, activities)
    row = _assignment_row(session, patient_id, questionnaire)
    if row is None:
        row = QuestionnaireAssignment(patient_id=patient_id, questionnaire=questionnaire)
    row.every_visits, row.every_days, row.at_intake = rule.every_visits, rule.every_days, rule.at_intake
    row.discharge_from = rule.discharge_from
    row.activities = json.dumps(list(named), ensure_ascii=False) if named else None
    session.add(row)
    audit(session, actor=actor, action="questionnaire.assign", target=f"patient:{patient_id}",
          detail={"questionnaire": questionnaire, "when": rule.words})  # fmt: skip
    return Assignment(questionnaire, instrument.name("en"), rule, named)


def unassign(*, session: Session, patient_id: int, questionnaire: str, actor: str) -> None:
    """Stop asking a patient a questionnaire (their answers stay); audited."""
    row = _assignment_row(session, patient_id, questionnaire)
    if row is None:
        raise NotFound(f"patient {patient_id} is not assigned {questionnaire!r}")
    session.delete(row)
    audit(session, actor=actor, action="questionnaire.unassign", target=f"patient:{patient_id}",
          detail={"questionnaire": questionnaire})  # fmt: skip


def assignments(*, session: Session, patient_id: int) -> list[Assignment]:
    """The questionnaires a patient is asked, by code."""
    rows = session.exec(select(QuestionnaireAssignment).where(QuestionnaireAssignment.patient_id == patient_id)
                        .order_by(col(QuestionnaireAssignment.questionnaire))).all()  # fmt: skip
    out = []
    for row in rows:
        instrument = get_instrument(session=session, code=row.questionnaire)
        out.append(Assignment(row.questionnaire, instrument.name("en"), _rule(row), _named(row)))
    return out


def due_at_visit(
    *, session: Session, patient_id: int, appointment_id: int, now: datetime, tz: tzinfo
) -> list[DueQuestionnaire]:
    """The questionnaires to ask at this visit, in code order: one indexed query when the patient has none."""
    rows = session.exec(select(QuestionnaireAssignment).where(QuestionnaireAssignment.patient_id == patient_id)
                        .order_by(col(QuestionnaireAssignment.questionnaire))).all()  # fmt: skip
    if not rows:
        return []
    here = {r.questionnaire: r for r in session.exec(select(QuestionnaireAnswerRow).where(
        QuestionnaireAnswerRow.appointment_id == appointment_id)).all()}  # fmt: skip
    out = []
    for row in rows:
        started = here.get(row.questionnaire)
        if started is not None and started.status != "in-progress":
            continue  # answered or skipped at this visit
        if started is None and not _due(session, row, now, tz):
            continue
        instrument = get_instrument(session=session, code=row.questionnaire)
        answers = json.loads(started.answers) if started is not None else {}
        out.append(DueQuestionnaire(instrument, questions(instrument, _named(row)), answers))
    return out


def due_after_check_in(session: Session, outcome: Outcome, now: datetime, *, tz: tzinfo) -> bool:
    """The lobby's `after_check_in` hook (shared.care.lobby_scan), in the check-in's own transaction: whether a
    questionnaire is due at the visit just checked in. Never raises for a questionnaire it cannot read (logged):
    the check-in goes on to the plan."""
    if outcome.patient_id is None or outcome.appointment_id is None:
        return False
    try:
        return bool(due_at_visit(session=session, patient_id=outcome.patient_id,
                                 appointment_id=outcome.appointment_id, now=now, tz=tz))  # fmt: skip
    except ClinicError:
        log.exception("a questionnaire assigned to a patient cannot be read; not asked")
        return False


def _due(session: Session, row: QuestionnaireAssignment, now: datetime, tz: tzinfo) -> bool:
    last_done = session.exec(
        select(func.max(QuestionnaireAnswerRow.authored_at)).where(
            QuestionnaireAnswerRow.patient_id == row.patient_id,
            QuestionnaireAnswerRow.questionnaire == row.questionnaire,
            QuestionnaireAnswerRow.status == "completed",
        )
    ).one()
    visits = 0
    if last_done is not None and row.every_visits:
        visits = session.exec(select(func.count()).select_from(Appointment).where(
            Appointment.patient_id == row.patient_id, col(Appointment.arrived_at) > last_done)).one()  # fmt: skip
    return is_due(_rule(row), last_done=_aware(last_done), visits_since=visits, now=now, tz=tz)


def _aware(value: datetime | str | None) -> datetime | None:
    """func.max over a UTC column comes back as text on SQLite (the type decorator is not applied)."""
    if value is None or isinstance(value, datetime):
        return value.replace(tzinfo=value.tzinfo or UTC) if value is not None else None
    return datetime.fromisoformat(value).replace(tzinfo=UTC)


def _rule(row: QuestionnaireAssignment) -> Rule:
    return Rule(row.every_visits, row.every_days, row.at_intake, row.discharge_from)


def _named(row: QuestionnaireAssignment) -> tuple[str, ...]:
    return tuple(json.loads(row.activities)) if row.activities else ()


def _assignment_row(session: Session, patient_id: int, questionnaire: str) -> QuestionnaireAssignment | None:
    return session.exec(select(QuestionnaireAssignment).where(
        QuestionnaireAssignment.patient_id == patient_id,
        QuestionnaireAssignment.questionnaire == questionnaire)).first()  # fmt: skip

