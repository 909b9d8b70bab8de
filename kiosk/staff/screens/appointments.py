"""Appointments (front desk): a day's list, booking, changing one, and importing the scheduling system's CSV."""

from __future__ import annotations

from datetime import date

import pandas as pd
import streamlit as st
from sqlmodel import Session

from kiosk import resources
from kiosk.staff.actions import run_action
from kiosk.staff.auth import require
from kiosk.staff.kit import bidi_safe, clinic_today, notify, pick_patient, show_notice
from shared.care.appointments import (
    CSV_COLUMNS,
    add_appointment,
    import_appointments_csv,
    next_statuses,
    update_appointment,
)
from shared.care.arrivals import STATUS_WORDS, Arrival, day_appointments
from shared.store.clock import parse_local_datetime
from shared.store.db import read_session
from shared.store.errors import ValidationFailed
from shared.store.types import utcnow

CSV_MAX_BYTES = 2_000_000
IMPORTED_KEY = "appointments_imported_files"  # upload ids already imported in this session

user = require("appointments")
cfg = resources.settings()
st.title("Appointments")
show_notice()


def _clock(row: Arrival) -> str:
    return f"{row.starts_at.astimezone(cfg.tz):%H:%M}"


def _list(day: date, rows: list[Arrival]) -> None:
    if not rows:
        st.info(f"No appointments on {day:%A %d %B %Y}.")
        return
    # "Patient #" as on the Patients page: the patient's number, not the appointment's.
    table = [{"Time": _clock(r), "Minutes": r.minutes, "Patient": r.patient_name, "Patient #": r.patient_id,
              "Clinician": r.clinician, "Status": STATUS_WORDS.get(r.status, r.status)} for r in rows]  # fmt: skip
    st.caption(f"{len(rows)} appointment(s) on {day:%A %d %B %Y}.")
    st.dataframe(pd.DataFrame(table), hide_index=True, key="appointments_table")


def _book(day: date) -> None:
    st.header("Book an appointment")
    patient_id = pick_patient("book")
    if patient_id is None:
        return
    with st.form("book_appointment"):
        left, middle, right = st.columns(3)
        when = left.date_input("Date", value=day, key="book_date", format="YYYY-MM-DD")
        clock = middle.text_input("Time (HH:MM)", key="book_time", placeholder="10:30", max_chars=40)
        minutes = right.number_input("Minutes", min_value=5, max_value=480, value=45, step=5, key="book_minutes")
        clinician = left.text_input("Clinician", key="book_clinician", max_chars=100)
        if not st.form_submit_button("Book", type="primary", key="book_submit"):
            return
    done = run_action(lambda session: add_appointment(
        session=session, patient_id=patient_id, starts_at=parse_local_datetime(clock, cfg.tz, today=when),
        site=cfg.site, minutes=int(minutes), clinician=clinician, actor=user.username))  # fmt: skip
    if done is None:
        return
    booked = done.value
    notify(f"Booked appointment #{booked.id} on {booked.starts_at.astimezone(cfg.tz):%Y-%m-%d at %H:%M}.")
    st.rerun()


def _change(rows: list[Arrival]) -> None:
    st.header("Change an appointment")
    if not rows:
        st.caption("No appointments on this day to change.")
        return
    labels = {r.appointment_id: f"{_clock(r)} {bidi_safe(r.patient_name)}"
              + (f" with {bidi_safe(r.clinician)}" if r.clinician else "")
              + f" · {STATUS_WORDS.get(r.status, r.status)} · appointment {r.appointment_id}"
              for r in rows}  # fmt: skip
    chosen = st.selectbox("Appointment", list(labels), format_func=lambda a: labels[a], key="change_pick")
    row = next(r for r in rows if r.appointment_id == chosen)
    aid = row.appointment_id
    with st.form(f"change_appointment_{aid}"):
        left, middle, right = st.columns(3)
        local_start = row.starts_at.astimezone(cfg.tz)
        when = left.date_input("Date", value=local_start.date(), key=f"change_date_{aid}", format="YYYY-MM-DD")
        clock = middle.text_input("Time (HH:MM)", value=f"{local_start:%H:%M}", key=f"change_time_{aid}",
                                  max_chars=40)  # fmt: skip
        minutes = right.number_input("Minutes", min_value=5, max_value=480, value=row.minutes, step=5,
                                     key=f"change_minutes_{aid}")  # fmt: skip
        clinician = left.text_input("Clinician", value=row.clinician, key=f"change_clinician_{aid}", max_chars=100)
        statuses = (row.status, *next_statuses(row.status))  # only the changes the workflow allows
        status = middle.selectbox("Status", statuses, index=0, format_func=lambda s: STATUS_WORDS[s],
                                  key=f"change_status_{aid}")  # fmt: skip
        if not st.form_submit_button("Save changes", key=f"change_submit_{aid}"):
            return
    done = run_action(lambda session: update_appointment(
        session=session, appointment_id=aid, starts_at=parse_local_datetime(clock, cfg.tz, today=when),
        minutes=int(minutes), clinician=clinician, status=status, actor=user.username))  # fmt: skip
    if done is None:
        return
    notify(f"Saved the changes to appointment #{aid}.")
    st.rerun()


def _import(day: date) -> None:
    st.header("Import from the scheduling system")
    st.caption(f"A CSV file with the columns {','.join(CSV_COLUMNS)} (minutes and clinician may be empty). "
               f"Times without a date are on {day:%Y-%m-%d}. One bad row imports nothing.")  # fmt: skip
    upload = st.file_uploader("CSV file", type=["csv"], key="appointments_csv")
    if upload is None or not st.button("Import", type="primary", key="appointments_import"):
        return
    imported: set[str] = st.session_state.setdefault(IMPORTED_KEY, set())

    def import_file(session: Session) -> int:
        if upload.file_id in imported:
            raise ValidationFailed("this file was imported already; upload it again to import it a second time")
        if upload.size > CSV_MAX_BYTES:
            raise ValidationFailed(f"the file is larger than {CSV_MAX_BYTES // 1_000_000} MB")
        try:
            text = upload.getvalue().decode("utf-8")
        except UnicodeDecodeError:
            raise ValidationFailed("the file is not UTF-8 text: save it as 'CSV UTF-8'") from None
        return len(import_appointments_csv(session=session, text=text, site=cfg.site, tz=cfg.tz, today=day,
                                           actor=user.username))  # fmt: skip

    done = run_action(import_file)
    if done is None:
        return
    imported.add(upload.file_id)
    notify(f"Imported {done.value} appointment(s).")
    st.rerun()


chosen_day = st.date_input("Day", value=clinic_today(), key="appointments_day", format="YYYY-MM-DD")
with read_session(resources.engine()) as session:
    day_rows = day_appointments(session=session, site=cfg.site, tz=cfg.tz, day=chosen_day, now=utcnow())
_list(chosen_day, day_rows)
st.divider()
_book(chosen_day)
st.divider()
_change(day_rows)
st.divider()
_import(chosen_day)
