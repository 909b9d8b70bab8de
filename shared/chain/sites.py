"""The center's site registry: the sites whose bridges may connect and whose equipment the center accepts."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlmodel import Session

from shared.chain.models import ChainSite
from shared.store.errors import ValidationFailed
from shared.store.settings import ID_PATTERN


@dataclass(frozen=True, slots=True)
class SiteRecord:
    """One site of the chain, as the center knows it."""

    site: str
    name: str
    added_at: datetime


def add_site(*, session: Session, site: str, name: str | None = None) -> SiteRecord:
    """Register a site at the center (or rename one); safe to run twice."""
    if not ID_PATTERN.match(site):
        raise ValidationFailed(f"site {site!r} must match {ID_PATTERN.pattern} (lower case, digits, - and _)")
    label = (name or site).strip()
    if not 0 < len(label) <= 200:
        raise ValidationFailed("site name must be 1 to 200 characters")
    row = session.get(ChainSite, site) or ChainSite(site=site, name=label)
    row.name = label
    session.add(row)
    session.flush()
    return SiteRecord(row.site, row.name, row.added_at)


def list_sites(*, session: Session) -> list[SiteRecord]:
    """Every registered site, by id."""
    rows = session.execute(select(ChainSite).order_by(ChainSite.site)).scalars().all()
    return [SiteRecord(r.site, r.name, r.added_at) for r in rows]
