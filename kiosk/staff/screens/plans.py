"""Exercises and plans (admin): the exercise library, and each patient's plan: add, edit, reorder, end."""

from __future__ import annotations

from datetime import date
from typing import Literal

import pandas as pd
import streamlit as st
from streamlit.runtime.uploaded_file_manager import UploadedFile

from kiosk import resources
from kiosk.failsafe import safe_callback
from kiosk.staff.actions import attempt, run_action
from kiosk.staff.auth import require
from kiosk.staff.kit import acting_user, bidi_safe, clinic_today, notify, pick_patient, show_error, show_notice
from shared.care.exercise_images import image_data_uri, save_image
from shared.care.exercises import add_exercise, list_exercises, update_exercise
from shared.care.models import Exercise
from shared.care.plans import (
    PlanLineFields,
    PlanRow,
    add_plan_item,
    end_plan_item,
    list_plan_items,
    move_plan_item,
    update_plan_item,
)
from shared.equipment.stations import list_stations
from shared.store.db import read_session
from shared.store.errors import ClinicError

PICTURE_LABEL = "Picture for patients (PNG or JPEG, at most 2 MB)"

user = require("plans")
cfg = resources.settings()
st.title("Exercises and plans")
show_notice()
today = clinic_today()
with read_session(resources.engine()) as session:
    exercises = list_exercises(session=session)
    stations = {s.id: f"{s.name} ({s.id})" for s in list_stations(session=session, tz=cfg.tz, site=cfg.site)}


# --- the exercise library --------------------------------------------------------------------------------------


def _library() -> None:
    if exercises:
        rows = [{"Exercise": e.name, "Equipment kind": e.equipment_kind or "", "Instructions": e.instructions}
                for e in exercises]  # fmt: skip
        st.dataframe(pd.DataFrame(rows), hide_index=True, key="exercise_table")
    else:
        st.info("The library is empty: add the first exercise below.")
    with st.form("add_exercise"):
        st.markdown("**Add an exercise**")
        name = st.text_input("Name", key="exercise_add_name", max_chars=120)
        instructions = st.text_area("Instructions for the patient", key="exercise_add_instructions", max_chars=5000)
        kind = st.text_input("Equipment kind (optional, e.g. treadmill)", key="exercise_add_kind", max_chars=64)
        name_es = st.text_input("Name in Spanish (optional)", key="exercise_add_name_es", max_chars=120)
        instructions_es = st.text_area("Instructions in Spanish (optional)", key="exercise_add_instructions_es",
                                       max_chars=5000)  # fmt: skip
        upload = st.file_uploader(PICTURE_LABEL, type=["png", "jpg", "jpeg"], key="exercise_add_image")
        if st.form_submit_button("Add exercise", type="primary", key="exercise_add_submit"):
            picture = attempt(lambda: _saved_picture(upload))  # a bad file is refused before the library changes
            if picture is not None and run_action(lambda session: add_exercise(
                session=session, name=name, instructions=instructions, equipment_kind=kind, name_es=name_es,
                instructions_es=instructions_es, image_file=picture.value, replace=False, actor=user.username,
            )) is not None:  # fmt: skip
                notify(f"Added {bidi_safe(' '.join(name.split()))} to the library.")
                st.rerun()
    if exercises:
        _edit_exercise(exercises)


def _edit_exercise(library: list[Exercise]) -> None:
    names = {e.id: e.name for e in library}
    chosen = st.selectbox("Exercise to edit", list(names), format_func=lambda i: names[i], key="exercise_edit_pick")
    exercise = next(e for e in library if e.id == chosen)
    eid = exercise.id
    with st.form(f"edit_exercise_{eid}"):
        name = st.text_input("Name", value=exercise.name, key=f"exercise_name_{eid}", max_chars=120)
        instructions = st.text_area("Instructions for the patient", value=exercise.instructions,
                                    key=f"exercise_instructions_{eid}", max_chars=5000)  # fmt: skip
        kind = st.text_input("Equipment kind", value=exercise.equipment_kind or "", key=f"exercise_kind_{eid}",
                             max_chars=64)  # fmt: skip
        name_es = st.text_input("Name in Spanish", value=exercise.name_es or "", key=f"exercise_name_es_{eid}",
                                max_chars=120)  # fmt: skip
        instructions_es = st.text_area("Instructions in Spanish", value=exercise.instructions_es or "",
                                       key=f"exercise_instructions_es_{eid}", max_chars=5000)  # fmt: skip
        picture = image_data_uri(resources.settings().data_dir, exercise.image_file)
        if picture:
            st.image(picture, caption="The picture patients see", width=200)
        upload = st.file_uploader(f"New {PICTURE_LABEL[0].lower()}{PICTURE_LABEL[1:]}", type=["png", "jpg", "jpeg"],
                                  key=f"exercise_image_{eid}")  # fmt: skip
        remove = st.checkbox("Remove the picture", key=f"exercise_no_image_{eid}", disabled=not exercise.image_file)
        if not st.form_submit_button("Save exercise", key=f"exercise_save_{eid}"):
            return
    assert eid is not None
    new_picture = attempt(lambda: _saved_picture(upload) or ("" if remove else None))
    if new_picture is None or run_action(lambda session: update_exercise(
        session=session, exercise_id=eid, name=name, instructions=instructions, equipment_kind=kind, name_es=name_es,
        instructions_es=instructions_es, image_file=new_picture.value, actor=user.username,
    )) is None:  # fmt: skip
        return
    notify("Saved the exercise; plans that use it show the change.")
    st.rerun()


def _saved_picture(upload: UploadedFile | None) -> str | None:
    """Store an uploaded picture (checked: PNG or JPEG, at most 2 MB); None without one."""
    if upload is None:
        return None
    return save_image(resources.settings().data_dir, upload.getvalue())


# --- a patient's plan ------------------------------------------------------------------------------------------


@safe_callback("plan move")
def _move(item_id: int, direction: Literal["up", "down"]) -> None:
    """Button callback (before the page redraws, so the list shows the new order)."""
    actor = acting_user("plans")
    if actor is None:
        return
    run_action(lambda session: move_plan_item(session=session, item_id=item_id, direction=direction,
                                              today=clinic_today(), actor=actor.username),
               refused=_tell)  # fmt: skip


@safe_callback("plan end")
def _end(item_id: int, exercise: str) -> None:
    """Button callback: the line stops showing from today."""
    actor = acting_user("plans")
    if actor is None:
        return
    ended = run_action(lambda session: end_plan_item(session=session, item_id=item_id, today=clinic_today(),
                                                     actor=actor.username), refused=_tell)  # fmt: skip
    if ended is None:
        return
    name = bidi_safe(exercise)
    notify(f"Removed {name} (it had not started)." if ended.value else f"Ended {name}: it no longer shows.")


def _tell(exc: ClinicError) -> None:
    """A refused button callback: the notice shows once the page redraws."""
    notify(str(exc), "error")


def _dates(row: PlanRow) -> str:
    start = "" if row.active_from <= today else f"from {row.active_from:%Y-%m-%d} "
    return f"{start}until {row.active_to:%Y-%m-%d}" if row.active_to else f"{start}ongoing".strip()


def _plan_lines(rows: list[PlanRow]) -> None:
    if not rows:
        st.info("No plan lines showing from today on: add one below.")
        return
    for index, row in enumerate(rows):
        with st.container(border=True, key=f"plan-line-{row.id}"):
            number, what, when, buttons = st.columns([0.4, 5, 2, 3], vertical_alignment="center")
            number.text(f"{index + 1}.")
            station = stations.get(row.equipment_id, row.equipment_id) if row.equipment_id else ""
            station = f" · station {bidi_safe(station)}" if station else ""
            notes = f"\nNotes: {bidi_safe(row.notes)}" if row.notes else ""
            what.text(f"{bidi_safe(row.exercise)}: {bidi_safe(row.dose) or 'no dose set'}{station}{notes}")
            when.text(_dates(row))
            up, down, end = buttons.columns(3)
            up.button("Up", key=f"plan_up_{row.id}", disabled=index == 0, on_click=_move, args=(row.id, "up"))
            down.button("Down", key=f"plan_down_{row.id}", disabled=index == len(rows) - 1, on_click=_move,
                        args=(row.id, "down"))  # fmt: skip
            end.button("End", key=f"plan_end_{row.id}", on_click=_end, args=(row.id, row.exercise),
                       help="Stops showing from today; past days keep it.")  # fmt: skip


def _line_form(key: str, row: PlanRow | None) -> PlanLineFields | None:
    """The fields of a plan line (prefilled from `row`); the values when submitted, else None."""
    names = [e.name for e in exercises]
    with st.form(key):
        exercise = st.selectbox("Exercise", names, index=names.index(row.exercise) if row else None,
                                placeholder="Choose an exercise", key=f"{key}_exercise")  # fmt: skip
        sets_col, reps_col, hold_col, minutes_col = st.columns(4)
        sets = sets_col.number_input("Sets", min_value=1, max_value=1000, step=1, value=row.sets if row else None,
                                     key=f"{key}_sets")  # fmt: skip
        reps = reps_col.number_input("Reps", min_value=1, max_value=1000, step=1, value=row.reps if row else None,
                                     key=f"{key}_reps")  # fmt: skip
        hold = hold_col.number_input("Hold (s)", min_value=1, max_value=1000, step=1,
                                     value=row.hold_s if row else None, key=f"{key}_hold")  # fmt: skip
        minutes = minutes_col.number_input("Minutes", min_value=0.5, max_value=1000.0, step=0.5,
                                           value=row.minutes if row else None, key=f"{key}_minutes")  # fmt: skip
        load_col, station_col = st.columns(2)
        load = load_col.text_input("Load (e.g. 2 kg)", value=(row.load or "") if row else "", key=f"{key}_load",
                                   max_chars=60)  # fmt: skip
        options: list[str | None] = [None, *stations]
        current = row.equipment_id if row else None
        if current is not None and current not in stations:
            options.append(current)  # a station since removed or not registered: keep it choosable
        station = station_col.selectbox("Station", options, index=options.index(current),
                                        format_func=lambda s: "None" if s is None else stations.get(s, s),
                                        key=f"{key}_station")  # fmt: skip
        notes = st.text_input("Notes for the patient", value=(row.notes or "") if row else "", key=f"{key}_notes",
                              max_chars=500)  # fmt: skip
        from_col, to_col = st.columns(2)
        active_from = from_col.date_input("From", value=row.active_from if row else today, key=f"{key}_from",
                                          format="YYYY-MM-DD")  # fmt: skip
        active_to = to_col.date_input("Until (optional)", value=row.active_to if row else None, key=f"{key}_to",
                                      format="YYYY-MM-DD")  # fmt: skip
        if not st.form_submit_button("Save line" if row else "Add line", type="primary", key=f"{key}_submit"):
            return None
    if not exercise:
        show_error("choose an exercise for the line")
        return None
    return {"exercise": exercise, "sets": _int(sets), "reps": _int(reps), "hold_s": _int(hold),
            "minutes": None if minutes is None else float(minutes), "load": load, "notes": notes,
            "equipment_site": cfg.site if station else None, "equipment_id": station,
            "active_from": _day(active_from) or today, "active_to": _day(active_to)}  # fmt: skip


def _int(value: float | None) -> int | None:
    return None if value is None else int(value)


def _day(value: object) -> date | None:
    return value if isinstance(value, date) else None


def _plan() -> None:
    patient_id = pick_patient("plan")
    if patient_id is None:
        return
    try:
        with read_session(resources.engine()) as session:
            rows = list_plan_items(session=session, patient_id=patient_id, today=today)
    except ClinicError as exc:
        show_error(str(exc))
        return
    st.header("Plan from today on")
    _plan_lines(rows)
    if not exercises:
        st.info("Add exercises to the library first.")
        return
    with st.expander("Add a line", expanded=not rows):
        values = _line_form(f"plan_add_{patient_id}", None)
        if values is not None:
            line = values
            if run_action(lambda session: add_plan_item(session=session, patient_id=patient_id, actor=user.username,
                                                        **line)) is not None:  # fmt: skip
                notify(f"Added {bidi_safe(values['exercise'])} to the plan.")
                st.rerun()
    if rows:
        with st.expander("Edit a line"):
            labels = {r.id: f"{i + 1}. {bidi_safe(r.exercise)}" for i, r in enumerate(rows)}
            chosen = st.selectbox("Line", list(labels), format_func=lambda i: labels[i], key="plan_edit_pick")
            row = next(r for r in rows if r.id == chosen)
            values = _line_form(f"plan_edit_{row.id}", row)
            if values is not None:
                edited = values
                if run_action(lambda session: update_plan_item(session=session, item_id=row.id, actor=user.username,
                                                               **edited)) is not None:  # fmt: skip
                    notify(f"Saved line {list(labels).index(row.id) + 1}.")
                    st.rerun()


plan_tab, library_tab = st.tabs(["Patient plans", "Exercise library"])
with plan_tab:
    _plan()
with library_tab:
    _library()
