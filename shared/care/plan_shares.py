"""Take the plan home: an opaque link that opens the plan on the patient's phone.

Only the token's hash is stored; a day link ends with the clinic's day, a lasting one (home_links.py) after
CLINIC_PLAN_LINK_DAYS; both can be revoked. What it opens shows the exercises, never the patient's name or
birth date.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo
from urllib.parse import urlencode

from sqlalchemy import update
from sqlmodel import Session, col, select

from shared.care.models import PlanShare
from shared.care.qr import hash_token, new_token, parse_token
from shared.store.clock import local_today
from shared.store.types import utcnow

QUERY_KEY = "p"


@dataclass(frozen=True, slots=True)
class SharedPlan:
    """What a share link opens: whose plan (an id, never shown), at which site, for which day (a lasting link:
    the day it is opened, `day_at`)."""

    patient_id: int
    site: str
    day: date
    language: str | None = None
    share_id: int | None = None
    lasting: bool = False
    expires_at: datetime | None = None

    def day_at(self, now: datetime, tz: tzinfo) -> date:
        """The plan's day a phone sees: a day link's own day, a lasting link's today on the clinic's clock."""
        return local_today(now, tz) if self.lasting else self.day


def share_url(base_url: str, token: str) -> str:
    """The link a phone opens: the lobby's address with the share token, nothing about the patient."""
    return f"{base_url.rstrip('/')}/?{urlencode({QUERY_KEY: token})}"


def end_of_day(now: datetime, tz: tzinfo) -> datetime:
    """Midnight after `now` on the clinic's clock, when a share link stops working."""
    tomorrow = local_today(now, tz) + timedelta(days=1)
    return datetime.combine(tomorrow, time.min, tzinfo=tz)


def create_share(
    *,
    session: Session,
    patient_id: int,
    site: str,
    tz: tzinfo,
    language: str | None = None,
    now: datetime | None = None,
) -> str:
    """A new link for today's plan; returns the token (only its hash is stored)."""
    now = now or utcnow()
    token = new_token()
    session.add(PlanShare(token_hash=hash_token(token), patient_id=patient_id, site=site,
                          day=local_today(now, tz), language=language, created_at=now,
                           expires_at=end_of_day(now, tz)))  # fmt: skip
    return token


def open_share(*, session: Session, token: str | None, now: datetime | None = None) -> SharedPlan | None:
    """The plan a link opens, or None for an unknown, expired or revoked link (all look the same)."""
    now = now or utcnow()
    cleaned = parse_token(token or "")
    if cleaned is None:
        return None
    share = session.exec(select(PlanShare).where(PlanShare.token_hash == hash_token(cleaned))).first()
    if share is None or share.revoked_at is not None or share.expires_at <= now:
        return None
    return SharedPlan(patient_id=share.patient_id, site=share.site, day=share.day, language=share.language,
                      share_id=share.id, lasting=share.lasting, expires_at=share.expires_at)


def revoke_shares(*, session: Session, patient_id: int, now: datetime | None = None) -> int:
    """Stop every working link of a patient's plan at once; returns how many were revoked."""
    now = now or utcnow()
    done = session.execute(
        update(PlanShare)
        .where(col(PlanShare.patient_id) == patient_id, col(PlanShare.revoked_at).is_(None),
               col(PlanShare.expires_at) > now)
        .values(revoked_at=now)
    )  # fmt: skip
    return int(done.rowcount)  # type: ignore[attr-defined]
