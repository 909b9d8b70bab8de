"""The chain at the center: every site at a glance (stations by status, offline, last heard, cleaning
compliance), then one site's board, read-only (actions belong at the site, whose store is the source)."""

from __future__ import annotations

from datetime import datetime
from html import escape

import pandas as pd
import streamlit as st

from kiosk import resources
from kiosk.failsafe import staff_guarded
from kiosk.staff_auth import current_user, require
from kiosk.theme import status_badge
from shared import board
from shared.chain.overview import SiteSummary, chain_overview
from shared.models import utcnow
from shared.stations import describe_status

COMPLIANCE_DAYS = 7
SITE_KEY = "chain_site"

user = require("chain")
cfg = resources.settings()
st.title("Chain")


def _when(value: datetime | None) -> str:
    return value.astimezone(cfg.tz).strftime("%Y-%m-%d %H:%M") if value else "never"


def _table(summaries: list[SiteSummary]) -> pd.DataFrame:
    rows = [
        {
            "Site": f"{s.name} ({s.site})" if s.name != s.site else s.site,
            "Stations": s.stations,
            "Needs cleaning": s.by_status.get("needs_cleaning", 0),
            "Out of service": s.by_status.get("out_of_service", 0),
            "In use": s.by_status.get("in_use", 0),
            "Available": s.by_status.get("available", 0) + s.by_status.get("cleaning", 0),
            "Offline": s.offline,
            "Uses today": s.uses_today,
            f"Cleaning compliance, {COMPLIANCE_DAYS} days (%)": None if s.compliance is None
            else round(100 * s.compliance),
            "Last heard": _when(s.last_heard),
        }
        for s in summaries
    ]  # fmt: skip
    return pd.DataFrame(rows).astype({f"Cleaning compliance, {COMPLIANCE_DAYS} days (%)": "Int64"})


@st.fragment(run_every=cfg.board_refresh_s)
@staff_guarded("chain overview")
def overview() -> None:
    """Every site, refreshing by itself like the board."""
    if current_user(touch=False) is None:
        st.rerun()
    now = utcnow()
    summaries = chain_overview(resources.engine(), tz=cfg.tz, now=now, days=COMPLIANCE_DAYS)
    if not summaries:
        st.info("No sites yet. Add one at the center with `clinic chain add-site SITE`.")
        return
    stations = sum(s.stations for s in summaries)
    st.caption(f"{len(summaries)} sites · {stations} stations · updated {now.astimezone(cfg.tz):%H:%M:%S}")
    st.dataframe(_table(summaries), hide_index=True, key="chain_table")
    unregistered = [s.site for s in summaries if not s.registered]
    if unregistered:
        st.warning(f"Not in the site registry (clinic chain add-site): {', '.join(unregistered)}")


@st.fragment(run_every=cfg.board_refresh_s)
@staff_guarded("chain site board")
def site_board(site: str) -> None:
    """One site's stations, most urgent first, as its own board shows them (no actions here)."""
    if current_user(touch=False) is None:
        st.rerun()
    rows = board.board(resources.engine(), tz=cfg.tz, site=site)
    if not rows:
        st.info("No stations registered at this site yet.")
        return
    now = utcnow()
    columns = st.columns(3)
    for index, row in enumerate(rows):
        station = row.station
        with columns[index % 3], st.container(border=True, key=f"chain-card-{site}-{station.id}"):
            online = " · offline" if station.online is False else ""
            st.markdown(
                f"<b>{escape(station.name)}</b> · {escape(station.zone)}{online}<br>"
                f"{status_badge(station.effective_status, describe_status(station, now))}",
                unsafe_allow_html=True,
            )
            for alert in row.alerts:
                st.warning(alert)


overview()
sites = [s.site for s in chain_overview(resources.engine(), tz=cfg.tz, now=utcnow(), days=COMPLIANCE_DAYS)]
if sites:
    st.subheader("One site")
    chosen = st.selectbox("Site", sites, key=SITE_KEY)
    site_board(chosen)
