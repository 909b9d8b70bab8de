"""Reports (managers and admins): the weekly report of a site, its charts and tables, and the same report as
CSV files (one per table, in a ZIP) or as the A4 PDF (shared/reports; docs/reports.md)."""

from __future__ import annotations

import altair as alt
import pandas as pd
import streamlit as st

from kiosk import resources
from kiosk.staff.auth import require
from kiosk.staff.kit import plain_table
from shared.reports.csv_files import csv_zip
from shared.reports.pdf import pdf_bytes
from shared.reports.table import Table
from shared.reports.week_report import build_week_report, report_sites
from shared.reports.weeks import Week, recent_weeks
from shared.reports.words import figure_words
from shared.store.db import read_session
from shared.store.types import utcnow

WEEKS_SHOWN = 12
TABLES = ("usage", "cleaning", "cleaning_by_zone", "maintenance", "maintenance_done", "arrivals", "adherence",
          "outcomes")  # fmt: skip

user = require("reports")
cfg = resources.settings()
st.title("Reports")


def _week_words(week: Week) -> str:
    so_far = " (this week, so far)" if week is weeks[0] else ""
    return f"{week.label}: {week.days[0]:%a %d %b} to {week.days[-1]:%a %d %b %Y}{so_far}"


def _frame(table: Table) -> pd.DataFrame:
    return pd.DataFrame(table.rows, columns=list(table.columns), dtype=object)


BAR_PX = 44  # a bar's row: its 16 px label and the gap to the next
HOUR_PX = 32  # a heatmap row: every hour labelled, its figure written in it at 16 px
AXES_PX = 90  # an axis with its title, beside the plot


def _bars_height(table: Table) -> int:
    return max(120, BAR_PX * len(table.rows))


def _bars(table: Table, value: str, title: str, names: dict[str, str],
          domain: tuple[float, float] | None = None) -> alt.Chart:  # fmt: skip
    """One bar per station, named as on the board, the figure written at its end (the same number as the table's)."""
    frame = _frame(table)[["station", value]].copy()
    frame["station"] = frame["station"].map(lambda s: names.get(s, s))
    frame["shown"] = frame[value].map(lambda v: "-" if v is None else str(v))
    frame[value] = frame[value].map(lambda v: 0.0 if v is None else float(v))
    scale = alt.Scale(domain=list(domain)) if domain else alt.Scale()
    ticks = alt.Axis(format="~f", values=[0, 25, 50, 75, 100]) if domain else alt.Axis(format="~f", tickMinStep=1)
    x = alt.X(f"{value}:Q", title=title, scale=scale, axis=ticks)
    y = alt.Y("station:N", sort=None, title="Station")
    base = alt.Chart(frame).encode(x=x, y=y)
    text = base.mark_text(align="left", dx=4, fontSize=16).encode(text="shown:N")
    return (base.mark_bar(color="#1f5f8b") + text).properties(height=_bars_height(table))


def _heatmap(table: Table) -> alt.Chart:
    """Local hours down, days across; each cell's utilization_pct written in it."""
    frame = _frame(table)
    frame["day"] = frame["weekday"] + " " + frame["date"].str.slice(8, 10)
    frame["shown"] = [
        ("-" if v is None else str(v)) + (" (2 h)" if length == 2.0 else "")
        for v, length in zip(frame["utilization_pct"], frame["hour_length_hours"], strict=True)
    ]
    frame["utilization_pct"] = frame["utilization_pct"].map(lambda v: 0.0 if v is None else float(v))
    days = list(dict.fromkeys(frame["day"]))
    base = alt.Chart(frame).encode(
        x=alt.X("day:O", sort=days, title="day", axis=alt.Axis(orient="top", labelAngle=0)),
        y=alt.Y("hour:O", title="local hour", sort="ascending", axis=alt.Axis(labelOverlap=False)),
    )
    shade = alt.Color("utilization_pct:Q", scale=alt.Scale(scheme="blues", domainMin=0), title="utilization_pct",
                      legend=alt.Legend(orient="bottom", format="~f"))  # fmt: skip
    cells = base.mark_rect().encode(
        color=shade,
        tooltip=["date", "hour", "hour_length_hours", "in_use_hours", "utilization_pct"],
    )
    dark = alt.datum.utilization_pct > 0.6 * max(10.0, float(frame["utilization_pct"].max()))
    text = base.mark_text(fontSize=16).encode(
        text="shown:N", color=alt.condition(dark, alt.value("white"), alt.value("#31333f"))
    )
    return (cells + text).properties(height=24 * HOUR_PX)


weeks = recent_weeks(utcnow(), cfg.tz, WEEKS_SHOWN)
with read_session(resources.engine()) as session:
    sites = report_sites(session=session, home=cfg.site)
left, right = st.columns(2)
week = left.selectbox("Week", weeks, index=1, format_func=_week_words, key="report_week")
site = right.selectbox("Site", sites, key="report_site")
with read_session(resources.engine()) as session:
    report = build_week_report(session=session, site=site, week=week)
st.caption(f"Monday {week.days[0]:%d %b} 00:00 to Sunday {week.days[-1]:%d %b} 24:00 on the clinic's clock "
           f"({cfg.timezone or 'local time'}): {week.hours:g} hours.")  # fmt: skip

csv_button, pdf_button = st.columns(2)
csv_button.download_button("Download CSV", data=csv_zip(report), file_name=f"report-{week.label}-{site}-csv.zip",
                           mime="application/zip", key="download_csv")  # fmt: skip
pdf_button.download_button("Download PDF", data=pdf_bytes(report), file_name=f"report-{week.label}-{site}.pdf",
                           mime="application/pdf", key="download_pdf")  # fmt: skip

summary = report.table("summary")
st.header("The week at a glance")
plain_table(pd.DataFrame({"Figure": [figure_words(c) for c in summary.columns], "Value": summary.rows[0],
                          "CSV column": summary.columns}, dtype=object),
            label="The week at a glance", key="report_summary")  # fmt: skip
usage = report.table("usage")
names = {str(s): str(n) for s, n in zip(usage.column("station"), usage.column("name"), strict=True)}

st.header("Uses per station")
# Streamlit sizes a layered chart by its own default unless told: each gets its plot's height plus its axis.
st.altair_chart(_bars(usage, "uses", "Uses", names), key="chart_report_uses",
                height=_bars_height(usage) + AXES_PX)  # fmt: skip
st.header("Cleaning compliance per station")
st.caption(f"Uses cleaned before the next use and within {cfg.clean_within_min:g} minutes of ending, in %.")
cleaning = report.table("cleaning")
if cleaning.rows:
    st.altair_chart(_bars(cleaning, "cleaning_compliance_pct", "Cleaning compliance (%)", names, (0, 100)),
                    key="chart_report_compliance", height=_bars_height(cleaning) + AXES_PX)  # fmt: skip
else:
    st.info("No station needs cleaning after use.")
st.header("Utilization by local hour and day")
st.caption(
    "Share of station-hours in use, in %, by the clinic's wall clock: '(2 h)' marks the hour the clock "
    "repeated, a dash an hour it skipped."
)
st.altair_chart(_heatmap(report.table("utilization_heatmap")), key="chart_report_heatmap",
                height=24 * HOUR_PX + 2 * AXES_PX)  # fmt: skip

for name in TABLES:
    table = report.table(name)
    st.header(table.title)
    st.caption(f"In the CSV download as {table.name}.csv.")
    plain_table(_frame(table), label=table.title, key=f"report_table_{name}")
