"""Equipment (admin): the stations, registering and editing one, device broker passwords, unknown devices."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from kiosk import resources
from kiosk.staff.admin_kit import local, show_error, show_success
from kiosk.staff.auth import require
from shared.equipment import board
from shared.equipment.replay import replay_dead_letters
from shared.equipment.stations import StationView, list_stations, register_equipment
from shared.equipment.topics import equipment_topic
from shared.staff.accounts import audit
from shared.store.db import unit_of_work
from shared.store.errors import ClinicError, ValidationFailed
from telemetry.broker import device_account_site, set_device_password

user = require("equipment")
cfg = resources.settings()
FLASH = "equipment_flash"
PASSWORD_SHOWN = "equipment_new_password"
KIND_HELP = "What the station is: treadmill, bike, parallel_bars, hot_pack, ... (free text)."
INTERVAL_HELP = "Service the station after this many hours of use; 0 means no scheduled maintenance."

st.title("Equipment")


def _flash(message: str) -> None:
    """Show `message` after the rerun that redraws the page with the change."""
    st.session_state[FLASH] = message
    st.rerun()


def _broker_account(station: StationView) -> str:
    owner = device_account_site(cfg, station.id)
    if owner is None:
        return "none"
    return "yes" if owner == station.site else f"taken at site {owner}"


def _other_site_owner(site: str, equipment_id: str) -> str | None:
    """The refusal when `equipment_id` already has a broker account at another site (ids are per broker)."""
    owner = device_account_site(cfg, equipment_id)
    if owner is None or owner == site:
        return None
    return (
        f"equipment id {equipment_id!r} already has a broker account at site {owner!r}; "
        "ids must be unique on one broker"
    )


def _pick(stations: list[StationView], key: str) -> StationView | None:
    """Choose a station by id (the widget keeps its choice when a station's details change)."""
    by_id = {s.id: s for s in stations}
    chosen = st.selectbox("Station", list(by_id), format_func=lambda i: f"{by_id[i].name} ({i})", key=key)
    return by_id.get(chosen) if chosen is not None else None


def _table(stations: list[StationView]) -> None:
    rows = [
        {
            "ID": s.id,
            "Name": s.name,
            "Kind": s.kind,
            "Zone": s.zone,
            "Clean after use": "yes" if s.clean_after_use else "no",
            "Maintenance every (h)": s.maintenance_interval_hours,
            "Status": s.status.replace("_", " "),
            "Broker account": _broker_account(s),
        }
        for s in stations
    ]
    st.dataframe(pd.DataFrame(rows), hide_index=True)


def _register(existing: dict[str, StationView]) -> None:
    st.header("Register a station")
    with st.form("register_station"):
        left, right = st.columns(2)
        equipment_id = left.text_input(
            "ID (also the device's broker username)",
            key="new_id",
            help="Lower case letters, digits, - and _, e.g. tm-3.",
        )
        name = right.text_input("Name shown on the board", key="new_name")
        kind = left.text_input("Kind", value="other", key="new_kind", help=KIND_HELP)
        zone = right.text_input("Zone", key="new_zone", help="Where in the gym, e.g. Gym A.")
        clean = left.checkbox("Needs cleaning after each use", value=True, key="new_clean")
        interval = right.number_input(
            "Maintenance every (hours of use)",
            min_value=0.0,
            value=0.0,
            step=1.0,
            format="%.1f",
            key="new_interval",
            help=INTERVAL_HELP,
        )
        submitted = st.form_submit_button("Register station", type="primary")
    if not submitted:
        return
    equipment_id = equipment_id.strip()
    if equipment_id in existing:
        show_error(f"station {equipment_id} is already registered: change it under 'Edit a station'.")
        return
    refusal = _other_site_owner(cfg.site, equipment_id)
    if refusal:
        show_error(refusal)
        return
    try:
        station = register_equipment(
            resources.engine(),
            site=cfg.site,
            equipment_id=equipment_id,
            name=name,
            kind=kind,
            zone=zone,
            clean_after_use=clean,
            maintenance_interval_hours=interval or None,
            actor=user.username,
        )
    except ClinicError as exc:
        show_error(str(exc))
        return
    _flash(f"Registered {station.name} ({station.id}). Create its broker password below if it sends messages.")


def _edit(stations: list[StationView]) -> None:
    st.header("Edit a station")
    chosen = _pick(stations, "edit_station")
    if chosen is None:
        return
    key = chosen.id
    with st.form(f"edit_station_form-{key}"):
        left, right = st.columns(2)
        name = left.text_input("Name shown on the board", value=chosen.name, key=f"edit-name-{key}")
        kind = right.text_input("Kind", value=chosen.kind, key=f"edit-kind-{key}", help=KIND_HELP)
        zone = left.text_input("Zone", value=chosen.zone, key=f"edit-zone-{key}")
        interval = right.number_input(
            "Maintenance every (hours of use)",
            min_value=0.0,
            step=1.0,
            format="%.1f",
            value=float(chosen.maintenance_interval_hours or 0.0),
            key=f"edit-interval-{key}",
            help=INTERVAL_HELP,
        )
        clean = left.checkbox("Needs cleaning after each use", value=chosen.clean_after_use, key=f"edit-clean-{key}")
        submitted = st.form_submit_button("Save changes", type="primary")
    if not submitted:
        return
    try:
        if not interval and chosen.maintenance_interval_hours is not None:
            raise ValidationFailed("a maintenance interval cannot be removed, only changed to a positive number")
        register_equipment(
            resources.engine(),
            site=chosen.site,
            equipment_id=chosen.id,
            name=name,
            kind=kind,
            zone=zone,
            clean_after_use=clean,
            maintenance_interval_hours=interval or None,
            actor=user.username,
        )
    except ClinicError as exc:
        show_error(str(exc))
        return
    _flash(f"Saved the changes to {name.strip()} ({chosen.id}).")


def _credentials(stations: list[StationView]) -> None:
    st.header("Device broker password")
    st.caption(
        "A device signs in to the message broker with its station ID as the username and a password made here. "
        "Making a new password replaces the old one: the device must be given the new one."
    )
    shown = st.session_state.pop(PASSWORD_SHOWN, None)
    if shown:
        st.warning("Copy this password into the device now. It will not be shown again.")
        st.text(f"Username: {shown['username']}\nPublishes on: {shown['topic']}")
        st.code(shown["password"], language=None)
    chosen = _pick(stations, "cred_station")
    if chosen is None:
        return
    has_account = device_account_site(cfg, chosen.id) == chosen.site
    label = "Replace the broker password" if has_account else "Create a broker password"
    if not st.button(label, key="cred_make"):
        return
    try:
        password = set_device_password(cfg, chosen.id, site=chosen.site)
    except ValueError as exc:
        show_error(str(exc))
        return
    with unit_of_work(resources.engine()) as session:
        audit(
            session,
            actor=user.username,
            action="equipment.broker_password",
            target=f"{chosen.site}/{chosen.id}",
            detail={"replaced": has_account},
        )
    topic = equipment_topic(cfg.topic_prefix, chosen.site, chosen.id, "usage").rsplit("/", 1)[0] + "/<channel>"
    st.session_state[PASSWORD_SHOWN] = {"username": chosen.id, "password": password, "topic": topic}
    st.rerun()


def _unknown() -> None:
    devices = board.unknown_devices(resources.engine())
    st.header("Devices sending messages but not registered")
    if not devices:
        st.text("None: every device that sent a message is registered.")
        return
    st.caption("Their messages are kept. Registering a device records its kept messages as if they had just come in.")
    for device in devices:
        ident = f"{device.site}-{device.equipment_id}"
        st.text(
            f"{device.site}/{device.equipment_id}: {device.messages} message(s) kept, "
            f"last {local(device.last_seen, cfg.tz)}"
        )
        with st.form(f"unknown-{ident}"):
            left, mid, right = st.columns(3)
            name = left.text_input("Name", value=device.equipment_id, key=f"unknown-name-{ident}")
            zone = mid.text_input("Zone", key=f"unknown-zone-{ident}")
            kind = right.text_input("Kind", value="other", key=f"unknown-kind-{ident}", help=KIND_HELP)
            submitted = st.form_submit_button(f"Register {device.equipment_id} and replay its messages")
        if submitted:
            try:
                register_equipment(
                    resources.engine(),
                    site=device.site,
                    equipment_id=device.equipment_id,
                    name=name,
                    zone=zone,
                    kind=kind,
                    actor=user.username,
                )
            except ClinicError as exc:
                show_error(str(exc))
                continue
            outcome = replay_dead_letters(resources.engine(), cfg, site=device.site, equipment_id=device.equipment_id)
            _flash(
                f"Registered {name.strip()} ({device.equipment_id}): {outcome.recorded} kept message(s) "
                f"recorded, {outcome.still_kept} still kept."
            )


flash = st.session_state.pop(FLASH, None)
if flash:
    show_success(flash)
stations = list_stations(resources.engine(), tz=cfg.tz, site=cfg.site)
st.caption(f"Stations at site {cfg.site}.")
if stations:
    _table(stations)
else:
    st.info("No stations are registered yet.")
_register({s.id: s for s in stations})
if stations:
    _edit(stations)
    _credentials(stations)
_unknown()
