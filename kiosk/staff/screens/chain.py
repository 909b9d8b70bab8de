"""The chain at the center: every site at a glance (stations by status, offline, last heard, cleaning
compliance), then one site's board, read-only (actions belong at the site, whose store is the source)."""

from __future__ import annotations

from datetime import datetime
from html import escape

import pandas as pd
import streamlit as st

from kiosk import resources
from kiosk.failsafe import staff_guarded
from kiosk.staff.auth import current_user, require
from kiosk.theme import status_badge
from shared.chain.overview import SiteSummary, chain_overview
from shared.equipment import board
from shared.equipment.stations import describe_status
from shared.store.db import read_session
from shared.store.types import utcnow

COMPLIANCE_DAYS = 7
SITE_KEY = "chain_site"
COMPLIANCE = f"Cleaned after use, {COMPLIANCE_DAYS} d (%)"

user = require("chain")
cfg = resources.settings()
st.title("Chain")


def _when(value: datetime | None, now: datetime) -> str:
    """A time as the clock shows it today, with its date on other days."""
    if value is None:
        return "never"
    local = value.astimezone(cfg.tz)
    today = local.date() == now.astimezone(cfg.tz).date()
    return local.strftime("%H:%M" if today else "%Y-%m-%d %H:%M")


def _label(summary: SiteSummary) -> str:
    return f"{summary.name} ({summary.site})" if summary.name != summary.site else summary.site


def _table(summaries: list[SiteSummary], now: datetime) -> pd.DataFrame:
    rows = [
        {
            "Site": _label(s),
            "Stations": s.stations,
            "Needs cleaning": s.by_status.get("needs_cleaning", 0),
            "Out of service": s.by_status.get("out_of_service", 0),
            "In use": s.by_status.get("in_use", 0),
            "Available": s.by_status.get("available", 0) + s.by_status.get("cleaning", 0),
            "Offline": s.offline,
            "Uses today": s.uses_today,
            COMPLIANCE: None if s.compliance is None else round(100 * s.compliance),
            "Last heard": _when(s.last_heard, now),
        }
        for s in summaries
    ]
    return pd.DataFrame(rows).astype({COMPLIANCE: "Int64"})


@st.fragment(run_every=cfg.board_refresh_s)
@staff_guarded("chain overview")
def overview() -> None:
    """Every site, refreshing by itself like the board."""
    if current_user(touch=False) is None:
        st.rerun()
    now = utcnow()
    with read_session(resources.engine()) as session:
        summaries = chain_overview(session=session, tz=cfg.tz, now=now, days=COMPLIANCE_DAYS)
    if not summaries:
        st.info("No sites yet. Sites appear here once the center's administrator has added them and their "
                "stations report in.")  # fmt: skip
        return
    stations = sum(s.stations for s in summaries)
    st.caption(f"{len(summaries)} sites · {stations} stations · updated {now.astimezone(cfg.tz):%H:%M:%S}")
    table = _table(summaries, now)
    narrow = {name: st.column_config.Column(width="small") for name in table.columns if name != "Site"}
    st.dataframe(table, hide_index=True, width="stretch", column_config=narrow, key="chain_table")
    st.caption(f"Available includes stations in their disinfectant's contact time. {COMPLIANCE}: uses followed "
               "by a cleaning before the next use.")  # fmt: skip
    unregistered = [s.site for s in summaries if not s.registered]
    if unregistered:
        st.warning(f"Reporting, but not added to the chain's list of sites: {', '.join(unregistered)}. "
                   "Ask the center's administrator to add them.")  # fmt: skip


@st.fragment(run_every=cfg.board_refresh_s)
@staff_guarded("chain site board")
def site_board(site: str) -> None:
    """One site's stations, most urgent first, as its own board shows them (no actions here)."""
    if current_user(touch=False) is None:
        st.rerun()
    with read_session(resources.engine()) as session:
        rows = board.board(session=session, tz=cfg.tz, site=site)
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
with read_session(resources.engine()) as session:
    labels = {s.site: _label(s) for s in chain_overview(session=session, tz=cfg.tz, now=utcnow(), days=1)}
if labels:
    st.header("One site")  # h2 under the page's h1 (a subheader, h3, skipped a level)
    chosen = st.selectbox("Site", list(labels), format_func=labels.__getitem__, key=SITE_KEY)
    site_board(chosen)
