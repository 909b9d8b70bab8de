"""The home-exercise log, written from the patient's phone through the take-home link's opaque token only.

A write names a plan line; it is refused (one neutral `LinkRefused`) unless the token opens a working link and
the line is on that link's plan today, so a token can touch nothing but its own plan's log. Each link may send
CLINIC_PLAN_LINK_WRITES_PER_MIN writes a minute (`TooManyWrites`). Ticking "Done" twice on a day is one done; a
mistaken tick is undone. An optional pain answer (0-10) is kept one a day and may flag the therapist (alerts.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta, tzinfo

from sqlalchemy import delete, func
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from shared.care.models import PlanItem
from shared.care.plan_shares import SharedPlan, open_share
from shared.care.plans import active_on, plan_lines
from shared.outcomes.alerts import note_pain
from shared.outcomes.models import ExerciseLog, HomePain, LinkWrite
from shared.store.errors import ClinicError, ValidationFailed
from shared.store.types import utcnow

RATE_WINDOW = timedelta(minutes=1)


class LinkRefused(ClinicError):
    """An unknown, expired or revoked link, or a plan line that is not on its plan: all look the same."""


class TooManyWrites(ClinicError):
    """The link sent more writes in the last minute than CLINIC_PLAN_LINK_WRITES_PER_MIN allows."""


@dataclass(frozen=True, slots=True)
class HomeDay:
    """What the phone page shows for a working link: the plan's day, the lines ticked that day, the pain given."""

    shared: SharedPlan
    day: date
    done: frozenset[int]  # plan line ids
    pain: int | None


def open_home(*, session: Session, token: str | None, tz: tzinfo, now: datetime | None = None) -> HomeDay | None:
    """The link's plan day and its log so far, or None for an unknown, expired or revoked link."""
    now = now or utcnow()
    shared = open_share(session=session, token=token, now=now)
    if shared is None:
        return None
    day = shared.day_at(now, tz)
    done = session.exec(
        select(ExerciseLog.plan_item_id).where(col(ExerciseLog.patient_id) == shared.patient_id,
                                               col(ExerciseLog.day) == day)
    ).all()  # fmt: skip
    pain = session.exec(
        select(HomePain.pain).where(col(HomePain.patient_id) == shared.patient_id, col(HomePain.day) == day)
    ).first()
    return HomeDay(shared=shared, day=day, done=frozenset(done), pain=pain)


def plan_line_ids(*, session: Session, patient_id: int, day: date) -> list[int]:
    """The ids of the plan lines in force on `day`, in the order todays_plan lists them (the same query)."""
    return [item.id for item, _ in plan_lines(session=session, patient_id=patient_id, where=active_on(day)) if item.id]


def tick(
    *, session: Session, token: str, plan_item_id: int, tz: tzinfo, limit: int, now: datetime | None = None
) -> bool:
    """Record "done today" for one line of the link's plan; True when it was not ticked yet (twice is one)."""
    now = now or utcnow()
    shared, day = _authorise(session, token, tz, limit, now)
    _line(session, shared, plan_item_id, day)
    if _logged(session, plan_item_id, day) is not None:
        return False
    row = ExerciseLog(patient_id=shared.patient_id, plan_item_id=plan_item_id, day=day, done_at=now,
                      share_id=shared.share_id)  # fmt: skip
    try:
        with session.begin_nested():  # a double tap racing itself: the other one recorded it
            session.add(row)
    except IntegrityError:
        return False
    return True


def untick(
    *, session: Session, token: str, plan_item_id: int, tz: tzinfo, limit: int, now: datetime | None = None
) -> bool:
    """Undo a mistaken tick of today; True when there was one."""
    now = now or utcnow()
    shared, day = _authorise(session, token, tz, limit, now)
    _line(session, shared, plan_item_id, day)
    row = _logged(session, plan_item_id, day)
    if row is None:
        return False
    session.delete(row)
    session.flush()
    return True


def note_home_pain(
    *, session: Session, token: str, pain: int, tz: tzinfo, limit: int, now: datetime | None = None
) -> bool:
    """Keep today's pain answer (a new answer replaces it); True when it flagged the therapist."""
    now = now or utcnow()
    if isinstance(pain, bool) or not isinstance(pain, int) or not 0 <= pain <= 10:
        raise ValidationFailed(f"pain must be a whole number from 0 to 10, not {pain!r}")
    shared, day = _authorise(session, token, tz, limit, now)
    row = session.exec(
        select(HomePain).where(col(HomePain.patient_id) == shared.patient_id, col(HomePain.day) == day)
    ).first()
    row = row or HomePain(patient_id=shared.patient_id, day=day, pain=pain, at=now)
    row.pain, row.at, row.share_id = pain, now, shared.share_id
    session.add(row)
    session.flush()
    return note_pain(session=session, patient_id=shared.patient_id, value=pain, source="phone", now=now,
                     site=shared.site)  # fmt: skip


def _authorise(session: Session, token: str, tz: tzinfo, limit: int, now: datetime) -> tuple[SharedPlan, date]:
    """The working link the token opens and its plan's day, after counting this write against its rate limit."""
    shared = open_share(session=session, token=token, now=now)
    if shared is None or shared.share_id is None:
        raise LinkRefused("this link has ended")
    session.execute(delete(LinkWrite).where(col(LinkWrite.share_id) == shared.share_id,
                                            col(LinkWrite.at) <= now - RATE_WINDOW))  # fmt: skip
    recent = session.exec(
        select(func.count()).select_from(LinkWrite).where(col(LinkWrite.share_id) == shared.share_id)
    ).one()
    if recent >= limit:
        raise TooManyWrites(f"at most {limit} changes a minute from one link")
    session.add(LinkWrite(share_id=shared.share_id, at=now))
    return shared, shared.day_at(now, tz)


def _line(session: Session, shared: SharedPlan, plan_item_id: int, day: date) -> PlanItem:
    """The plan line, if it is on the link's plan that day."""
    item = session.get(PlanItem, plan_item_id)
    if (item is None or item.patient_id != shared.patient_id or item.active_from > day
            or (item.active_to is not None and item.active_to < day)):  # fmt: skip
        raise LinkRefused("this link has ended")
    return item


def _logged(session: Session, plan_item_id: int, day: date) -> ExerciseLog | None:
    query = select(ExerciseLog).where(col(ExerciseLog.plan_item_id) == plan_item_id, col(ExerciseLog.day) == day)
    return session.exec(query).first()
