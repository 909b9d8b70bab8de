"""Adherence for staff: per patient, exercises done over exercises prescribed in the last 7 and 30 days, and the
days with any data (a tick or a pain answer) in the last 30, the count US remote-therapeutic-monitoring billing
asks for ("16 of 30"). A patient on the home programme (a working take-home link) under 50% this week needs a
nudge.

"Prescribed" counts each plan line once for each day it was in force in the window (today included); "done"
counts the lines ticked on those days.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import date, datetime, timedelta

from sqlmodel import Session, col, select

from shared.care.models import Patient, PlanItem, PlanShare
from shared.outcomes.models import ExerciseLog, HomePain
from shared.store.errors import NotFound

WEEK, MONTH = 7, 30
NUDGE_BELOW = 0.5  # under half of this week's exercises done


@dataclass(frozen=True, slots=True)
class Adherence:
    """One patient's figures on `today` (the clinic's day)."""

    patient_id: int
    today: date
    done_7: int
    prescribed_7: int
    done_30: int
    prescribed_30: int
    days_with_data_30: int

    @property
    def percent_7(self) -> int | None:
        """Done over prescribed in the last 7 days, rounded down to a whole percent (None: nothing prescribed)."""
        return _percent(self.done_7, self.prescribed_7)

    @property
    def percent_30(self) -> int | None:
        """Done over prescribed in the last 30 days, in whole percent (None: nothing prescribed)."""
        return _percent(self.done_30, self.prescribed_30)

    @property
    def needs_nudge(self) -> bool:
        """Under 50% of this week's exercises done."""
        return self.prescribed_7 > 0 and self.done_7 < NUDGE_BELOW * self.prescribed_7

    def words(self) -> str:
        """'This week 5 of 14 done (35%); 30 days 20 of 60 (33%); 16 of 30 days with data'."""
        week = f"{self.done_7} of {self.prescribed_7} done" + _in_percent(self.percent_7)
        month = f"{self.done_30} of {self.prescribed_30}" + _in_percent(self.percent_30)
        return f"This week {week}; 30 days {month}; {self.days_with_data_30} of {MONTH} days with data"

    def as_json(self) -> dict[str, object]:
        """The documented JSON shape of `clinic patient adherence --json`."""
        return {**asdict(self), "today": self.today.isoformat(), "percent_7": self.percent_7,
                "percent_30": self.percent_30, "needs_nudge": self.needs_nudge}  # fmt: skip


@dataclass(frozen=True, slots=True)
class Nudge:
    """A patient on the home programme who did under half of this week's exercises."""

    patient_id: int
    name: str
    adherence: Adherence


def adherence(*, session: Session, patient_id: int, today: date) -> Adherence:
    """A patient's adherence figures on `today`."""
    if session.get(Patient, patient_id) is None:
        raise NotFound(f"no patient with id {patient_id}")
    return figures_for(session=session, patient_ids=[patient_id], today=today)[patient_id]


def figures_for(*, session: Session, patient_ids: Sequence[int], today: date) -> dict[int, Adherence]:
    """Adherence figures of many patients in four queries (the Patients page's list asks for every patient on
    the home programme at each run)."""
    ids = list(dict.fromkeys(patient_ids))
    if not ids:
        return {}
    items = session.exec(select(PlanItem).where(col(PlanItem.patient_id).in_(ids))).all()
    since = today - timedelta(days=MONTH)
    ticks = session.exec(
        select(col(ExerciseLog.patient_id), col(ExerciseLog.day))
        .where(col(ExerciseLog.patient_id).in_(ids), col(ExerciseLog.day) > since, col(ExerciseLog.day) <= today)
    ).all()  # fmt: skip
    pains = session.exec(
        select(col(HomePain.patient_id), col(HomePain.day))
        .where(col(HomePain.patient_id).in_(ids), col(HomePain.day) > since, col(HomePain.day) <= today)
    ).all()  # fmt: skip
    week_start = today - timedelta(days=WEEK)
    plans, done, data = defaultdict(list), defaultdict(list), defaultdict(set)
    for item in items:
        plans[item.patient_id].append(item)
    for who, day in ticks:
        done[who].append(day)
        data[who].add(day)
    for who, day in pains:
        data[who].add(day)
    out = {}
    for patient_id in ids:
        own, days = plans[patient_id], done[patient_id]
        out[patient_id] = Adherence(
            patient_id=patient_id,
            today=today,
            done_7=sum(1 for day in days if day > week_start),
            prescribed_7=sum(_days_in_force(item, today, WEEK) for item in own),
            done_30=len(days),
            prescribed_30=sum(_days_in_force(item, today, MONTH) for item in own),
            days_with_data_30=len(data[patient_id]),
        )
    return out


def needs_nudge(*, session: Session, today: date, now: datetime, site: str | None = None) -> list[Nudge]:
    """Patients with a working take-home link (at `site`, when given) under 50% this week, lowest first."""
    query = (
        select(Patient.id, Patient.first_name, Patient.last_name)
        .join(PlanShare, col(PlanShare.patient_id) == col(Patient.id))
        .where(col(PlanShare.lasting), col(PlanShare.revoked_at).is_(None), col(PlanShare.expires_at) > now)
        .distinct()
    )
    if site is not None:
        query = query.where(col(PlanShare.site) == site)
    names = {patient_id: f"{first} {last}" for patient_id, first, last in session.exec(query).all() if patient_id}
    figures = figures_for(session=session, patient_ids=list(names), today=today)
    out = [Nudge(patient_id=pid, name=names[pid], adherence=fig) for pid, fig in figures.items() if fig.needs_nudge]
    out.sort(key=lambda n: (n.adherence.percent_7 or 0, n.name))
    return out


def _days_in_force(item: PlanItem, today: date, days: int) -> int:
    """How many of the `days` days up to `today` the plan line was in force."""
    start = max(item.active_from, today - timedelta(days=days - 1))
    end = min(item.active_to or today, today)
    return max((end - start).days + 1, 0)


def _percent(done: int, prescribed: int) -> int | None:
    return None if prescribed == 0 else done * 100 // prescribed


def _in_percent(percent: int | None) -> str:
    return "" if percent is None else f" ({percent}%)"
