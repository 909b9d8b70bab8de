"""Every site of the chain at a glance: stations by status, offline, last heard from, cleaning compliance.

Read from the current-state table (what the board reads) and the daily rollups (`station_day`, what the charts
read), so the overview of a 20-site chain is a few thousand rows whatever the size of the event log.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta, tzinfo

from sqlalchemy import func, select
from sqlmodel import Session

from shared.chain.sites import list_sites
from shared.equipment.rollups import DAYS
from shared.equipment.stations import list_stations

STATUSES = ("needs_cleaning", "out_of_service", "cleaning", "in_use", "available")


@dataclass(slots=True)
class SiteSummary:
    """One site's figures for the chain view."""

    site: str
    name: str
    registered: bool  # in the center's site registry (else: equipment arrived without a registry row)
    stations: int = 0
    by_status: Counter[str] = field(default_factory=Counter)
    offline: int = 0
    last_heard: datetime | None = None
    uses_today: int = 0
    uses_needing_cleaning: int = 0
    cleaned_before_next_use: int = 0

    @property
    def compliance(self) -> float | None:
        """Share of uses (over the window) that were followed by a cleaning before the next use."""
        if not self.uses_needing_cleaning:
            return None
        return self.cleaned_before_next_use / self.uses_needing_cleaning

    def as_json(self) -> dict[str, object]:
        """The shape of `clinic chain sites --json`."""
        heard = self.last_heard.isoformat().replace("+00:00", "Z") if self.last_heard else None
        return {"site": self.site, "name": self.name, "registered": self.registered, "stations": self.stations,
                "by_status": {s: self.by_status.get(s, 0) for s in STATUSES}, "offline": self.offline,
                "last_heard": heard, "uses_today": self.uses_today, "compliance": self.compliance}  # fmt: skip


def chain_overview(*, session: Session, tz: tzinfo, now: datetime, days: int = 7) -> list[SiteSummary]:
    """Every registered site (and any other site with equipment in this store), by site id."""
    summaries = {r.site: SiteSummary(r.site, r.name, registered=True) for r in list_sites(session=session)}
    for view in list_stations(session=session, tz=tz):
        summary = summaries.get(view.site)
        if summary is None:
            summary = summaries[view.site] = SiteSummary(view.site, view.site, registered=False)
        summary.stations += 1
        summary.by_status[view.effective_status] += 1
        summary.offline += view.online is False
        summary.uses_today += view.uses_today
        if view.last_seen and (summary.last_heard is None or view.last_seen > summary.last_heard):
            summary.last_heard = view.last_seen
    first_day = now.astimezone(tz).date() - timedelta(days=days - 1)
    query = (
        select(DAYS.c.site, func.sum(DAYS.c.uses_needing_cleaning), func.sum(DAYS.c.cleaned_before_next_use))
        .where(DAYS.c.day >= first_day)
        .group_by(DAYS.c.site)
    )
    for site, needing, cleaned in session.execute(query):
        if site in summaries:
            summaries[site].uses_needing_cleaning = int(needing or 0)
            summaries[site].cleaned_before_next_use = int(cleaned or 0)
    return [summaries[site] for site in sorted(summaries)]
