"""Equipment board: "Clean next" (the cleaning queue, by when each station is next needed), then every station
live (both refreshing by themselves), with the actions a technician takes."""

from __future__ import annotations

import time
from datetime import datetime
from html import escape
from typing import Any

import streamlit as st

from kiosk import resources
from kiosk.failsafe import staff_guarded
from kiosk.staff_auth import current_user, require
from kiosk.theme import literal, status_badge
from shared import board
from shared.board import BoardRow
from shared.cleaning_queue import QueueItem, cleaning_queue, describe_item
from shared.errors import ClinicError
from shared.models import utcnow
from shared.stations import describe_status, register_equipment
from telemetry.replay import replay_dead_letters

REFUSAL_KEY = "board_refusal"  # (station id, message, when): shown in that station's card for a while
REFUSAL_SHOWN_S = 20
QUEUE_SHOWN = 8  # the first stations of the cleaning queue shown under "Clean next"
STATUS_FILTERS = {"All": None, "Needs cleaning": "needs_cleaning", "Cleaning (contact time)": "cleaning",
                  "In use": "in_use", "Available": "available", "Out of service": "out_of_service",
                  "Offline": "offline"}  # fmt: skip

user = require("board")
cfg = resources.settings()
st.title("Equipment board")


def _when(value: datetime | None) -> str:
    return value.astimezone(cfg.tz).strftime("%H:%M") if value else "never"


def _act(action: str, row: BoardRow, reason: str = "") -> None:
    """Run one board action for the signed-in user; a refusal shows as an error, never a traceback."""
    current = current_user()  # the fragment reruns alone: check the timeout and the account before acting
    if current is None or not current.can("board"):
        st.rerun(scope="app")
    station = row.station
    args: dict[str, Any] = {"site": station.site, "equipment_id": station.id, "by": user.username, "tz": cfg.tz}
    try:
        if action == "cleaned":
            board.mark_cleaned(resources.engine(), **args)
        elif action == "out":
            board.take_out_of_service(resources.engine(), reason=reason, **args)
        elif action == "back":
            board.back_in_service(resources.engine(), reason=reason, **args)
        elif action == "serviced":
            board.mark_serviced(resources.engine(), **args)
    except ClinicError as exc:
        st.session_state[REFUSAL_KEY] = (station.id, str(exc), time.time())  # survives the redraw that follows
        return
    st.session_state.pop(REFUSAL_KEY, None)
    st.toast(literal(f"{station.name}: done"))


def _card(row: BoardRow) -> None:
    station = row.station
    with st.container(border=True, key=f"card-{station.id}"):
        online = "" if station.online is not False else " · offline"
        st.markdown(
            f"<h4 style='margin:0'>{escape(station.name)}</h4>"
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
        refusal = st.session_state.get(REFUSAL_KEY)
        if refusal and refusal[0] == station.id and time.time() - refusal[2] < REFUSAL_SHOWN_S:
            st.error(refusal[1])
        _actions(row)


def _actions(row: BoardRow) -> None:
    station = row.station
    cols = st.columns(2)
    if cols[0].button("Mark cleaned", key=f"clean-{station.id}", disabled=station.status == "in_use"):
        _act("cleaned", row)
        st.rerun()
    if station.status == "out_of_service":
        with cols[1].popover("Back in service"):
            note = st.text_input("Note (optional)", key=f"back-note-{station.id}")
            if st.button("Confirm", key=f"back-{station.id}"):
                _act("back", row, note)
                st.rerun()
    else:
        with cols[1].popover("Out of service"):
            reason = st.text_input("Reason", key=f"out-reason-{station.id}")
            if st.button("Take out of service", key=f"out-{station.id}"):
                _act("out", row, reason)
                st.rerun()
    if station.maintenance_due and st.button("Mark serviced", key=f"serviced-{station.id}"):
        _act("serviced", row)
        st.rerun()


@st.fragment(run_every=cfg.board_refresh_s)
@staff_guarded("clean next")
def clean_next() -> None:
    """The cleaning queue: stations checked-in patients need first, then those of patients starting soon (with
    who and when), then the longest waiting; stations in their contact time show when they are ready."""
    if current_user(touch=False) is None:
        st.rerun()
    now = utcnow()
    items = cleaning_queue(resources.engine(), site=cfg.site, tz=cfg.tz, now=now,
                           contact_time_min=cfg.contact_time_min)  # fmt: skip
    st.subheader("Clean next")
    if not items:
        st.caption("Nothing waits to be cleaned.")
        return
    for number, item in enumerate(items[:QUEUE_SHOWN], start=1):
        _queue_row(number, item, now)
    if len(items) > QUEUE_SHOWN:
        st.caption(f"{len(items) - QUEUE_SHOWN} more on the board below.")


def _queue_row(number: int, item: QueueItem, now: datetime) -> None:
    station = item.station
    with st.container(border=True, key=f"next-{station.id}"):
        place, what, why, action = st.columns([0.4, 3.2, 4.4, 1.6], vertical_alignment="center")
        place.markdown(f"**{number}**")
        what.markdown(
            f"<b>{escape(station.name)}</b> · {escape(station.zone)}<br>"
            f"<span class='queue-status' id='next-status-{escape(station.id)}'>"
            f"{status_badge(station.effective_status, describe_status(station, now))}</span>",
            unsafe_allow_html=True,
        )
        why.text(describe_item(item, cfg.tz, now))
        if station.effective_status == "needs_cleaning" and action.button(
            "Mark cleaned", key=f"next-clean-{station.id}", type="primary" if item.tier == 0 else "secondary"
        ):
            _act("cleaned", BoardRow(station, ()))
            st.rerun()


@st.fragment(run_every=cfg.board_refresh_s)
@staff_guarded("board")
def live_board() -> None:
    """The grid; refreshes by itself every few seconds, without reloading the page."""
    if current_user(touch=False) is None:
        st.rerun()  # the session timed out while the board sat open: back to the sign-in page
    rows = board.board(resources.engine(), tz=cfg.tz, site=cfg.site,
                       zone=None if zone == "All zones" else zone, status=STATUS_FILTERS[status_label])  # fmt: skip
    st.caption(f"{len(rows)} stations · updated {utcnow().astimezone(cfg.tz).strftime('%H:%M:%S')}")
    if not rows:
        st.info("No stations match these filters.")
        return
    columns = st.columns(3)
    for index, row in enumerate(rows):
        with columns[index % 3]:
            _card(row)


clean_next()
zones = sorted({r.station.zone for r in board.board(resources.engine(), tz=cfg.tz, site=cfg.site) if r.station.zone})
left, right = st.columns(2)
zone = left.selectbox("Zone", ["All zones", *zones], key="board_zone")
status_label = right.selectbox("Status", list(STATUS_FILTERS), key="board_status")
live_board()


def _unknown_devices() -> None:
    devices = board.unknown_devices(resources.engine())
    if not devices:
        return
    st.subheader("Devices sending messages but not registered")
    for device in devices:
        st.text(
            f"{device.site}/{device.equipment_id}: {device.messages} message(s) kept, last {_when(device.last_seen)}"
        )
        with st.form(f"register-{device.site}-{device.equipment_id}"):
            name = st.text_input("Name", value=device.equipment_id, key=f"reg-name-{device.equipment_id}")
            zone = st.text_input("Zone", key=f"reg-zone-{device.equipment_id}")
            kind = st.text_input("Kind", value="other", key=f"reg-kind-{device.equipment_id}")
            if st.form_submit_button(f"Register {device.equipment_id} and replay its messages"):
                _register(device.site, device.equipment_id, name, zone, kind)


def _register(site: str, equipment_id: str, name: str, zone: str, kind: str) -> None:
    try:
        register_equipment(resources.engine(), site=site, equipment_id=equipment_id, name=name, zone=zone,
                           kind=kind, actor=user.username)  # fmt: skip
    except ClinicError as exc:
        st.error(str(exc))
        return
    outcome = replay_dead_letters(resources.engine(), cfg, site=site, equipment_id=equipment_id)
    kept = f"{outcome.recorded} kept message(s) recorded, {outcome.still_kept} still kept"
    st.success(literal(f"Registered {name}: {kept}."))


_unknown_devices()
