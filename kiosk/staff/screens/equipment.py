"""Equipment (admin): the stations, registering and editing one, device broker passwords, unknown devices."""

from __future__ import annotations

import pandas as pd
import streamlit as st
from sqlmodel import Session

from kiosk import resources
from kiosk.staff.actions import run_action, show_error
from kiosk.staff.auth import require
from kiosk.staff.kit import rerun_with_notice, show_notice, unknown_devices
from shared.equipment.provisioning import (
    AlreadyRegistered,
    account_status,
    broker_accounts,
    edit_station,
    has_account,
    register_station,
    set_device_password,
)
from shared.equipment.station_names import given_names, set_station_name
from shared.equipment.stations import StationView, list_stations
from shared.store.db import read_session
from shared.store.errors import ClinicError

user = require("equipment")
cfg = resources.settings()
accounts = broker_accounts()
PASSWORD_SHOWN = "equipment_new_password"
KIND_HELP = "What the station is: treadmill, bike, parallel_bars, hot_pack, ... (free text)."
INTERVAL_HELP = "Service the station after this many hours of use; 0 means no scheduled maintenance."
SPANISH_HELP = (
    "What Spanish-speaking patients read on their plan, e.g. Cinta de correr 1. Left empty, they read "
    "the kind in Spanish and the number of the name (treadmill: Cinta de correr 1)."
)

st.title("Equipment")


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
            "Broker account": account_status(accounts, site=s.site, equipment_id=s.id),
        }
        for s in stations
    ]
    st.dataframe(pd.DataFrame(rows), hide_index=True)


def _register() -> None:
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
    done = run_action(lambda session: register_station(
        session=session, accounts=accounts, site=cfg.site, equipment_id=equipment_id, name=name, kind=kind,
        zone=zone, clean_after_use=clean, maintenance_interval_hours=interval or None, actor=user.username),
        refused=_refused_registration)  # fmt: skip
    if done is not None:
        station = done.value
        rerun_with_notice(f"Registered {station.name} ({station.id}). Create its broker password below if it "
                          "sends messages.")  # fmt: skip


def _refused_registration(exc: ClinicError) -> None:
    """A station registered already is changed elsewhere on this page: say where."""
    show_error(f"{exc}: change it under 'Edit a station'." if isinstance(exc, AlreadyRegistered) else str(exc))


def _edit(stations: list[StationView], spanish: dict[str, str]) -> None:
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
        name_es = right.text_input("Name in Spanish (optional)", value=spanish.get(chosen.id, ""),
                                   key=f"edit-name-es-{key}", help=SPANISH_HELP)  # fmt: skip
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

    def save(session: Session) -> None:
        edit_station(session=session, site=chosen.site, equipment_id=chosen.id, name=name, kind=kind, zone=zone,
                     clean_after_use=clean, maintenance_interval_hours=interval, actor=user.username)  # fmt: skip
        set_station_name(session=session, site=chosen.site, equipment_id=chosen.id, lang="es", name=name_es,
                         actor=user.username)  # fmt: skip

    done = run_action(save)
    if done is None:
        return
    rerun_with_notice(f"Saved the changes to {name.strip()} ({chosen.id}).")


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
    exists = has_account(accounts, site=chosen.site, equipment_id=chosen.id)
    label = "Replace the broker password" if exists else "Create a broker password"
    if not st.button(label, key="cred_make"):
        return
    done = run_action(lambda session: set_device_password(
        session=session, accounts=accounts, site=chosen.site, equipment_id=chosen.id, topic_prefix=cfg.topic_prefix,
        actor=user.username))  # fmt: skip
    if done is None:
        return
    made = done.value
    st.session_state[PASSWORD_SHOWN] = {"username": made.username, "password": made.password, "topic": made.topic}
    st.rerun()


show_notice()
with read_session(resources.engine()) as session:
    stations = list_stations(session=session, tz=cfg.tz, site=cfg.site)
    spanish_names = given_names(session=session, site=cfg.site, lang="es")
st.caption(f"Stations at site {cfg.site}.")
if stations:
    _table(stations)
else:
    st.info("No stations are registered yet.")
if user.can("register_devices"):
    _register()
if stations:
    _edit(stations, spanish_names)
    if user.can("register_devices"):
        _credentials(stations)
unknown_devices(user, kind_help=KIND_HELP, say_none=True)
