"""Devices (admin): off-the-shelf devices (Shelly and Tasmota plugs, Zigbee2MQTT sensors and buttons, ESPHome nodes)
that report but feed no station yet, binding them, the bound ones, and calibrating a plug's thresholds live."""

from __future__ import annotations

import hashlib
import re
import time
from typing import Any

import altair as alt
import pandas as pd
import streamlit as st

from kiosk import resources
from kiosk.failsafe import staff_guarded
from kiosk.staff.actions import run_action, show_error
from kiosk.staff.auth import current_user, require
from kiosk.staff.kit import acting_user, bidi_safe, local, plain_table, rerun_with_notice, sentence, show_notice
from kiosk.theme import literal
from shared.equipment.native.bindings import (
    CHANNELED,
    ROLES,
    ZIGBEE2MQTT_ACCOUNT,
    BindingView,
    BindOutcome,
    ThresholdChanges,
    bind_source,
    list_bindings,
    unbind_source,
)
from shared.equipment.native.calibration import suggest_power
from shared.equipment.native.defaults import defaults_for
from shared.equipment.native.inference import Thresholds
from shared.equipment.native.readings import VENDOR_NAMES, VIAS
from shared.equipment.native.sources import SourceView, source_view, unbound_sources
from shared.equipment.provisioning import broker_accounts
from shared.equipment.stations import StationView, list_stations
from shared.store.db import read_session
from shared.store.errors import NotFound

user = require("devices")
cfg = resources.settings()
may_bind = user.can("bind_devices")

OUTCOME_KEY = "devices_outcome"  # what the last bind did, shown once (the password above all)
OPEN_KEY = "devices_bind_open"  # the unbound device whose Bind form is open: (via, source)
CALIBRATE_KEY = "devices_calibrate"  # the binding being calibrated (its id)
REFRESH_S = 2  # the calibration chart redraws this often
WINDOW_S = 300  # and shows this many seconds of readings
ROLE_WORDS = {"usage": "In use and done", "cleaned": "Cleaned (a button)", "fault": "A fault (a button)"}
ROLE_HELP = ("In use and done: a plug or a motion or vibration sensor starts and ends the station's uses. Cleaned: "
             "a button press marks the station cleaned. A fault: a button press reports a problem.")  # fmt: skip
SOURCE_HELP = ("Shelly: its topic prefix, e.g. shellyplusplugs-a8032ab1. Tasmota: its Topic. Zigbee2MQTT: the "
               "friendly name. ESPHome: the node name.")  # fmt: skip
PART_HELP = "Optional. A plug with several switches: the switch number (0, 1, ...). ESPHome: the sensor's object id."
NO_SUGGESTION = ("Turn the equipment on and use it for a minute; suggestions appear once it has been seen idle and "
                 "running.")  # fmt: skip
SAFE_KEY = re.compile(r"[^A-Za-z0-9_-]")

st.title("Devices")


# --- words ------------------------------------------------------------------------------------------------------


def _plain(value: float) -> str:
    """A number as people write it: 61, 25.6, 1200 (never 1.2e+03)."""
    return f"{value:.1f}".removesuffix(".0")


def _ident(via: str, source: str) -> str:
    """A widget key part for a device: its dialect and name, with a short hash when the name has other characters."""
    safe = SAFE_KEY.sub("_", source)
    if safe != source:
        safe += "-" + hashlib.sha256(source.encode()).hexdigest()[:8]
    return f"{via}-{safe}"


def _with_code(text: str) -> str:
    """Markdown for a sentence whose `quoted` parts are device names: those as code (shown as they are), every
    other character escaped, so a name cannot add a link or markup."""
    parts = text.split("`")
    if len(parts) % 2 == 0:  # an odd number of backticks: no code at all
        return literal(text)
    return "".join(f"`{part}`" if index % 2 else literal(part) for index, part in enumerate(parts))


def _is_power(via: str) -> bool:
    return via != "zigbee2mqtt"


def _is_activity(via: str) -> bool:
    return via in ("zigbee2mqtt", "esphome")


def _thresholds_text(via: str, t: Thresholds) -> str:
    """A binding's thresholds in words."""
    if t.role == "cleaned":
        return "a press marks it cleaned"
    if t.role == "fault":
        return "a press reports a fault"
    said = []
    if _is_power(via):
        said.append(f"in use above {_plain(t.on_watts)} W for {_plain(t.on_hold_s)} s, done below "
                    f"{_plain(t.off_watts)} W for {_plain(t.off_hold_s)} s")  # fmt: skip
    if _is_activity(via):
        said.append(f"done after {_plain(t.idle_s)} s without activity")
    return "; ".join(said)


def _part_name(via: str) -> str:
    return "Switch" if via in CHANNELED else "Sensor"


def _station_label(station: StationView) -> str:
    return f"{bidi_safe(station.name)} ({station.id})"


# --- actions (one unit of work each) ----------------------------------------------------------------------------


def _bind(station: StationView, via: str, source: str, *, role: str, part: str | None,
          changes: ThresholdChanges | None) -> None:  # fmt: skip
    """Bind the device to the station; the outcome is shown once after the rerun (a refusal is shown here)."""
    acting = acting_user("bind_devices")
    if acting is None:
        st.rerun()
    assert acting is not None
    channel = part if via in CHANNELED and part else None
    entity = part if via == "esphome" and part else None
    done = run_action(lambda session: bind_source(
        session=session, accounts=broker_accounts(), topic_prefix=cfg.topic_prefix, site=station.site,
        equipment_id=station.id, via=via, source=source, role=role, channel=channel, entity=entity,
        thresholds=changes, actor=acting.username))  # fmt: skip
    if done is None:
        return
    st.session_state[OUTCOME_KEY] = _outcome(done.value, station)
    st.session_state[CALIBRATE_KEY] = done.value.binding.id
    st.session_state.pop(OPEN_KEY, None)
    st.rerun()


def _outcome(outcome: BindOutcome, station: StationView) -> dict[str, Any]:
    binding = outcome.binding
    verb = "Changed the binding of" if outcome.updated else "Bound"
    said = (f"{verb} the {VENDOR_NAMES[binding.via]} {binding.source} to {_station_label(station)}: "
            f"{_thresholds_text(binding.via, binding.thresholds)}.")  # fmt: skip
    return {"said": said, "username": outcome.username, "topics": list(outcome.topics), "password": outcome.password,
            "warnings": list(outcome.warnings), "bridge": outcome.username == ZIGBEE2MQTT_ACCOUNT}  # fmt: skip


def _unbind(binding: BindingView, *, remove_account: bool) -> None:
    acting = acting_user("bind_devices")
    if acting is None:
        st.rerun()
    assert acting is not None
    done = run_action(lambda session: unbind_source(
        session=session, accounts=broker_accounts(), site=binding.site, equipment_id=binding.equipment_id,
        source=binding.source, via=binding.via, remove_account=remove_account, actor=acting.username))  # fmt: skip
    if done is None:
        return
    if st.session_state.get(CALIBRATE_KEY) in {b.id for b in done.value}:
        st.session_state.pop(CALIBRATE_KEY, None)
    account = " and deleted its broker account" if remove_account else ""
    rerun_with_notice(f"Unbound {binding.source} from station {binding.equipment_id}{account}.")


def _open_bind(via: str, source: str) -> None:
    st.session_state[OPEN_KEY] = (via, source)


def _close_bind() -> None:
    st.session_state.pop(OPEN_KEY, None)


def _calibrate(binding_id: int) -> None:
    st.session_state[CALIBRATE_KEY] = binding_id


def _stop_calibrating() -> None:
    st.session_state.pop(CALIBRATE_KEY, None)


# --- the outcome of a bind --------------------------------------------------------------------------------------


def _show_outcome() -> None:
    """What the last bind did; its password once (a rerun forgets it)."""
    shown: dict[str, Any] | None = st.session_state.pop(OUTCOME_KEY, None)
    if shown is None:
        return
    st.success(literal(shown["said"]))
    st.text(f"Broker username: {shown['username']}\nPublishes on: {', '.join(shown['topics'])}")
    if shown["password"]:
        where = "Zigbee2MQTT's MQTT settings (its one account serves every Zigbee sensor)" if shown["bridge"] else (
            "the device's MQTT settings")  # fmt: skip
        st.warning(f"Copy this password now and type it into {where}. It will not be shown again.")
        st.code(shown["password"], language=None)
    else:
        st.caption("Broker password: unchanged (the device already has its account).")
    for warning in shown["warnings"]:
        st.warning(literal(sentence(warning)))


# --- reporting, not bound ---------------------------------------------------------------------------------------


def _unbound(sources: list[SourceView], stations: list[StationView]) -> None:
    st.header("Reporting, not bound")
    if not sources:
        st.text("None: every device heard from feeds a station.")
        return
    st.caption("Bind a device to the station it measures: its readings then start and end that station's uses."
               if may_bind else "An administrator binds them to the stations they measure.")  # fmt: skip
    opened = st.session_state.get(OPEN_KEY)
    for view in sources:
        ident = _ident(view.via, view.source)
        with st.container(border=True, key=f"unbound-{ident}"):
            st.markdown(_with_code(sentence(view.describe())))
            st.caption(f"Last heard {local(view.last_seen, cfg.tz)} · {view.messages} message(s)")
            if not may_bind:
                continue
            if opened != (view.via, view.source):
                st.button(
                    "Bind", key=f"bind-{ident}", type="primary", on_click=_open_bind, args=(view.via, view.source)
                )
                continue
            _bind_form(view, ident, stations)


def _bind_form(view: SourceView, ident: str, stations: list[StationView]) -> None:
    """Station, role, channel or sensor, and the thresholds prefilled from the station's kind."""
    if not stations:
        st.info("No stations are registered yet: register the station on the Equipment page first.")
        st.button("Cancel", key=f"bind-cancel-{ident}", on_click=_close_bind)
        return
    by_id = {s.id: s for s in stations}
    chosen = st.selectbox("Station it measures", list(by_id), format_func=lambda i: _station_label(by_id[i]),
                          key=f"bind-station-{ident}")  # fmt: skip
    role = st.selectbox(
        "What it tells", ROLES, format_func=ROLE_WORDS.__getitem__, key=f"bind-role-{ident}", help=ROLE_HELP
    )
    station = by_id[chosen]
    _prefill(ident, station, role)
    parts = [p for p in view.parts if p]
    part: str | None = parts[0] if len(parts) == 1 else None
    with st.form(f"bind-form-{ident}", border=False):
        if len(parts) > 1:
            part = st.selectbox(_part_name(view.via), parts, key=f"bind-part-{ident}",
                                help="It reported on more than one: choose the one the station is on.")  # fmt: skip
        elif view.via == "esphome" and not parts:
            part = st.text_input("Sensor (object id)", key=f"bind-entity-{ident}",
                                 help="The object id of its sensor or binary_sensor.")  # fmt: skip
        changes = _threshold_inputs(view.via, ident, role)
        submitted = st.form_submit_button("Bind to this station", key=f"bind-submit-{ident}", type="primary")
    st.button("Cancel", key=f"bind-cancel-{ident}", on_click=_close_bind)
    if submitted:
        _bind(station, view.via, view.source, role=role, part=part, changes=changes)


def _prefill(ident: str, station: StationView, role: str) -> None:
    """The threshold inputs start at the station kind's defaults, again whenever the station or role changes."""
    basis = (station.id, role)
    if st.session_state.get(f"bind-basis-{ident}") == basis:
        return
    t = defaults_for(station.kind, role)  # type: ignore[arg-type]
    st.session_state[f"bind-on-{ident}"] = t.on_watts
    st.session_state[f"bind-off-{ident}"] = t.off_watts
    st.session_state[f"bind-onhold-{ident}"] = t.on_hold_s
    st.session_state[f"bind-offhold-{ident}"] = t.off_hold_s
    st.session_state[f"bind-idle-{ident}"] = t.idle_s
    st.session_state[f"bind-basis-{ident}"] = basis


def _threshold_inputs(via: str, ident: str, role: str) -> ThresholdChanges | None:
    """The thresholds a use is told by (a button needs none)."""
    if role != "usage":
        st.caption("A button needs no thresholds: each press counts.")
        return None
    values: dict[str, float | None] = {}
    if _is_power(via):
        st.caption("Start with these; after binding, Calibrate shows what the equipment really draws.")
    left, right = st.columns(2)
    if _is_power(via):
        values["on_watts"] = left.number_input("In use above (W)", min_value=0.0, step=1.0, format="%.1f",
                                               key=f"bind-on-{ident}")  # fmt: skip
        values["off_watts"] = right.number_input("Done below (W)", min_value=0.0, step=1.0, format="%.1f",
                                                 key=f"bind-off-{ident}")  # fmt: skip
        values["on_hold_s"] = left.number_input("Above it for (s)", min_value=0.0, step=5.0, format="%.0f",
                                                key=f"bind-onhold-{ident}")  # fmt: skip
        values["off_hold_s"] = right.number_input("Below it for (s)", min_value=0.0, step=5.0, format="%.0f",
                                                  key=f"bind-offhold-{ident}")  # fmt: skip
    if _is_activity(via):
        values["idle_s"] = left.number_input("Sensor: done after this long quiet (s)", min_value=0.0, step=10.0,
                                             format="%.0f", key=f"bind-idle-{ident}")  # fmt: skip
    return ThresholdChanges(**values)


# --- bound devices ----------------------------------------------------------------------------------------------


def _bound(bindings: list[BindingView], seen: dict[tuple[str, str], SourceView | None],
           names: dict[str, str]) -> None:  # fmt: skip
    st.header("Bound devices")
    if not bindings:
        st.text("None yet: bind a device above, or connect one below.")
        return
    rows = []
    for b in bindings:
        view = seen.get((b.via, b.source))
        online = "not heard yet" if view is None else {True: "yes", False: "no", None: "not known"}[view.online]
        rows.append({"Station": names.get(b.equipment_id, b.equipment_id), "Vendor": VENDOR_NAMES[b.via],
                     "Source": b.source, "Part": b.channel or b.entity or "-", "Role": b.role,
                     "Thresholds": _thresholds_text(b.via, b.thresholds), "Online": online,
                     "Last heard": local(view.last_seen if view else None, cfg.tz)})  # fmt: skip
    plain_table(pd.DataFrame(rows), label="Bound devices", key="bound_table")
    for b in bindings:
        with st.container(border=True, key=f"bound-{b.id}"):
            part = f" · {_part_name(b.via).lower()} {b.channel or b.entity}" if (b.channel or b.entity) else ""
            st.markdown(_with_code(f"{bidi_safe(names.get(b.equipment_id, b.equipment_id))} ({b.equipment_id}) · "
                                   f"{VENDOR_NAMES[b.via]} `{b.source}`{part} · {b.role}"))  # fmt: skip
            line = st.container(horizontal=True, key=f"bound-actions-{b.id}")
            line.button("Calibrate", key=f"calibrate-{b.id}", on_click=_calibrate, args=(b.id,))
            if not may_bind:
                continue
            with line.popover("Unbind", key=f"unbind-open-{b.id}"):
                st.caption(f"{b.source} stops feeding this station; it shows as reporting, not bound, while it "
                           "keeps reporting.")  # fmt: skip
                account = st.checkbox("Also delete its broker account (the broker refuses the device from then on)",
                                      key=f"unbind-account-{b.id}", disabled=b.via == "zigbee2mqtt",
                                      help="The Zigbee2MQTT bridge's account serves every Zigbee sensor: it "
                                           "stays.")  # fmt: skip
                if st.button(f"Unbind {b.source}", key=f"unbind-{b.id}", type="primary"):
                    _unbind(b, remove_account=account)


# --- calibrate --------------------------------------------------------------------------------------------------


def _calibration(binding_id: int, names: dict[str, str], bindings: list[BindingView]) -> None:
    binding = next((b for b in bindings if b.id == binding_id), None)
    if binding is None:
        st.session_state.pop(CALIBRATE_KEY, None)
        return
    with st.container(border=True, key="calibrate-panel"):
        st.header(literal(f"Calibrate {bidi_safe(names.get(binding.equipment_id, binding.equipment_id))}"))
        st.markdown(_with_code(f"The {VENDOR_NAMES[binding.via]} `{binding.source}`, live: what it reported in the "
                               f"last {WINDOW_S // 60} minutes."))  # fmt: skip
        live_calibration(binding_id)
        st.button("Close", key="calibrate-close", on_click=_stop_calibrating)


@st.fragment(run_every=REFRESH_S)
@staff_guarded("calibrate")
def live_calibration(binding_id: int) -> None:
    """The device's last readings as a chart with the thresholds, and the thresholds they suggest (redraws itself)."""
    if current_user(touch=False) is None:
        st.rerun()
    with read_session(resources.engine()) as session:
        binding = next((b for b in list_bindings(session=session, site=cfg.site) if b.id == binding_id), None)
        try:
            view = source_view(session=session, via=binding.via, source=binding.source) if binding else None
        except NotFound as exc:
            view, missing = None, str(exc)
        else:
            missing = ""
    if binding is None:
        st.info("This device is no longer bound.")
        return
    if view is None:
        st.info(literal(sentence(missing)))
        return
    wanted = binding.channel or binding.entity
    readings = [r for r in view.recent if r[1] == "" or wanted in ("", r[1])]
    watts = [value for _, _, value, unit in readings if unit == "W"]
    now = time.time()
    shown = [r for r in readings if now - r[0] <= WINDOW_S]
    st.caption(f"{sentence(view.now_text())} · last heard {local(view.last_seen, cfg.tz, '%H:%M:%S')}")
    if shown:
        _chart(shown, binding.thresholds if binding.role == "usage" else None, now)
    else:
        st.info(f"Nothing heard in the last {WINDOW_S // 60} minutes.")
    if binding.role != "usage":
        st.text("A button needs no thresholds: each press counts.")
        return
    st.markdown(literal(f"Now: {_thresholds_text(binding.via, binding.thresholds)}."))
    if not watts:
        if _is_activity(binding.via):
            st.text("A sensor needs no power thresholds: active means in use.")
        return
    suggestion = suggest_power(watts)
    if suggestion is None:
        st.info(NO_SUGGESTION)
        return
    st.markdown(literal(f"Suggested: in use above {_plain(suggestion.on_watts)} W, done below "
                        f"{_plain(suggestion.off_watts)} W (idle up to {_plain(suggestion.idle_max)} W, running from "
                        f"{_plain(suggestion.running_min)} W in {suggestion.readings} readings)"))  # fmt: skip
    if not may_bind:
        return
    if st.button("Use these thresholds", key="calibrate-use", type="primary"):
        _use_thresholds(binding, suggestion.on_watts, suggestion.off_watts)


def _use_thresholds(binding: BindingView, on_watts: float, off_watts: float) -> None:
    """Bind the same device to the same station again with the suggested watts (this changes the binding)."""
    acting = acting_user("bind_devices")
    if acting is None:
        st.rerun(scope="app")
    assert acting is not None
    done = run_action(lambda session: bind_source(
        session=session, accounts=broker_accounts(), site=binding.site, equipment_id=binding.equipment_id,
        via=binding.via, source=binding.source, role=binding.role,
        channel=binding.channel if binding.via in CHANNELED else None, entity=binding.entity or None,
        thresholds=ThresholdChanges(on_watts=on_watts, off_watts=off_watts), actor=acting.username))  # fmt: skip
    if done is None:
        return
    rerun_with_notice(f"{binding.equipment_id} is now in use above {_plain(on_watts)} W and done below "
                      f"{_plain(off_watts)} W.")  # fmt: skip


def _chart(readings: list[tuple[float, str, float, str]], thresholds: Thresholds | None, now: float) -> None:
    """Watts (or active/quiet) over the last minutes, each level held until the next reading, the thresholds as
    dashed lines; axes in plain numbers."""
    power = any(unit == "W" for *_, unit in readings)
    data = pd.DataFrame([{"At": at, "Seconds ago": round(now - at, 1), "Level": value}
                         for at, _, value, unit in readings if (unit == "W") == power])  # fmt: skip
    x = alt.X("Seconds ago:Q", scale=alt.Scale(domain=[WINDOW_S, 0]), title="Seconds ago",
              axis=alt.Axis(format="~f"))  # fmt: skip
    if power:
        y = alt.Y("Level:Q", title="Watts", scale=alt.Scale(zero=True),
                  axis=alt.Axis(format="~f", tickMinStep=1))  # fmt: skip
    else:
        y = alt.Y("Level:Q", title="Sensor", scale=alt.Scale(domain=[0, 1]),
                  axis=alt.Axis(values=[0, 1], labelExpr="datum.value == 1 ? 'active' : 'quiet'"))  # fmt: skip
    tooltip = [alt.Tooltip("Seconds ago:Q", format="~f"), alt.Tooltip("Level:Q", title="Watts" if power else "Active",
                                                                      format="~f")]  # fmt: skip
    layers = [alt.Chart(data).mark_line(interpolate="step-after", point=True).encode(x=x, y=y, order="At:Q",
                                                                                      tooltip=tooltip)]  # fmt: skip
    if power and thresholds is not None:
        lines = pd.DataFrame([
            {"Threshold": f"In use above {_plain(thresholds.on_watts)} W", "Level": thresholds.on_watts},
            {"Threshold": f"Done below {_plain(thresholds.off_watts)} W", "Level": thresholds.off_watts},
        ])  # fmt: skip
        legend = alt.Legend(orient="bottom", columns=1, labelLimit=0, title=None)
        rules = (
            alt.Chart(lines)
            .mark_rule(strokeDash=[6, 4], strokeWidth=2)
            .encode(y="Level:Q", color=alt.Color("Threshold:N", legend=legend))
        )
        layers.append(rules)
    st.altair_chart(alt.layer(*layers).properties(height=260), key="calibrate-chart", width="stretch",
                    alt="The device's readings over the last minutes")  # fmt: skip


# --- connect a new device ---------------------------------------------------------------------------------------


def _connect(stations: list[StationView]) -> None:
    st.header("Connect a new device")
    st.caption("For a device that has not reported yet: choose the station it measures, and the device gets its "
               "broker account (username and password to type into its MQTT settings).")  # fmt: skip
    by_id = {s.id: s for s in stations}
    with st.form("connect_device"):
        via = st.selectbox("Vendor", VIAS, format_func=VENDOR_NAMES.__getitem__, key="connect_via")
        source = st.text_input("Its MQTT name", key="connect_source", max_chars=64, help=SOURCE_HELP)
        part = st.text_input("Switch or sensor", key="connect_part", max_chars=64, help=PART_HELP)
        chosen = st.selectbox("Station it measures", [None, *by_id], key="connect_station",
                              format_func=lambda i: "Choose a station" if i is None else _station_label(by_id[i]),
                              help="Required: a device is connected by binding it to a station. Register the "
                                   "station on the Equipment page first.")  # fmt: skip
        role = st.selectbox(
            "What it tells", ROLES, format_func=ROLE_WORDS.__getitem__, key="connect_role", help=ROLE_HELP
        )
        submitted = st.form_submit_button("Connect device", key="connect_submit", type="primary")
    if not submitted:
        return
    if chosen is None:
        show_error("Choose the station this device measures: a device is connected by binding it to a station.")
        return
    _bind(by_id[chosen], via, source.strip(), role=role, part=part.strip() or None, changes=None)


# --- the page ---------------------------------------------------------------------------------------------------


def _sources_seen(bindings: list[BindingView]) -> dict[tuple[str, str], SourceView | None]:
    """What each bound device last said (None: never heard from)."""
    seen: dict[tuple[str, str], SourceView | None] = {}
    with read_session(resources.engine()) as session:
        for b in bindings:
            if (b.via, b.source) in seen:
                continue
            try:
                seen[(b.via, b.source)] = source_view(session=session, via=b.via, source=b.source)
            except NotFound:
                seen[(b.via, b.source)] = None
    return seen


show_notice()
with read_session(resources.engine()) as session:
    all_stations = list_stations(session=session, tz=cfg.tz, site=cfg.site)
    all_sources = unbound_sources(session=session)
    all_bindings = list_bindings(session=session, site=cfg.site)
station_names = {s.id: s.name for s in all_stations}
_show_outcome()
calibrating = st.session_state.get(CALIBRATE_KEY)
if calibrating is not None:
    _calibration(calibrating, station_names, all_bindings)
_unbound(all_sources, all_stations)
_bound(all_bindings, _sources_seen(all_bindings), station_names)
if may_bind:
    _connect(all_stations)
