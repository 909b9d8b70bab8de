"""Usage and cleaning: uses and in-use minutes per station per day, cleaning compliance and time to clean."""

from __future__ import annotations

from datetime import date, timedelta

import altair as alt
import pandas as pd
import streamlit as st

from kiosk import resources
from kiosk.staff.auth import require
from kiosk.staff.kit import plain_table
from shared.equipment.usage import StationStats, usage_stats
from shared.store.db import read_session
from shared.store.types import utcnow

# Twenty colours a reader tells apart (Tableau 20, dark and light of ten hues), one per station.
PALETTE = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22",
           "#17becf", "#aec7e8", "#ffbb78", "#98df8a", "#ff9896", "#c5b0d5", "#c49c94", "#f7b6d2", "#c7c7c7",
           "#dbdb8d", "#9edae5"]  # fmt: skip
OTHERS = "Other stations"
LEGEND_COLUMNS = 2  # narrow enough for a phone, with names never shortened
DAY_LABEL = "slice(datum.value, 12, 15) + ' ' + slice(datum.value, 8, 10)"  # "2026-12-01 (Tue)" -> "Tue 01"

user = require("board")
cfg = resources.settings()
st.title("Usage and cleaning")
days = 30 if st.toggle("Show the last 30 days (off: the last 7 days)", key="charts_30_days") else 7
now = utcnow()
with read_session(resources.engine()) as session:
    stats = usage_stats(session=session, site=cfg.site, days=days, tz=cfg.tz, now=now)


def _labels(found: list[StationStats]) -> dict[str, str]:
    """Each station's name, with its id added where two stations share a name."""
    names = [s.name for s in found]
    return {s.equipment_id: s.name if names.count(s.name) == 1 else f"{s.name} ({s.equipment_id})" for s in found}


def _per_day(found: list[StationStats], labels: dict[str, str]) -> pd.DataFrame:
    """One row per station per day of the window (days without use count as 0).

    Days are ISO text, not timestamps: they sort in time order, and a browser in another time zone cannot
    shift a midnight onto the day before.
    """
    last = now.astimezone(cfg.tz).date()
    window = [last - timedelta(days=n) for n in range(days - 1, -1, -1)]
    rows: list[dict[str, object]] = []
    for s in found:
        for day in window:
            rows.append(
                {
                    "Day": f"{day:%Y-%m-%d} ({day:%a})",
                    "Station": labels[s.equipment_id],
                    "Uses": s.uses_by_day.get(day, 0),
                    "Minutes in use": round(s.minutes_by_day.get(day, 0.0), 1),
                }
            )
    return pd.DataFrame(rows, columns=["Day", "Station", "Uses", "Minutes in use"])


def _cleaning(found: list[StationStats], labels: dict[str, str]) -> pd.DataFrame:
    rows = [
        {
            "Station": labels[s.equipment_id],
            "Uses that needed a cleaning": s.uses_needing_cleaning,
            "Cleaned before the next use": s.cleaned_before_next_use,
            "Compliance (%)": None if s.compliance is None else round(100 * s.compliance),
            "Median minutes to clean": None
            if s.median_minutes_to_clean is None
            else round(s.median_minutes_to_clean, 1),
        }
        for s in found
    ]
    return pd.DataFrame(rows).astype({"Compliance (%)": "Int64", "Median minutes to clean": "Float64"})


def _bars(per_day: pd.DataFrame, *, value: str, axis_title: str) -> alt.Chart:
    """Stacked bars per day, one distinct colour per station, the legend below (never cut off) and the days
    written level ("Tue 01"; labels that would overlap on a narrow screen are left out)."""
    stations = list(dict.fromkeys(per_day["Station"]))
    day = alt.X("Day:O", sort=list(dict.fromkeys(per_day["Day"])), title="Day",
                axis=alt.Axis(labelAngle=0, labelOverlap="greedy", labelExpr=DAY_LABEL))  # fmt: skip
    colour = alt.Color("Station:N", sort=stations, title="Station",
                       scale=alt.Scale(domain=stations, range=PALETTE[: len(stations)]),
                       legend=alt.Legend(orient="bottom", direction="horizontal", columns=LEGEND_COLUMNS,
                                         labelLimit=0, titleFontSize=16, labelFontSize=16, symbolSize=160))  # fmt: skip
    tooltip = ["Day", "Station", alt.Tooltip(f"{value}:Q", title=axis_title)]
    amount = alt.Y(f"{value}:Q", title=axis_title, axis=alt.Axis(format="~f", tickMinStep=1))
    bars = alt.Chart(per_day).mark_bar().encode(x=day, y=amount, color=colour, tooltip=tooltip)
    return bars.configure_axis(labelFontSize=16, titleFontSize=16).properties(height=320)  # 16 px: read on a phone


def _charts(per_day: pd.DataFrame) -> None:
    st.header("Uses per day")
    st.caption("How many times each station was started each day.")
    st.altair_chart(_bars(per_day, value="Uses", axis_title="Uses"), key="chart_uses")

    st.header("Minutes in use per day")
    st.caption("How long each station was in use each day, in minutes, counted when a use ended.")
    st.altair_chart(_bars(per_day, value="Minutes in use", axis_title="Minutes"), key="chart_minutes")


def _fewest_colours(per_day: pd.DataFrame) -> pd.DataFrame:
    """At most as many series as there are distinct colours: beyond that, the least used stations are summed
    as "Other stations" (two stations never share a colour)."""
    names = list(dict.fromkeys(per_day["Station"]))
    if len(names) <= len(PALETTE):
        return per_day
    busiest = per_day.groupby("Station", sort=False)["Uses"].sum().sort_values(ascending=False, kind="stable")
    kept = set(busiest.index[: len(PALETTE) - 1])
    merged = per_day.assign(Station=per_day["Station"].where(per_day["Station"].isin(kept), OTHERS))
    summed = merged.groupby(["Day", "Station"], sort=False, as_index=False)[["Uses", "Minutes in use"]].sum()
    return summed.sort_values("Station", key=lambda names: names == OTHERS, kind="stable")  # the rest goes last


if not stats:
    st.info("No stations are registered yet, so there is nothing to chart.")
    st.stop()

first_day: date = now.astimezone(cfg.tz).date() - timedelta(days=days - 1)
st.caption(f"From {first_day:%a %d %b} to today, in the clinic's time zone.")
labels = _labels(stats)
per_day = _fewest_colours(_per_day(stats, labels))

if per_day["Uses"].sum() == 0 and per_day["Minutes in use"].sum() == 0:
    st.info("No station was used in this period.")
else:
    _charts(per_day)


st.header("Cleaning")
st.caption(
    "Compliance is the share of uses that were followed by a cleaning before the station was used again. "
    "The median time to clean is the typical wait from the end of a use to its cleaning: half of the "
    "cleanings came sooner, half later. A dash means there is nothing to measure yet: no use needed a "
    "cleaning, or none was cleaned."
)
plain_table(_cleaning(stats, labels), label="Cleaning per station", key="cleaning_table")
