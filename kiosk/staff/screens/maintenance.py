"""Maintenance: every station's maintenance tasks and where each stands (due soon, overdue, missed), marking one
done with notes (technicians, managers, admins), and for admins adding tasks and the clinic's disinfectants.

Thin over shared/equipment/maintenance.py, maintenance_blocks.py and disinfectants.py; opening the page also takes
out of service a station whose overdue task blocks use (as the board does).
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from kiosk import resources
from kiosk.staff.actions import run_action
from kiosk.staff.auth import require
from kiosk.staff.kit import apply_maintenance_blocks, local, plain_table, rerun_with_notice, show_notice
from shared.equipment.disinfectants import add_disinfectant, list_disinfectants
from shared.equipment.maintenance import STATUS_WORDS, TaskStatus, add_task, maintenance_due
from shared.equipment.maintenance_blocks import done
from shared.equipment.stations import list_stations
from shared.store.db import read_session
from shared.store.types import utcnow

user = require("maintenance")
cfg = resources.settings()
SCHEDULES = {"days": "Every N days (calendar)", "hours": "Every N hours of use"}

st.title("Maintenance")
show_notice()


def _due_table(tasks: list[TaskStatus]) -> None:
    st.header("Tasks")
    if not tasks:
        st.info("No maintenance tasks are planned yet." + (" Add one below." if user.can("equipment") else ""))
        return
    rows = [{"Station": t.station_name, "Task": t.task, "Schedule": t.schedule, "Status": STATUS_WORDS[t.status],
             "Due": local(t.due_at, cfg.tz) if t.due_at else f"{t.hours_used:g} h used",
             "Last done": (f"{local(t.last_done, cfg.tz)} by {t.last_done_by}" if t.last_done else "never"),
             "Blocks use": "yes" if t.blocks_use else "no"} for t in tasks]  # fmt: skip
    plain_table(pd.DataFrame(rows), label="Maintenance tasks", key="maintenance-tasks")


def _mark_done(tasks: list[TaskStatus]) -> None:
    st.header("Mark a task done")
    if not tasks:
        return
    labels = {f"{t.station}/{t.task}": f"{t.station_name}: {t.task} ({STATUS_WORDS[t.status]})" for t in tasks}
    by_key = {f"{t.station}/{t.task}": t for t in tasks}
    with st.form("maintenance_done"):
        chosen = st.radio("Task", list(labels), format_func=labels.__getitem__, index=None, key="done_task")
        notes = st.text_area("Notes (what was done, readings, parts)", key="done_notes", max_chars=4000, height=90)
        submitted = st.form_submit_button("Mark done", type="primary")
    if not submitted:
        return
    if chosen is None:
        st.error("Choose the task that was done.")
        return
    task = by_key[chosen]
    result = run_action(lambda session: done(session=session, site=task.site, equipment_id=task.station,
                                             task=task.task, by=user.username, notes=notes, tz=cfg.tz,
                                             now=utcnow()))  # fmt: skip
    if result is not None:
        back = "; it is back in service" if result.value else ""
        rerun_with_notice(f"{task.station_name}: {task.task} done{back}.")


def _add_task() -> None:
    st.header("Add a task")
    with read_session(resources.engine()) as session:
        stations = {s.id: s.name for s in list_stations(session=session, tz=cfg.tz, site=cfg.site)}
    if not stations:
        st.info("Register a station first (Equipment).")
        return
    with st.form("maintenance_add"):
        station = st.selectbox("Station", list(stations), format_func=lambda i: f"{stations[i]} ({i})",
                               key="add_station")  # fmt: skip
        task = st.text_input("Task", key="add_task", help="e.g. Calibration, Electrical safety check")
        schedule = st.radio("Schedule", list(SCHEDULES), format_func=SCHEDULES.__getitem__, key="add_schedule",
                            horizontal=True)  # fmt: skip
        every = st.number_input("N", min_value=0.0, value=30.0, step=1.0, key="add_every")
        blocks = st.checkbox("Take the station out of service while this task is overdue", key="add_blocks")
        submitted = st.form_submit_button("Add task", type="primary")
    if not submitted or station is None:
        return
    days, hours = (every, None) if schedule == "days" else (None, every)
    result = run_action(lambda session: add_task(session=session, site=cfg.site, equipment_id=station, task=task,
                                                 every_days=days, every_hours=hours, blocks_use=blocks,
                                                 by=user.username))  # fmt: skip
    if result is not None:
        rerun_with_notice(f"Added {result.value.task} to {stations[station]}'s plan.")


def _disinfectants() -> None:
    st.header("Disinfectants")
    st.caption("What 'Mark cleaned' offers, each with its contact time (how long the surface stays wet). With "
               "none listed, cleanings use the contact time set for the station's kind.")  # fmt: skip
    with read_session(resources.engine()) as session:
        listed = list_disinfectants(session=session)
    if listed:
        rows = [{"Name": d.name, "Contact time (min)": f"{d.contact_min:g}", "Default": "yes" if d.is_default else "no"}
                for d in listed]  # fmt: skip
        plain_table(pd.DataFrame(rows), label="Disinfectants", key="maintenance-disinfectants")
    with st.form("disinfectant_add"):
        name = st.text_input("Name, as on the label", key="dis_name")
        minutes = st.number_input("Contact time (minutes)", min_value=0.0, max_value=60.0, value=2.0, step=0.5,
                                  key="dis_minutes")  # fmt: skip
        default = st.checkbox("The clinic's default", key="dis_default")
        submitted = st.form_submit_button("Add disinfectant")
    if not submitted:
        return
    result = run_action(lambda session: add_disinfectant(session=session, name=name, contact_min=minutes,
                                                         by=user.username, default=default))  # fmt: skip
    if result is not None:
        rerun_with_notice(f"Added {result.value.name} ({result.value.contact_min:g} min).")


apply_maintenance_blocks()
with read_session(resources.engine()) as session:
    all_tasks = maintenance_due(session=session, now=utcnow(), site=cfg.site, include_ok=True)
_due_table(all_tasks)
_mark_done(all_tasks)
if user.can("equipment"):
    _add_task()
    _disinfectants()
