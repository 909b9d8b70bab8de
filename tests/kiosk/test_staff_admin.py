"""The admin pages through AppTest: equipment (register, edit, broker passwords, unknown devices), staff
accounts, the audit log, and the usage charts."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pandas as pd
import pyarrow as pa
import pytest
from sqlalchemy import Engine
from streamlit.testing.v1 import AppTest

from shared.equipment.ingest import record_batch
from shared.equipment.stations import register_equipment
from shared.staff.accounts import list_accounts, update_account
from shared.staff.audit import recent_audit
from shared.staff.models import StaffAccount
from shared.staff.sign_in import SignIn, sign_in
from shared.store.db import read_session, unit_of_work
from shared.store.settings import Settings
from shared.upkeep.backups import record_backup
from telemetry.broker import hash_password, set_device_password
from tests import factories as make
from tests.conftest import Broker
from tests.kiosk.staff_app import (
    PASSWORD,
    add_staff,
    errors,
    plain_table,
    shown,
    signed_in,
    successes,
    texts,
)
from tests.mqtt_helpers import connect

# Page behaviour does not depend on the backend, and the services behind these pages run on both SQLite and
# PostgreSQL in tests/shared; one backend here keeps CI short.
pytestmark = [
    pytest.mark.usefixtures("staff_env"),
    pytest.mark.parametrize("db_url", ["sqlite"], indirect=True),
]
HOSTILE = "<script>alert(1)</script> [x](javascript:alert(1))"


def signing_in(engine: Engine, **kwargs: Any) -> SignIn:
    """A sign-in as the staff app runs it: in a unit of work of its own."""
    with unit_of_work(engine) as session:
        return sign_in(session=session, **kwargs)


@pytest.fixture
def gym(engine: Engine) -> Engine:
    make.station(engine, "tm-1", "Treadmill 1", zone="Gym A", kind="treadmill")
    make.station(engine, "bike-1", "Bike 1", zone="Gym A", kind="bike")
    add_staff(engine, "boss", "admin", "The Boss")
    add_staff(engine, "ana", "technician", "Ana K.")
    return engine


def submit(app: AppTest, label: str) -> AppTest:
    next(b for b in app.button if b.label == label).click()
    app.run()
    assert not app.exception, app.exception
    return app


def table(app: AppTest, n: int = 0) -> pd.DataFrame:
    return app.dataframe[n].value


def account(engine: Engine, username: str) -> StaffAccount:
    with read_session(engine) as session:
        return next(a for a in list_accounts(session=session) if a.username == username)


# --- equipment ---------------------------------------------------------------------------------------------


def register_form(app: AppTest, equipment_id: str, name: str, **more: object) -> AppTest:
    app.text_input(key="new_id").set_value(equipment_id)
    app.text_input(key="new_name").set_value(name)
    app.text_input(key="new_kind").set_value(str(more.get("kind", "other")))
    app.text_input(key="new_zone").set_value(str(more.get("zone", "")))
    app.number_input(key="new_interval").set_value(float(more.get("interval", 0.0)))  # type: ignore[arg-type]
    app.checkbox(key="new_clean").set_value(bool(more.get("clean", True)))
    return submit(app, "Register station")


def test_the_equipment_page_lists_the_stations(gym: Engine) -> None:
    app = signed_in("boss", "equipment.py")
    rows = table(app)
    assert list(rows["ID"]) == ["bike-1", "tm-1"]
    assert list(rows.columns) == [
        "ID",
        "Name",
        "Kind",
        "Zone",
        "Clean after use",
        "Maintenance every (h)",
        "Status",
        "Broker account",
    ]
    assert list(rows["Kind"]) == ["bike", "treadmill"] and set(rows["Broker account"]) == {"none"}


def test_register_a_station(gym: Engine) -> None:
    app = register_form(
        signed_in("boss", "equipment.py"), "rower-1", HOSTILE, kind="rower", zone="Gym B", interval=250.0, clean=False
    )
    assert successes(app) == [f"Registered {HOSTILE} (rower-1). Create its broker password below if it sends messages."]
    view = make.read_station(gym, "rower-1")
    assert (view.name, view.kind, view.zone, view.clean_after_use, view.maintenance_interval_hours) == (
        HOSTILE,
        "rower",
        "Gym B",
        False,
        250.0,
    )
    actor, action, target, detail = make.last_audit(gym, json_detail=True)
    assert (actor, action, target, detail["name"]) == ("boss", "equipment.register", "main/rower-1", HOSTILE)
    assert HOSTILE in list(table(app)["Name"]), "the table shows the name as typed"
    assert "[x](javascript:alert(1))" in app.success[0].value.replace("\\", ""), "escaped, not a link"
    assert "](" not in app.success[0].value, "every bracket is escaped in the Markdown source"


@pytest.mark.parametrize(
    ("equipment_id", "name", "message"),
    [
        ("rower-1", "", "Name must be 1 to 200 characters"),
        ("rower-1", "   ", "Name must be 1 to 200 characters"),
        ("Rower 1", "Rower", "Equipment id 'Rower 1' must match"),
        ("", "Rower", "Equipment id '' must match"),
        ("tm-1", "Another treadmill", "Station tm-1 is already registered: change it under 'Edit a station'."),
    ],
)
def test_bad_station_details_are_refused(gym: Engine, equipment_id: str, name: str, message: str) -> None:
    app = register_form(signed_in("boss", "equipment.py"), equipment_id, name)
    assert len(errors(app)) == 1 and errors(app)[0].startswith(message), errors(app)
    assert make.read_station(gym, "tm-1").name == "Treadmill 1"
    with read_session(gym) as session:
        assert [e.action for e in recent_audit(session=session)].count("equipment.register") == 0


def test_edit_a_station(gym: Engine) -> None:
    app = signed_in("boss", "equipment.py")
    app.selectbox(key="edit_station").set_value("tm-1").run()
    assert app.text_input(key="edit-name-tm-1").value == "Treadmill 1"
    app.text_input(key="edit-name-tm-1").set_value("Treadmill One")
    app.text_input(key="edit-zone-tm-1").set_value("Gym B")
    app.number_input(key="edit-interval-tm-1").set_value(100.0)
    app.checkbox(key="edit-clean-tm-1").set_value(False)
    submit(app, "Save changes")
    assert successes(app) == ["Saved the changes to Treadmill One (tm-1)."]
    view = make.read_station(gym, "tm-1")
    assert (view.name, view.zone, view.kind, view.clean_after_use, view.maintenance_interval_hours) == (
        "Treadmill One",
        "Gym B",
        "treadmill",
        False,
        100.0,
    )
    assert make.last_audit(gym)[:3] == ("boss", "equipment.register", "main/tm-1")
    assert "Treadmill One" in list(table(app)["Name"])

    app.text_input(key="edit-name-tm-1").set_value("")
    submit(app, "Save changes")
    assert errors(app) == ["Name must be 1 to 200 characters"]
    app.text_input(key="edit-name-tm-1").set_value("Treadmill One")
    app.number_input(key="edit-interval-tm-1").set_value(0.0)
    submit(app, "Save changes")
    assert errors(app) == ["A maintenance interval cannot be removed, only changed to a positive number"]
    assert make.read_station(gym, "tm-1").maintenance_interval_hours == 100.0


def test_a_broker_password_is_shown_once_and_works(gym: Engine, tmp_path: Path) -> None:
    data = tmp_path / "data"  # the app's data folder (staff_env)
    app = signed_in("boss", "equipment.py")
    app.selectbox(key="cred_station").set_value("tm-1").run()
    app.button(key="cred_make").click().run()
    assert [w.value for w in app.warning] == ["Copy this password into the device now. It will not be shown again."]
    assert "Username: tm-1\nPublishes on: clinic/main/equipment/tm-1/<channel>" in [t.value for t in app.text]
    password = app.code[0].value
    assert len(password) >= 20
    entries = dict(line.split(":", 1) for line in (data / "mosquitto" / "passwd").read_text().splitlines())
    salt = base64.b64decode(entries["tm-1"].split("$")[3])
    assert entries["tm-1"] == hash_password(password, salt=salt), "the broker keeps only its hash"
    assert password not in (data / "mosquitto" / "passwd").read_text()
    audited = make.last_audit(gym, json_detail=True)
    assert audited == ("boss", "equipment.broker_password", "main/tm-1", {"replaced": False})
    assert dict(zip(table(app)["ID"], table(app)["Broker account"], strict=True))["tm-1"] == "yes"

    app.run()
    assert not app.code and password not in texts(app), "shown once only"
    assert app.button(key="cred_make").label == "Replace the broker password"
    app.button(key="cred_make").click().run()
    assert app.code[0].value != password
    assert make.last_audit(gym, json_detail=True)[3] == {"replaced": True}


def test_an_id_with_a_broker_account_at_another_site_is_refused(gym: Engine, tmp_path: Path) -> None:
    data = tmp_path / "data"  # the app's data folder (staff_env)
    set_device_password(Settings(data_dir=data, _env_file=None), "tm-1", site="east")  # type: ignore[call-arg]
    app = signed_in("boss", "equipment.py")
    assert dict(zip(table(app)["ID"], table(app)["Broker account"], strict=True))["tm-1"] == "taken at site east"
    app.selectbox(key="cred_station").set_value("tm-1").run()
    app.button(key="cred_make").click().run()
    expected = "Equipment id 'tm-1' already has a broker account at site 'east'; ids must be unique on one broker"
    assert errors(app) == [expected]
    assert not app.code and not app.warning
    set_device_password(Settings(data_dir=data, _env_file=None), "rower-9", site="east")  # type: ignore[call-arg]
    register_form(app, "rower-9", "Rower 9")
    assert errors(app) == [expected.replace("tm-1", "rower-9")]


def test_the_password_from_the_page_lets_the_device_publish(gym: Engine, broker: Broker) -> None:
    app = signed_in("boss", "equipment.py")
    app.selectbox(key="cred_station").set_value("tm-1").run()
    app.button(key="cred_make").click().run()
    password = app.code[0].value
    broker.restart()  # the test broker was not started by `clinic up`, so no SIGHUP reaches it
    client = connect(broker.port, "tm-1", password)
    try:
        assert not client.connack[0].is_failure
        assert not client.publish("clinic/main/equipment/tm-1/usage", b"{}").is_failure
    finally:
        client.close()
    wrong = connect(broker.port, "tm-1", password + "x")
    assert wrong.connack[0].is_failure
    wrong.close()


def test_the_equipment_page_registers_an_unknown_device_and_replays_it(gym: Engine) -> None:
    record_batch(engine=gym, items=[*make.use_messages("rower-1", 9, 10, 5)], tz=UTC)
    app = signed_in("boss", "equipment.py")
    assert any(t.value.startswith("main/rower-1: 2 message(s) kept, last ") for t in app.text)
    app.text_input(key="unknown-name-main-rower-1").set_value("Rower 1")
    submit(app, "Register rower-1 and replay its messages")
    assert successes(app) == ["Registered Rower 1 (rower-1): 2 kept message(s) recorded, 0 still kept."]
    assert make.read_station(gym, "rower-1").uses_total == 1
    assert make.last_audit(gym)[:3] == ("boss", "equipment.register", "main/rower-1")
    assert "None: every device that sent a message is registered." in [t.value for t in app.text]


# --- accounts ----------------------------------------------------------------------------------------------


def add_form(app: AppTest, username: str, role: str | None, password: str, repeat: str, name: str = "") -> AppTest:
    app.text_input(key="add_username").set_value(username)
    app.text_input(key="add_display").set_value(name)
    app.selectbox(key="add_role").set_value(role)
    app.text_input(key="add_password").set_value(password)
    app.text_input(key="add_repeat").set_value(repeat)
    return submit(app, "Add account")


def test_the_accounts_page_lists_accounts_without_hashes(gym: Engine) -> None:
    app = signed_in("boss", "accounts.py")
    rows = table(app)
    assert list(rows.columns) == ["Username", "Name", "Role", "State", "Last sign-in", "Created"]
    assert list(rows["Username"]) == ["ana", "boss"] and list(rows["Role"]) == ["technician", "admin"]
    assert not rows.astype(str).apply(lambda col: col.str.contains("scrypt")).any().any()
    assert "scrypt" not in texts(app)


def test_add_an_account(gym: Engine) -> None:
    app = add_form(signed_in("boss", "accounts.py"), "Bo.Front", "front_desk", PASSWORD, PASSWORD, name="Bo")
    assert successes(app) == ["Added bo.front as front desk."]
    assert (account(gym, "bo.front").role, account(gym, "bo.front").display_name) == ("front_desk", "Bo")
    assert make.last_audit(gym, json_detail=True) == ("boss", "staff.create", "bo.front", {"role": "front_desk"})
    assert "bo.front" in list(table(app)["Username"])
    assert signing_in(gym, username="bo.front", password=PASSWORD).user is not None


@pytest.mark.parametrize(
    ("username", "role", "password", "repeat", "message"),
    [
        ("bo", None, PASSWORD, PASSWORD, "Role '' is not one of technician, front_desk, manager, admin"),
        ("bo", "technician", "short", "short", "Password must be at least 10 characters"),
        ("bo", "technician", PASSWORD, PASSWORD + "!", "The two passwords differ."),
        ("<b>bo</b>", "technician", PASSWORD, PASSWORD, "Username '<b>bo</b>' must be 2-64 characters"),
        ("ana", "admin", PASSWORD, PASSWORD, "Username 'ana' is taken"),
    ],
)
def test_bad_account_details_are_refused(
    gym: Engine, username: str, role: str | None, password: str, repeat: str, message: str
) -> None:
    app = add_form(signed_in("boss", "accounts.py"), username, role, password, repeat)
    assert len(errors(app)) == 1 and errors(app)[0].startswith(message), errors(app)
    with read_session(gym) as session:
        assert [a.username for a in list_accounts(session=session)] == ["ana", "boss"]


def test_change_a_role_disable_and_enable(gym: Engine) -> None:
    app = signed_in("boss", "accounts.py")
    app.selectbox(key="manage_account").set_value("ana").run()
    app.selectbox(key="manage-role-ana").set_value("front_desk")
    app.button(key="manage-set-role-ana").click().run()
    assert successes(app) == ["ana is now front desk."]
    assert account(gym, "ana").role == "front_desk"
    assert make.last_audit(gym, json_detail=True) == ("boss", "staff.update", "ana", {"role": "front_desk"})

    app.button(key="manage-disable-ana").click().run()
    assert successes(app) == ["ana can no longer sign in."]
    assert account(gym, "ana").disabled and signing_in(gym, username="ana", password=PASSWORD).user is None
    assert dict(zip(table(app)["Username"], table(app)["State"], strict=True))["ana"] == "disabled"
    assert make.last_audit(gym, json_detail=True) == ("boss", "staff.update", "ana", {"disabled": True})

    app.button(key="manage-enable-ana").click().run()
    assert not account(gym, "ana").disabled and signing_in(gym, username="ana", password=PASSWORD).user is not None


def test_an_admin_cannot_disable_or_demote_themselves_on_the_page(gym: Engine) -> None:
    app = signed_in("boss", "accounts.py")
    app.selectbox(key="manage_account").set_value("boss").run()
    assert app.button(key="manage-disable-boss").disabled and app.button(key="manage-set-role-boss").disabled
    assert "This is your own account: you cannot disable it or take the admin role from it." in texts(app)


def test_a_new_password_lifts_a_lock_out(gym: Engine) -> None:
    for _ in range(5):
        signing_in(gym, username="ana", password="bad password!")
    app = signed_in("boss", "accounts.py")
    assert dict(zip(table(app)["Username"], table(app)["State"], strict=True))["ana"].startswith("locked until ")
    app.selectbox(key="manage_account").set_value("ana").run()
    app.text_input(key="manage-password1-ana").set_value("a brand new secret")
    app.text_input(key="manage-password2-ana").set_value("a different secret")
    submit(app, "Set password")
    assert errors(app) == ["The two passwords differ."]
    app.text_input(key="manage-password1-ana").set_value("a brand new secret")
    app.text_input(key="manage-password2-ana").set_value("a brand new secret")
    submit(app, "Set password")
    assert successes(app) == ["New password set for ana."]
    assert signing_in(gym, username="ana", password="a brand new secret").user is not None
    assert make.last_audit(gym)[1] == "staff.sign_in"
    with read_session(gym) as session:
        assert recent_audit(session=session, limit=2)[1].actor == "boss"
    assert dict(zip(table(app)["Username"], table(app)["State"], strict=True))["ana"] == "active"


# --- site upkeep (on the accounts page) ------------------------------------------------------------------


def test_the_admin_page_warns_until_a_backup_is_made(gym: Engine, staff_env: Path) -> None:
    app = signed_in("boss", "accounts.py")
    warnings = [shown(w.value) for w in app.warning]
    assert "No backup has been made yet: run `clinic db backup` (or enable the nightly backup timer)." in warnings
    lines = [t.value for t in app.text]
    assert "Last backup: none yet" in lines
    assert any(line.startswith("Data disk: ") and "% used, " in line and " free of " in line for line in lines)

    archive = staff_env / "backups" / "clinic-20261207.tar.gz"
    at = datetime.now(UTC) - timedelta(hours=3)
    record_backup(staff_env, path=archive, at=at, size=12_345)
    app.run()
    assert not app.exception, app.exception
    assert not [w.value for w in app.warning if "backup" in w.value.lower()]
    assert f"Last backup: {at:%Y-%m-%d %H:%M} (3 h ago), {archive.resolve()}" in [t.value for t in app.text]


def test_the_admin_page_warns_of_an_old_backup(gym: Engine, staff_env: Path) -> None:
    record_backup(staff_env, path=staff_env / "old.tar.gz", at=datetime.now(UTC) - timedelta(hours=40), size=1)
    app = signed_in("boss", "accounts.py")
    assert [shown(w.value) for w in app.warning if "backup" in w.value.lower()] == [
        "The last backup is 40 hours old (over 36 h): check the nightly backup timer, or run `clinic db backup`."
    ]


# --- audit -------------------------------------------------------------------------------------------------


def test_the_audit_page_shows_entries_in_the_clinic_zone(gym: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CLINIC_TIMEZONE", "America/New_York")
    update_account(engine=gym, username="ana", actor="boss", role="front_desk")
    with unit_of_work(gym) as session:
        register_equipment(session=session, site="main", equipment_id="tm-1", zone=HOSTILE, actor="boss")
    app = signed_in("boss", "audit.py")
    rows = table(app)
    assert list(rows.columns) == ["Time", "By", "Action", "Target", "Detail"]
    with read_session(gym) as session:
        newest = recent_audit(session=session, limit=1)[0]
    expected_time = newest.at.astimezone(ZoneInfo("America/New_York"))
    assert rows.iloc[0]["Time"] == expected_time.strftime("%Y-%m-%d %H:%M:%S")
    assert list(rows["Action"][:3]) == ["staff.sign_in", "equipment.register", "staff.update"]
    assert rows.iloc[1]["Detail"] == f"zone: {HOSTILE}"
    assert rows.iloc[2]["Detail"] == "role: front_desk" and rows.iloc[2]["Target"] == "ana"
    assert "America/New_York" in texts(app)

    app.text_input(key="audit_filter").set_value("EQUIPMENT").run()
    assert list(table(app)["Action"]) == ["equipment.register"]
    app.text_input(key="audit_filter").set_value("nothing like this").run()
    assert not app.dataframe and [i.value for i in app.info] == ["No audit entries match."]


# --- charts ------------------------------------------------------------------------------------------------


def chart_data(app: AppTest, n: int) -> pd.DataFrame:
    """The rows behind the n-th chart on the page."""
    charts = [e for e in app.main.children.values() if getattr(e, "type", "") == "vega_lite_chart"]
    raw = charts[n].proto.datasets[0].data.data  # type: ignore[attr-defined]
    return pa.ipc.open_stream(raw).read_pandas()


def test_the_charts_page_shows_use_and_cleaning(gym: Engine) -> None:
    events = [
        *make.use_messages("tm-1", 1, 120, 20),
        make.device_message("tm-1", "cleaning", {"event_id": "c1", "event": "cleaned"}, 90),
        *make.use_messages("tm-1", 2, 60, 10),
        *make.use_messages("tm-1", 3, 30, 10),
    ]
    record_batch(engine=gym, items=events, tz=UTC)
    app = signed_in("ana", "charts.py")
    uses, minutes = chart_data(app, 0), chart_data(app, 1)
    assert len(uses) == 2 * 7, "every station, every day of the week"
    today = f"{datetime.now(UTC):%Y-%m-%d (%a)}"
    assert list(uses["Day"][:7]) == sorted(uses["Day"][:7]) and uses["Day"].iloc[6] == today
    assert uses.groupby("Station")["Uses"].sum().to_dict() == {"Treadmill 1": 3, "Bike 1": 0}
    assert minutes.groupby("Station")["Minutes in use"].sum().to_dict()["Treadmill 1"] == pytest.approx(40)
    cleaning = plain_table(app, "Cleaning per station").set_index("Station")  # as read: text, 16 px
    assert cleaning.loc["Treadmill 1", "Uses that needed a cleaning"] == "3"
    assert cleaning.loc["Treadmill 1", "Cleaned before the next use"] == "1"
    assert cleaning.loc["Treadmill 1", "Compliance (%)"] == "33"
    assert cleaning.loc["Treadmill 1", "Median minutes to clean"] == "10.0"
    assert cleaning.loc["Bike 1", "Compliance (%)"] == "-", "nothing to measure yet: a dash"
    assert "Compliance is the share of uses that were followed by a cleaning" in texts(app)

    app.toggle(key="charts_30_days").set_value(True).run()
    assert len(chart_data(app, 0)) == 2 * 30


def test_the_charts_page_without_stations(engine: Engine) -> None:
    add_staff(engine, "ana", "technician")
    app = signed_in("ana", "charts.py")
    assert [i.value for i in app.info] == ["No stations are registered yet, so there is nothing to chart."]
