"""The Devices page through AppTest: native devices reporting but not bound, binding one (its password shown once),
calibrating its thresholds from its live readings, unbinding, connecting a device by name, and who may do what."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine
from streamlit.testing.v1 import AppTest

from kiosk.staff.kit import sentence
from shared.equipment.native.bindings import BindingView, bind_source, list_bindings
from shared.equipment.native.calibration import suggest_power
from shared.equipment.native.sources import source_view
from shared.equipment.native.store import store_plan
from shared.equipment.native.translate import Plan, SourceSeen
from shared.staff.permissions import PERMISSIONS
from shared.store.db import read_session, unit_of_work
from telemetry.broker import FileBrokerAccounts, hash_password
from tests import factories as make
from tests.kiosk.staff_app import REFUSED, add_staff, errors, new_app, plain_table, shown, sign_in, successes, texts

# Page behaviour does not depend on the backend (the services behind it run on both in tests/shared).
pytestmark = [
    pytest.mark.usefixtures("staff_env"),
    pytest.mark.parametrize("db_url", ["sqlite"], indirect=True),
]
PLUG = "shellyplusplugs-a8032ab1"
IDENT = f"shelly-{PLUG}"  # the page's widget keys for the plug
IDLE_THEN_RUNNING = [2.0] * 10 + [120.0] * 10
SAID = f"A Shelly plug `{PLUG}` is reporting (120 W now)"
NO_SUGGESTION = (
    "Turn the equipment on and use it for a minute; suggestions appear once it has been seen idle and running."
)


@pytest.fixture
def gym(engine: Engine) -> Engine:
    """A treadmill and a bike, an admin and a technician, and a Shelly plug heard idling then running."""
    make.station(engine, "tm-1", "Treadmill 1", zone="Gym A", kind="treadmill")
    make.station(engine, "bike-1", "Bike 1", zone="Gym A", kind="bike")
    add_staff(engine, "boss", "admin", "The Boss")
    add_staff(engine, "ana", "technician", "Ana K.")
    add_staff(engine, "fran", "front_desk", "Fran D.")
    heard(engine, PLUG, IDLE_THEN_RUNNING)
    return engine


def heard(engine: Engine, source: str, watts: list[float], *, via: str = "shelly", part: str = "0") -> None:
    """A `native_source` row as the adapter stores it: the device's readings, one a second up to now."""
    now = datetime.now(UTC)
    start = now.timestamp() - len(watts)
    recent: list[list[object]] = [[round(start + i, 3), part, w, "W"] for i, w in enumerate(watts)]
    seen = SourceSeen(via, source, now - timedelta(minutes=10), now, online=True, messages=len(watts),
                      last_topic=f"{source}/status/switch:{part}", recent=recent)  # fmt: skip
    with engine.begin() as conn:
        store_plan(conn, Plan(sources={(via, source): seen}), client_id="test")


def devices_page(username: str) -> AppTest:
    """A new session signed in through the form as `username`, on the Devices page."""
    app = sign_in(new_app(), username)
    assert not app.exception, app.exception
    app.switch_page("screens/devices.py").run()
    assert not app.exception, app.exception
    return app


def bindings(engine: Engine) -> list[BindingView]:
    with read_session(engine) as session:
        return list_bindings(session=session)


def bound_directly(engine: Engine, source: str = PLUG, station: str = "tm-1") -> BindingView:
    """Bind as `clinic device bind` would (the page's own Bind is tested on its own)."""
    with unit_of_work(engine) as session:
        accounts = FileBrokerAccounts()
        return bind_source(session=session, accounts=accounts, site="main", equipment_id=station, via="shelly",
                           source=source, actor="cli").binding  # fmt: skip


def button_keys(app: AppTest) -> set[str]:
    return {str(b.key) for b in app.button}


def click(app: AppTest, key: str) -> AppTest:
    app.button(key=key).click()
    app.run()
    assert not app.exception, app.exception
    return app


def suggestion_text(watts: list[float]) -> str:
    found = suggest_power(watts)
    assert found is not None
    return (f"Suggested: in use above {found.on_watts:g} W, done below {found.off_watts:g} W (idle up to "
            f"{found.idle_max:g} W, running from {found.running_min:g} W in {found.readings} readings)")  # fmt: skip


def test_a_device_reporting_but_not_bound_is_described_in_a_sentence(gym: Engine) -> None:
    app = devices_page("boss")
    assert [t.value for t in app.title] == ["Devices"]
    assert SAID in texts(app).splitlines()
    with read_session(gym) as session:
        assert sentence(source_view(session=session, via="shelly", source=PLUG).describe()) == SAID
    assert "Last heard " in texts(app) and "· 20 message(s)" in texts(app)
    assert f"`{PLUG}`" in next(m.value for m in app.markdown if PLUG in m.value), "the name as code, never markup"
    assert f"bind-{IDENT}" in button_keys(app)
    assert "None yet: bind a device above, or connect one below." in texts(app)


def test_a_device_name_is_shown_as_it_is_never_as_markup(gym: Engine) -> None:
    hostile = "<img src=x> [x](javascript:alert(1)) *b*"  # a Zigbee2MQTT friendly name is free text
    heard(gym, hostile, [], via="zigbee2mqtt", part="")
    app = devices_page("boss")
    [line] = [m.value for m in app.markdown if "Zigbee sensor" in m.value]
    assert line == f"A Zigbee sensor `{hostile}` is reporting", "the name in a code span"


def test_bind_creates_the_binding_and_shows_the_password_once(gym: Engine, tmp_path: Path) -> None:
    app = click(devices_page("boss"), f"bind-{IDENT}")
    assert app.selectbox(key=f"bind-station-{IDENT}").value == "bike-1", "the first station, by zone and name"
    assert app.number_input(key=f"bind-on-{IDENT}").value == 15.0, "a bike's default"
    app.selectbox(key=f"bind-station-{IDENT}").set_value("tm-1").run()
    assert app.selectbox(key=f"bind-role-{IDENT}").value == "usage"
    assert (app.number_input(key=f"bind-on-{IDENT}").value, app.number_input(key=f"bind-off-{IDENT}").value) == (
        60.0,
        25.0,
    ), "prefilled again from the treadmill's kind"
    app = click(app, f"bind-submit-{IDENT}")
    assert not errors(app)

    [binding] = bindings(gym)
    assert (binding.equipment_id, binding.via, binding.source, binding.channel, binding.role) == (
        "tm-1",
        "shelly",
        PLUG,
        "0",
        "usage",
    )
    assert (binding.thresholds.on_watts, binding.thresholds.off_watts) == (60.0, 25.0)
    assert make.last_audit(gym)[:3] == ("boss", "equipment.bind", "main/tm-1")
    assert successes(app) == [
        f"Bound the Shelly plug {PLUG} to Treadmill 1 (tm-1): in use above 60 W for 30 s, done below 25 W for 120 s."
    ]
    assert f"Broker username: {PLUG}\nPublishes on: " in "\n".join(t.value for t in app.text)
    assert [w.value for w in app.warning] == [
        "Copy this password now and type it into the device's MQTT settings. It will not be shown again."
    ]
    password = app.code[0].value
    assert len(password) >= 20
    passwd = (tmp_path / "data" / "mosquitto" / "passwd").read_text()
    entries = dict(line.split(":", 1) for line in passwd.splitlines())
    salt = base64.b64decode(entries[PLUG].split("$")[3])
    assert entries[PLUG] == hash_password(password, salt=salt), "the broker keeps only its hash"
    assert FileBrokerAccounts().native_account(PLUG) == "shelly"
    assert SAID not in texts(app), "bound now: no longer listed as reporting, not bound"
    assert list(plain_table(app, "Bound devices")["Station"]) == ["Treadmill 1"]

    app.run()
    assert not app.code and password not in texts(app), "shown once only"


def test_bad_thresholds_are_refused_and_nothing_is_bound(gym: Engine) -> None:
    app = click(devices_page("boss"), f"bind-{IDENT}")
    app.number_input(key=f"bind-off-{IDENT}").set_value(20.0)
    app.number_input(key=f"bind-on-{IDENT}").set_value(10.0)
    app = click(app, f"bind-submit-{IDENT}")
    assert errors(app) == ["Off-watts (20) must be below on-watts (10)"]
    assert bindings(gym) == []
    assert not app.code


def test_cancel_closes_the_bind_form(gym: Engine) -> None:
    app = click(click(devices_page("boss"), f"bind-{IDENT}"), f"bind-cancel-{IDENT}")
    assert f"bind-{IDENT}" in button_keys(app) and f"bind-submit-{IDENT}" not in button_keys(app)


def test_calibrate_suggests_thresholds_and_use_these_thresholds_changes_the_binding(
    gym: Engine,
) -> None:
    binding = bound_directly(gym)
    app = devices_page("boss")
    app = click(app, f"calibrate-{binding.id}")
    assert "Calibrate Treadmill 1" in [h.value for h in app.header]
    assert suggestion_text(IDLE_THEN_RUNNING) in texts(app).splitlines()
    assert "Now: in use above 60 W for 30 s, done below 25 W for 120 s." in texts(app).splitlines()
    found = suggest_power(IDLE_THEN_RUNNING)
    assert found is not None
    app = click(app, "calibrate-use")
    [changed] = bindings(gym)
    assert (changed.id, changed.thresholds.on_watts, changed.thresholds.off_watts) == (
        binding.id,
        found.on_watts,
        found.off_watts,
    )
    assert (changed.thresholds.on_hold_s, changed.thresholds.off_hold_s) == (30.0, 120.0), "the rest kept"
    assert successes(app) == [f"tm-1 is now in use above {found.on_watts:g} W and done below {found.off_watts:g} W."]
    assert make.last_audit(gym)[:3] == ("boss", "equipment.bind", "main/tm-1")
    assert f"Now: in use above {found.on_watts:g} W for 30 s, done below {found.off_watts:g} W for 120 s." in texts(app)


def test_calibrate_without_both_levels_says_how_to_get_a_suggestion(gym: Engine) -> None:
    heard(gym, "shellyplug-s-0a1b2c", [3.0] * 12)
    binding = bound_directly(gym, source="shellyplug-s-0a1b2c", station="bike-1")
    app = click(devices_page("boss"), f"calibrate-{binding.id}")
    assert NO_SUGGESTION in [i.value for i in app.info]
    assert "calibrate-use" not in button_keys(app)
    app = click(app, "calibrate-close")
    assert "calibrate-close" not in button_keys(app)


def test_unbind_removes_the_binding(gym: Engine) -> None:
    binding = bound_directly(gym)
    app = devices_page("boss")
    assert SAID not in texts(app)
    app.checkbox(key=f"unbind-account-{binding.id}").check()
    app = click(app, f"unbind-{binding.id}")
    assert bindings(gym) == []
    assert successes(app) == [f"Unbound {PLUG} from station tm-1 and deleted its broker account."]
    assert make.last_audit(gym)[:3] == ("boss", "equipment.unbind", "main/tm-1")
    assert FileBrokerAccounts().native_account(PLUG) is None
    assert SAID in texts(app).splitlines(), "reporting, not bound again"


def test_connect_a_new_device_needs_a_station_then_binds_it(gym: Engine) -> None:
    app = devices_page("boss")
    app.selectbox(key="connect_via").set_value("tasmota")
    app.text_input(key="connect_source").set_value("tasmota_4B2F1A")
    app = click(app, "connect_submit")
    assert errors(app) == ["Choose the station this device measures: a device is connected by binding it to a station."]
    assert bindings(gym) == []

    app.selectbox(key="connect_station").set_value("bike-1")
    app = click(app, "connect_submit")
    assert not errors(app), errors(app)
    [binding] = bindings(gym)
    assert (binding.equipment_id, binding.via, binding.source, binding.thresholds.on_watts) == (
        "bike-1",
        "tasmota",
        "tasmota_4B2F1A",
        15.0,
    )
    assert len(app.code) == 1 and app.code[0].value, "the password, once"
    assert "Calibrate Bike 1" in [h.value for h in app.header], "calibration opens after a bind"
    assert [shown(i.value) for i in app.info] == [
        "No message from the tasmota device tasmota_4B2F1A yet: check its MQTT settings"
    ], "until the device reports"


def test_a_technician_binds_but_the_front_desk_may_not_open_the_page(gym: Engine) -> None:
    assert f"bind-{IDENT}" in button_keys(devices_page("ana")), "technicians set up the gym's plugs and sensors"
    app = devices_page("fran")
    assert errors(app) == [REFUSED]
    assert f"bind-{IDENT}" not in button_keys(app) and SAID not in texts(app)


def test_without_bind_devices_there_is_no_bind_button(gym: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    """A role with the Devices page but not `bind_devices` (none has that today) sees and calibrates only."""
    monkeypatch.setitem(PERMISSIONS, "technician", PERMISSIONS["technician"] - {"bind_devices"})
    binding = bound_directly(gym, source="shellyplug-s-0a1b2c")
    app = devices_page("ana")
    assert not errors(app)
    assert SAID in texts(app).splitlines()
    assert "An administrator binds them to the stations they measure." in texts(app)
    keys = button_keys(app)
    assert f"bind-{IDENT}" not in keys and f"unbind-{binding.id}" not in keys and "connect_submit" not in keys
    assert "Connect a new device" not in texts(app)
    app = click(app, f"calibrate-{binding.id}")
    assert "calibrate-use" not in button_keys(app)
