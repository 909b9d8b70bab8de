"""Outcomes on the Patients page: each questionnaire's score over time with its MCID band, whether it improved by
more than the MCID since intake, and when each questionnaire is asked (assign, change, stop)."""

from __future__ import annotations

import altair as alt
import pandas as pd
import streamlit as st

from kiosk import resources
from kiosk.staff.actions import run_action
from kiosk.staff.chart_theme import use_staff_chart_theme
from kiosk.staff.kit import notify
from kiosk.theme import literal
from shared.outcomes.catalogue import catalogue
from shared.outcomes.progress import Progress, patient_outcomes
from shared.outcomes.schedule import assign, assignments, unassign
from shared.store.db import read_session

WHEN = {"every_visit": "Every visit", "every_visits": "Every N visits", "every_days": "Every N days",
        "intake": "At intake (once)", "discharge": "At discharge (the next visit)"}  # fmt: skip


def outcomes_panel(patient_id: int, actor: str) -> None:
    """The patient's outcome charts and verdicts, then their questionnaires and the form to assign one."""
    with read_session(resources.engine()) as session:
        progress = patient_outcomes(session=session, patient_id=patient_id)
        assigned = assignments(session=session, patient_id=patient_id)
        known = catalogue(session=session)
    st.subheader("Outcomes")
    if not progress:
        st.caption("No questionnaires assigned or answered yet.")
    for found in progress:
        _progress(patient_id, found)
    for item in assigned:
        words = f"{item.title}: asked {item.rule.words}"
        if item.activities:
            words += " (" + "; ".join(item.activities) + ")"
        left, right = st.columns([3, 1], vertical_alignment="center")
        left.markdown(literal(words))
        if right.button("Stop asking", key=f"unassign_{patient_id}_{item.questionnaire}"):
            _stop(patient_id, item.questionnaire, item.title, actor)
    _assign_form(patient_id, actor, {i.code: i.name("en") for i in known},
                 {i.code for i in known if any(item.patient_named for item in i.items)})  # fmt: skip


def _stop(patient_id: int, code: str, title: str, actor: str) -> None:
    done = run_action(lambda session: unassign(session=session, patient_id=patient_id, questionnaire=code,
                                               actor=actor))  # fmt: skip
    if done is not None:
        notify(f"{title} is no longer asked.")
        st.rerun()


def _progress(patient_id: int, found: Progress) -> None:
    st.markdown(f"**{literal(found.title)}** ({found.low:g} to {found.high:g}, {found.better} is better; "
                f"MCID {found.mcid:g})")  # fmt: skip
    if found.points:
        st.altair_chart(_chart(found), width="stretch", key=f"outcome_chart_{patient_id}_{found.questionnaire}")
    if found.verdict.improved:
        st.success(found.verdict.words)
    else:
        st.info(found.verdict.words)


def _chart(found: Progress) -> alt.LayerChart | alt.FacetChart:
    """Scores over time on the instrument's range, with the band of less than one MCID around the intake score.

    Axes in plain words: whole numbers on the score axis (Vega's "~g" drew 10 as "1e+1"), days on the time axis
    (the clinic's local day, e.g. "23 Nov"), one axis title ("Score", not the band's field names)."""
    use_staff_chart_theme()
    tz = resources.settings().tz
    frame = pd.DataFrame([{"Day": p.at.astimezone(tz).replace(tzinfo=None), "Score": p.score,
                           "When": p.at.astimezone(tz).strftime("%d %b %Y %H:%M")} for p in found.points])  # fmt: skip
    intake = found.points[0].score
    band = pd.DataFrame([{"low": max(found.low, intake - found.mcid), "high": min(found.high, intake + found.mcid)}])
    scale = alt.Scale(domain=[found.low, found.high])
    axis = alt.Axis(format="d", tickMinStep=1)
    x = alt.X("Day:T", title="Date", axis=alt.Axis(format="%d %b", labelAngle=0, tickMinStep=86_400_000))
    area = alt.Chart(band).mark_rect(opacity=0.18, color="#1f77b4").encode(
        y=alt.Y("low:Q", title="Score", scale=scale, axis=axis), y2=alt.Y2("high:Q", title="Score"))  # fmt: skip
    line = alt.Chart(frame).mark_line(point=alt.OverlayMarkDef(size=90), color="#0b3d91").encode(
        x=x, y=alt.Y("Score:Q", title="Score", scale=scale, axis=axis),
        tooltip=["When", alt.Tooltip("Score:Q", format=".3~f")])  # fmt: skip
    title = f"{found.title}: shaded, within one MCID ({found.mcid:g}) of intake"
    return alt.layer(area, line).properties(height=260, title=title)


def _assign_form(patient_id: int, actor: str, titles: dict[str, str], named: set[str]) -> None:
    with st.expander("Assign a questionnaire"), st.form(f"assign_questionnaire_{patient_id}"):
        code = st.selectbox("Questionnaire", list(titles), format_func=lambda c: f"{titles[c]} ({c})",
                            key=f"assign_q_{patient_id}")  # fmt: skip
        when = st.radio("When", list(WHEN), format_func=WHEN.__getitem__, key=f"assign_when_{patient_id}")
        every = st.number_input("N (visits or days)", min_value=1, max_value=365, value=3, step=1,
                                key=f"assign_n_{patient_id}")  # fmt: skip
        activities = st.text_area("Activities the patient names (PSFS: one a line, up to 5)",
                                  key=f"assign_activities_{patient_id}", max_chars=420)  # fmt: skip
        if not st.form_submit_button("Assign", type="primary", key=f"assign_submit_{patient_id}"):
            return
    visits = 1 if when == "every_visit" else int(every) if when == "every_visits" else None
    days = int(every) if when == "every_days" else None
    lines = [line for line in activities.splitlines() if line.strip()] if code in named else None
    done = run_action(lambda session: assign(session=session, patient_id=patient_id, questionnaire=code,
                                             every_visits=visits, every_days=days, at_intake=when == "intake",
                                             at_discharge=when == "discharge", activities=lines,
                                             actor=actor))  # fmt: skip
    if done is None:
        return
    notify(f"{done.value.title} asked {done.value.rule.words}.")
    st.rerun()
