"""Equipment board: "Clean next" (the cleaning queue, by when each station is next needed), then every station
live (both refreshing by themselves), with the actions a technician takes; above them, a banner while no listener
records device messages (shared/equipment/recording.py: nothing when none ever ran on this store).

Which actions a station offers is one rule (shared/equipment/offers.py), the same in its card and in "Clean next".
Each action is confirmed in a bar at the bottom of the screen (a live region, role=status) with one Undo button,
offered until the next action or for 2 minutes (shared/equipment/undo.py); "Out of service" is a fault report with
a category, optional notes and an optional photo (shared/equipment/faults.py), shown in the station's card.
"""

from __future__ import annotations

from datetime import datetime
from html import escape

import streamlit as st

from kiosk import resources
from kiosk.failsafe import safe_callback, staff_guarded
from kiosk.staff.actions import run_action, sentence
from kiosk.staff.auth import current_user, require
from kiosk.staff.kit import apply_maintenance_blocks, clear_notice, notify, show_notice, unknown_devices
from kiosk.theme import literal, status_badge
from shared.equipment import board, undo
from shared.equipment.board import BoardRow
from shared.equipment.cleaning_queue import QueueItem, cleaning_queue, describe_item, hold_places
from shared.equipment.disinfectants import list_disinfectants, usual_names
from shared.equipment.fault_photos import MAX_BYTES, THUMB_SIDE, photo_data_uri
from shared.equipment.faults import CATEGORIES, MAX_NOTES, ShownReport, current_reports
from shared.equipment.maintenance import task_alerts
from shared.equipment.offers import offered
from shared.equipment.recording import recording_status
from shared.equipment.stations import StationView, describe_status
from shared.pictures import FILE_TYPES
from shared.store.db import read_session
from shared.store.errors import ClinicError
from shared.store.types import utcnow

REFUSAL_SHOWN_S = 20  # a refused action's message stays in its station's card for this long
QUEUE_SHOWN = 8  # the first stations of the cleaning queue shown under "Clean next"
RESORT_KEY = "board_queue_resort"  # set by a page run or a tap: "Clean next" may re-sort on its next draw
SHOWN_KEY = "board_queue_shown"  # the station keys "Clean next" shows, in their places
NAMES_KEY = "board_queue_names"
UNDO_KEY = "board_undo"  # the last action (undo.Done), while its Undo is offered
SAID_KEY = "board_undo_said"  # what an undo did or why it was refused: (kind, text, when)
APP_RERUN_KEY = "board_app_rerun"  # a queue row's action ran in its fragment: redraw the page (the confirmation)
Disinfectants = tuple[list[str], dict[str, str]]  # the clinic's, and each station's usual one
BOARD_CSS = """
<style>
.st-key-board-undo { position: fixed; left: 50%; transform: translateX(-50%); bottom: 1.5rem; z-index: 999991;
  width: min(34rem, calc(100vw - 1.5rem)); background: #ffffff; border: 2px solid #1f4e8c; border-radius: 0.6rem;
  box-shadow: 0 4px 18px rgba(0, 0, 0, 0.25); padding: 0.5rem 0.75rem; gap: 0.75rem; }
.st-key-board-undo.board-undo-error, .st-key-board-undo:has(.board-undo-error) { border-color: #a4161a; }
.st-key-board-undo { min-height: 3.75rem; align-items: center; flex-wrap: nowrap; }
.st-key-board-undo [data-testid="stElementContainer"], .st-key-board-undo [data-testid="stMarkdown"],
.st-key-board-undo [data-testid="stMarkdownContainer"] { margin: 0 !important; }
.board-undo-text { font-size: 1.05rem; line-height: 1.4; color: #111111; font-weight: 600; }
.block-container:has(.st-key-board-undo) { padding-bottom: 12rem; }  /* the page's end scrolls clear of it */
.board-fault-photo { max-width: 100%; width: 180px; height: auto; border-radius: 0.3rem; margin: 0.2rem 0; }
@media (max-width: 700px) { .st-key-board-undo { bottom: 5rem; } }  /* above the phone's page bar */
</style>
"""
STATUS_FILTERS = {"All": None, "Needs cleaning": "needs_cleaning", "Cleaning (contact time)": "cleaning",
                  "In use": "in_use", "Available": "available", "Out of service": "out_of_service",
                  "Offline": "offline"}  # fmt: skip

user = require("board")
cfg = resources.settings()
st.markdown(BOARD_CSS, unsafe_allow_html=True)
st.title("Equipment board")
show_notice()


@st.fragment(run_every=cfg.board_refresh_s)
@staff_guarded("recording status")
def recording_banner() -> None:
    """Says so, refreshing by itself, while no listener records device messages: what the board shows may be old."""
    if current_user(touch=False) is None:
        st.rerun()
    now = utcnow()
    with read_session(resources.engine()) as session:
        status = recording_status(session=session, now=now, keepalive_s=cfg.mqtt_keepalive_s)
    if status.stopped:
        st.error(f"Recording stopped since {status.since_text(cfg.tz, now)}: device messages are not being "
                 "recorded; the board may be out of date", icon="⚠️")  # fmt: skip


recording_banner()


def _when(value: datetime | None) -> str:
    return value.astimezone(cfg.tz).strftime("%H:%M") if value else "never"


def _about(equipment_id: str) -> str:
    return f"board:{equipment_id}"


def _act(action: undo.UndoableAction, site: str, equipment_id: str, by: str, **details: object) -> None:
    """Run one board action in one unit of work; done, it is confirmed with an Undo (replacing the last one's);
    refused, the reason stays in the station's card for a while, never a traceback."""

    def refused(exc: ClinicError) -> None:  # survives the redraw that follows
        notify(str(exc), "error", about=_about(equipment_id), linger_s=REFUSAL_SHOWN_S)

    done = run_action(lambda session: undo.act(session=session, action=action, site=site, equipment_id=equipment_id,
                                               by=by, tz=cfg.tz, data_dir=cfg.data_dir, **details),  # type: ignore[arg-type]
                      refused=refused)  # fmt: skip
    if done is None:
        return
    clear_notice(_about(equipment_id))
    st.session_state[UNDO_KEY] = done.value
    st.session_state.pop(SAID_KEY, None)


def _act_here(action: undo.UndoableAction, row: BoardRow, **details: object) -> None:
    """A card's button, for the signed-in user (checked again: the fragment reruns alone)."""
    current = current_user()
    if current is None or not current.can("board"):
        st.rerun(scope="app")
    _act(action, row.station.site, row.station.id, user.username, **details)


@st.fragment(run_every=cfg.board_refresh_s)
@staff_guarded("undo")
def undo_bar() -> None:
    """The last action's confirmation with its Undo, at the bottom of the screen (where a thumb is), until the next
    action or for `undo.UNDO_WINDOW`; then, for a while, what the undo did or why it could not."""
    now = utcnow()
    done: undo.Done | None = st.session_state.get(UNDO_KEY)
    if done is not None and not done.undoable(now):
        st.session_state.pop(UNDO_KEY, None)
        done = None
    said: tuple[str, str, float] | None = st.session_state.get(SAID_KEY)
    if said is not None and now.timestamp() - said[2] >= REFUSAL_SHOWN_S:
        st.session_state.pop(SAID_KEY, None)
        said = None
    if done is None and said is None:
        return
    with st.container(key="board-undo", horizontal=True, vertical_alignment="center"):
        kind, text = (said[0], said[1]) if said is not None else ("success", f"{done.sentence}.")  # type: ignore[union-attr]
        st.markdown(f"<div role='status' class='board-undo-text board-undo-{kind}'>{escape(text)}</div>",
                    unsafe_allow_html=True)  # fmt: skip
        if said is None and done is not None and st.button("Undo", key="board-undo-button", type="primary"):
            _undo(done)


def _undo(done: undo.Done) -> None:
    """Undo the last action as the signed-in user; the bar then says what the station is again, or why not."""
    current = current_user()
    if current is None or not current.can("board"):
        st.rerun(scope="app")
        return
    st.session_state.pop(UNDO_KEY, None)

    def refused(exc: ClinicError) -> None:
        st.session_state[SAID_KEY] = ("error", f"Not undone: {sentence(str(exc))}.", utcnow().timestamp())

    result = run_action(lambda session: undo.undo(session=session, done=done, by=current.username, tz=cfg.tz),
                        refused=refused)  # fmt: skip
    if result is not None:
        st.session_state[SAID_KEY] = ("success", f"{result.value}.", utcnow().timestamp())
    st.rerun(scope="app")


def _card(row: BoardRow, report: ShownReport | None, recording: bool, cleaning: Disinfectants,
          tasks: list[str]) -> None:  # fmt: skip
    station = row.station
    with st.container(border=True, key=f"card-{station.id}"):
        online = "" if station.online is not False else " · offline"
        st.markdown(
            f"<h3 style='margin:0; font-size:1.25rem'>{escape(station.name)}</h3>"
            f"<div>{escape(station.zone)}{online}</div>"
            f"<div style='margin:0.3rem 0' class='board-status' id='status-{escape(station.id)}'>"
            f"{status_badge(station.effective_status, describe_status(station, utcnow()))}</div>",
            unsafe_allow_html=True,
        )
        if station.status == "out_of_service" and station.fault_message:
            st.text(f"Fault: {station.fault_message}")
        if report is not None:
            _report(station, report)
        cleaned_by = f" by {station.last_cleaned_by}" if station.last_cleaned_by else ""
        st.text(f"Last cleaned {_when(station.last_cleaned_at)}{cleaned_by} · uses today {station.uses_today}")
        for alert in (*row.alerts, *tasks):  # the station's own alerts, then its overdue maintenance tasks
            st.warning(alert)
        show_notice(_about(station.id))
        _actions(row, recording, cleaning)


def _report(station: StationView, report: ShownReport) -> None:
    """Who reported the fault and when, and its photo (small: the card redraws every few seconds)."""
    st.text(f"Reported by {report.by} at {_when(report.at)}")
    uri = photo_data_uri(cfg.data_dir, report.photo, side=THUMB_SIDE)
    if uri is not None:
        alt = escape(f"Photo of the fault at {station.name}", quote=True)
        st.markdown(f"<img class='board-fault-photo' src='{uri}' alt='{alt}'>", unsafe_allow_html=True)


def _actions(row: BoardRow, recording: bool, cleaning: Disinfectants) -> None:
    station = row.station
    offers = offered(station, role=user.role, recording=recording)
    line = st.container(horizontal=True)  # buttons side by side, wrapping rather than truncating a label
    cols = (line, line)
    clean = offers["cleaned"]
    listed, usual = cleaning
    if clean.enabled and len(listed) > 1:  # which disinfectant: the station's usual one chosen already
        with cols[0].popover("Mark cleaned"):
            used = usual.get(station.id)
            choice = st.radio("Disinfectant", listed, index=listed.index(used) if used in listed else 0,
                              key=f"clean-with-{station.id}")  # fmt: skip
            if st.button("Confirm cleaned", key=f"clean-{station.id}"):
                _act_here("cleaned", row, disinfectant=choice)
                st.rerun()
    elif cols[0].button("Mark cleaned", key=f"clean-{station.id}", disabled=not clean.enabled, help=clean.why):
        _act_here("cleaned", row)
        st.rerun()
    if offers["back"].enabled:
        with cols[1].popover("Back in service"):
            note = st.text_input("Note (optional)", key=f"back-note-{station.id}")
            if st.button("Confirm", key=f"back-{station.id}"):
                _act_here("back", row, note=note)
                st.rerun()
    elif offers["out"].enabled:
        with cols[1].popover("Out of service"):
            # Radio buttons, not a drop-down: a list the board's refresh can never close under a finger.
            category = st.radio("What is wrong?", list(CATEGORIES), format_func=CATEGORIES.__getitem__, index=None,
                                key=f"out-category-{station.id}")  # fmt: skip
            notes = st.text_area("Notes (optional)", key=f"out-notes-{station.id}", max_chars=MAX_NOTES, height=90)
            photo = st.file_uploader("Photo (optional)", type=FILE_TYPES, key=f"out-photo-{station.id}",
                                     max_upload_size=MAX_BYTES // 1048576)  # fmt: skip
            if photo is not None:  # the upload reached the app (the file's name shows before it has)
                st.caption(literal(f"Photo ready to send: {photo.name}"))
            if st.button("Take out of service", key=f"out-{station.id}"):
                _act_here("out", row, category=category, note=notes, photo=photo.getvalue() if photo else None)
                st.rerun()
    if offers["serviced"].enabled and st.button("Mark serviced", key=f"serviced-{station.id}"):
        _act_here("serviced", row)
        st.rerun()


@st.fragment(run_every=cfg.board_refresh_s)
@staff_guarded("clean next")
def clean_next() -> None:
    """The cleaning queue: stations checked-in patients need first, then those of patients starting soon (with
    who and when), then the longest waiting; stations in their contact time show when they are ready.

    Only a page run or the user's own tap re-sorts it; automatic refreshes update the rows in place."""
    if current_user(touch=False) is None:
        st.rerun()
    if st.session_state.pop(APP_RERUN_KEY, False):
        st.rerun(scope="app")  # a row's "Mark cleaned" ran in this fragment: the whole page shows its confirmation
    now = utcnow()
    with read_session(resources.engine()) as session:
        items = cleaning_queue(session=session, site=cfg.site, tz=cfg.tz, now=now,
                               contact_time_min=cfg.contact_time_min)  # fmt: skip
    resort = bool(st.session_state.pop(RESORT_KEY, False))
    rows = hold_places(st.session_state.get(SHOWN_KEY, []), items, resort=resort, limit=QUEUE_SHOWN)
    names: dict[str, str] = st.session_state.get(NAMES_KEY, {})
    names.update({key: item.station.name for key, item in rows if item is not None})
    st.session_state[SHOWN_KEY], st.session_state[NAMES_KEY] = [key for key, _ in rows], names
    st.header("Clean next")
    if not rows:
        st.caption("Nothing waits to be cleaned.")
        return
    recording = _recording(now)
    for number, (key, item) in enumerate(rows, start=1):
        _queue_row(number, key, item, names.get(key, key), now, recording)
    more = len(items) - sum(1 for _, item in rows if item is not None)
    if more > 0:
        st.caption(f"{more} more on the board.")


@safe_callback("clean next")
def _clean_from_queue(site: str, equipment_id: str) -> None:
    """A queue row's "Mark cleaned" (a callback: it runs before the redraw, which then re-sorts the queue)."""
    st.session_state[RESORT_KEY] = True
    current = current_user()
    if current is None or not current.can("board"):
        return  # the run that follows shows the sign-in page or the refusal
    _act("cleaned", site, equipment_id, current.username)
    st.session_state[APP_RERUN_KEY] = True


def _queue_row(number: int, key: str, item: QueueItem | None, name: str, now: datetime, recording: bool) -> None:
    with st.container(border=True, key=f"next-{key.replace('/', '-')}"):
        place, what = st.columns([0.4, 6], vertical_alignment="center")
        action = what  # the button under the words: never truncated, and at the same place in every row
        place.markdown(f"**{number}**")
        if item is None:  # left the queue since the last re-sort: the row keeps its place, without a button
            what.markdown(f"<b>{escape(name)}</b><br>Done: no longer waiting", unsafe_allow_html=True)
            action.button("Done", key=f"next-done-{key}", disabled=True)
            return
        station = item.station
        what.markdown(
            f"<b>{escape(station.name)}</b> · {escape(station.zone)}<br>"
            f"<span class='queue-status' id='next-status-{escape(station.id)}'>"
            f"{status_badge(station.effective_status, describe_status(station, now))}</span><br>"
            f"{escape(describe_item(item, cfg.tz, now))}",
            unsafe_allow_html=True,
        )
        clean = offered(station, role=user.role, recording=recording)["cleaned"]  # the card's rule
        action.button("Mark cleaned", key=f"next-clean-{station.id}",
                      type="primary" if item.tier == 0 else "secondary", on_click=_clean_from_queue,
                      args=(station.site, station.id), disabled=not clean.enabled, help=clean.why)  # fmt: skip


@st.fragment(run_every=cfg.board_refresh_s)
@staff_guarded("board")
def live_board() -> None:
    """The grid; refreshes by itself every few seconds, without reloading the page."""
    if current_user(touch=False) is None:
        st.rerun()  # the session timed out while the board sat open: back to the sign-in page
    with read_session(resources.engine()) as session:
        rows = board.board(session=session, tz=cfg.tz, site=cfg.site,
                           zone=None if zone == "All zones" else zone, status=STATUS_FILTERS[status_label])  # fmt: skip
        reports = current_reports(session=session, site=cfg.site)
        listed = [d.name for d in list_disinfectants(session=session)]
        overdue = task_alerts(session=session, now=utcnow(), site=cfg.site)
        usual = usual_names(session=session, site=cfg.site, equipment_ids=[r.station.id for r in rows]) \
            if len(listed) > 1 else {}  # fmt: skip
    recording = _recording(utcnow())
    st.caption(f"{len(rows)} stations · updated {utcnow().astimezone(cfg.tz).strftime('%H:%M:%S')}")
    if not rows:
        st.info("No stations match these filters.")
        return
    columns = st.columns(2)
    for index, row in enumerate(rows):  # a stable order (zone, then name): a card keeps its place
        with columns[index % 2]:
            _card(row, reports.get((row.station.site, row.station.id)), recording, (listed, usual),
                  overdue.get(row.station.id, []))  # fmt: skip


def _recording(now: datetime) -> bool:
    """Whether device messages are being recorded (the offered actions' reasons say so when not)."""
    with read_session(resources.engine()) as session:
        return not recording_status(session=session, now=now, keepalive_s=cfg.mqtt_keepalive_s).stopped


apply_maintenance_blocks()  # a page run, not each refresh
st.session_state[RESORT_KEY] = True  # a page run (not a fragment's refresh): "Clean next" may re-sort
undo_bar()
queue_column, board_column = st.columns([2, 3], gap="medium")  # both above the fold at 1400 x 900
with queue_column:
    clean_next()
with board_column:
    with read_session(resources.engine()) as session:
        stations = board.board(session=session, tz=cfg.tz, site=cfg.site)
    zones = sorted({r.station.zone for r in stations if r.station.zone})
    left, right = st.columns(2)
    zone = left.selectbox("Zone", ["All zones", *zones], key="board_zone")
    status_label = right.selectbox("Status", list(STATUS_FILTERS), key="board_status")
    live_board()


unknown_devices(user)
