"""Equipment board: "Clean next" (the cleaning queue, by when each station is next needed), then every station
live (both refreshing by themselves), with the actions a technician takes; above them, a banner while no listener
records device messages (shared/equipment/recording.py: nothing when none ever ran on this store)."""

from __future__ import annotations

from datetime import datetime
from html import escape

import streamlit as st

from kiosk import resources
from kiosk.failsafe import safe_callback, staff_guarded
from kiosk.staff.auth import current_user, require
from kiosk.staff.kit import StationAction, clear_notice, notify, show_notice, station_action, unknown_devices
from kiosk.theme import literal, status_badge
from shared.equipment import board
from shared.equipment.board import BoardRow
from shared.equipment.cleaning_queue import QueueItem, cleaning_queue, describe_item, hold_places
from shared.equipment.recording import recording_status
from shared.equipment.stations import describe_status
from shared.store.db import read_session
from shared.store.errors import ClinicError
from shared.store.types import utcnow

REFUSAL_SHOWN_S = 20  # a refused action's message stays in its station's card for this long
QUEUE_SHOWN = 8  # the first stations of the cleaning queue shown under "Clean next"
RESORT_KEY = "board_queue_resort"  # set by a page run or a tap: "Clean next" may re-sort on its next draw
SHOWN_KEY = "board_queue_shown"  # the station keys "Clean next" shows, in their places
NAMES_KEY = "board_queue_names"
STATUS_FILTERS = {"All": None, "Needs cleaning": "needs_cleaning", "Cleaning (contact time)": "cleaning",
                  "In use": "in_use", "Available": "available", "Out of service": "out_of_service",
                  "Offline": "offline"}  # fmt: skip

user = require("board")
cfg = resources.settings()
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


def _act(action: StationAction, site: str, equipment_id: str, name: str, by: str, reason: str = "") -> None:
    """Run one board action; a refusal stays in the station's card for a while, never a traceback."""

    def refused(exc: ClinicError) -> None:  # survives the redraw that follows
        notify(str(exc), "error", about=_about(equipment_id), linger_s=REFUSAL_SHOWN_S)

    if station_action(action, site=site, equipment_id=equipment_id, by=by, reason=reason, refused=refused) is None:
        return
    clear_notice(_about(equipment_id))
    st.toast(literal(f"{name}: done"))


def _act_here(action: StationAction, row: BoardRow, reason: str = "") -> None:
    """A card's button, for the signed-in user (checked again: the fragment reruns alone)."""
    current = current_user()
    if current is None or not current.can("board"):
        st.rerun(scope="app")
    station = row.station
    _act(action, station.site, station.id, station.name, user.username, reason)


def _card(row: BoardRow) -> None:
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
        cleaned_by = f" by {station.last_cleaned_by}" if station.last_cleaned_by else ""
        st.text(f"Last cleaned {_when(station.last_cleaned_at)}{cleaned_by} · uses today {station.uses_today}")
        for alert in row.alerts:
            st.warning(alert)
        show_notice(_about(station.id))
        _actions(row)


def _actions(row: BoardRow) -> None:
    station = row.station
    line = st.container(horizontal=True)  # buttons side by side, wrapping rather than truncating a label
    cols = (line, line)
    if cols[0].button("Mark cleaned", key=f"clean-{station.id}", disabled=station.status == "in_use"):
        _act_here("cleaned", row)
        st.rerun()
    if station.status == "out_of_service":
        with cols[1].popover("Back in service"):
            note = st.text_input("Note (optional)", key=f"back-note-{station.id}")
            if st.button("Confirm", key=f"back-{station.id}"):
                _act_here("back", row, note)
                st.rerun()
    else:
        with cols[1].popover("Out of service"):
            reason = st.text_input("Reason", key=f"out-reason-{station.id}")
            if st.button("Take out of service", key=f"out-{station.id}"):
                _act_here("out", row, reason)
                st.rerun()
    if station.maintenance_due and st.button("Mark serviced", key=f"serviced-{station.id}"):
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
    for number, (key, item) in enumerate(rows, start=1):
        _queue_row(number, key, item, names.get(key, key), now)
    more = len(items) - sum(1 for _, item in rows if item is not None)
    if more > 0:
        st.caption(f"{more} more on the board.")


@safe_callback("clean next")
def _clean_from_queue(site: str, equipment_id: str, name: str) -> None:
    """A queue row's "Mark cleaned" (a callback: it runs before the redraw, which then re-sorts the queue)."""
    st.session_state[RESORT_KEY] = True
    current = current_user()
    if current is None or not current.can("board"):
        return  # the run that follows shows the sign-in page or the refusal
    _act("cleaned", site, equipment_id, name, current.username)


def _queue_row(number: int, key: str, item: QueueItem | None, name: str, now: datetime) -> None:
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
        action.button("Mark cleaned", key=f"next-clean-{station.id}",
                      type="primary" if item.tier == 0 else "secondary", on_click=_clean_from_queue,
                      args=(station.site, station.id, station.name),
                      disabled=station.effective_status != "needs_cleaning")  # fmt: skip


@st.fragment(run_every=cfg.board_refresh_s)
@staff_guarded("board")
def live_board() -> None:
    """The grid; refreshes by itself every few seconds, without reloading the page."""
    if current_user(touch=False) is None:
        st.rerun()  # the session timed out while the board sat open: back to the sign-in page
    with read_session(resources.engine()) as session:
        rows = board.board(session=session, tz=cfg.tz, site=cfg.site,
                           zone=None if zone == "All zones" else zone, status=STATUS_FILTERS[status_label])  # fmt: skip
    st.caption(f"{len(rows)} stations · updated {utcnow().astimezone(cfg.tz).strftime('%H:%M:%S')}")
    if not rows:
        st.info("No stations match these filters.")
        return
    columns = st.columns(2)
    for index, row in enumerate(rows):  # a stable order (zone, then name): a card keeps its place
        with columns[index % 2]:
            _card(row)


st.session_state[RESORT_KEY] = True  # a page run (not a fragment's refresh): "Clean next" may re-sort
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
