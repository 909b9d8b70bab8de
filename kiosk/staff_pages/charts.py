"""Usage and cleaning: uses and in-use minutes per station per day, cleaning compliance and time to clean."""

from __future__ import annotations

from datetime import date, timedelta

import pandas as pd
import streamlit as st

from kiosk import resources
from kiosk.staff_auth import require
from shared.models import utcnow
from shared.usage_stats import StationStats, usage_stats

user = require("board")
cfg = resources.settings()
st.title("Usage and cleaning")
days = 30 if st.toggle("Show the last 30 days (off: the last 7 days)", key="charts_30_days") else 7
now = utcnow()
stats = usage_stats(resources.engine(), site=cfg.site, days=days, tz=cfg.tz, now=now)


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


def _charts(per_day: pd.DataFrame) -> None:
    st.subheader("Uses per day")
    st.caption("How many times each station was started each day.")
    st.bar_chart(per_day, x="Day", y="Uses", color="Station", x_label="Day", y_label="Uses")

    st.subheader("Minutes in use per day")
    st.caption("How long each station was in use each day, in minutes, counted when a use ended.")
    st.bar_chart(per_day, x="Day", y="Minutes in use", color="Station", x_label="Day", y_label="Minutes")


if not stats:
    st.info("No stations are registered yet, so there is nothing to chart.")
    st.stop()

first_day: date = now.astimezone(cfg.tz).date() - timedelta(days=days - 1)
st.caption(f"From {first_day:%a %d %b} to today, in the clinic's time zone.")
labels = _labels(stats)
per_day = _per_day(stats, labels)

if per_day["Uses"].sum() == 0 and per_day["Minutes in use"].sum() == 0:
    st.info("No station was used in this period.")
else:
    _charts(per_day)


st.subheader("Cleaning")
st.caption(
    "Compliance is the share of uses that were followed by a cleaning before the station was used again. "
    "The median time to clean is the typical wait from the end of a use to its cleaning: half of the "
    "cleanings came sooner, half later. A dash means there is nothing to measure yet: no use needed a "
    "cleaning, or none was cleaned."
)
st.dataframe(_cleaning(stats, labels), hide_index=True, placeholder="-")
