"""Demo home-exercise log: the demo patients Maria and James have a take-home link and a week of ticks, so the
staff app shows adherence at once (James keeps up; Maria needs a nudge)."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlmodel import Session, col, select

from shared.care.home_links import current_link, link_key
from shared.care.models import PlanShare
from shared.care.plans import active_on, plan_lines
from shared.outcomes.models import ExerciseLog
from shared.store.clock import local_today
from shared.store.settings import Settings

# first name -> (days ago, how many of the plan's lines were ticked that day)
DEMO_TICKS: dict[str, tuple[tuple[int, int], ...]] = {
    "James": ((1, 3), (2, 3), (3, 2), (4, 3), (5, 3), (6, 3)),
    "Maria": ((2, 2), (4, 1), (5, 1)),
}


def seed_demo_home_log(*, session: Session, patient_id: int, first: str, settings: Settings, now: datetime) -> bool:
    """Give a demo patient named in DEMO_TICKS a take-home link and their ticks, once (False when they already
    have a take-home link, or are not one of them)."""
    ticks = DEMO_TICKS.get(first)
    has_link = session.exec(select(PlanShare.id).where(col(PlanShare.patient_id) == patient_id,
                                                       col(PlanShare.lasting))).first()  # fmt: skip
    if ticks is None or has_link is not None:
        return False
    link = current_link(session=session, patient_id=patient_id, site=settings.site, tz=settings.tz,
                        key=link_key(settings.data_dir), days=settings.plan_link_days, now=now)  # fmt: skip
    share = session.exec(select(PlanShare.id).where(col(PlanShare.patient_id) == patient_id,
                                                    col(PlanShare.lasting))).first()  # fmt: skip
    today = local_today(now, settings.tz)
    for days_ago, count in ticks:
        day = today - timedelta(days=days_ago)
        items = plan_lines(session=session, patient_id=patient_id, where=active_on(day))[:count]
        for item, _ in items:
            assert item.id is not None
            at = datetime.combine(day, now.astimezone(settings.tz).timetz())
            session.add(ExerciseLog(patient_id=patient_id, plan_item_id=item.id, day=day, done_at=at, share_id=share))
    return link.created
