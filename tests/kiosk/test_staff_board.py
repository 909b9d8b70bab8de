"""The equipment board through AppTest: statuses in words, and every action changes the store and is audited
under the signed-in username; a banner while recording has stopped (a real `clinic listen` killed)."""

from __future__ import annotations

import json
import re
import signal
import time
from datetime import UTC, timedelta

import pytest
import streamlit as st
from sqlalchemy import Engine
from streamlit.testing.v1 import AppTest

from shared.equipment.ingest import record_batch
from shared.equipment.recording import ListenerIdentity, record_beat, record_stop, recording_status
from shared.store.db import read_session, write_transaction
from shared.store.settings import get_settings
from shared.store.types import utcnow
from tests import factories as make
from tests.conftest import Broker
from tests.helpers import wait_until
from tests.kiosk.staff_app import (
    add_staff,
    errors,
    go_idle,
    signed_in,
    successes,
)
from tests.mqtt_helpers import listener_process, listener_settings

pytestmark = pytest.mark.usefixtures("staff_env")
HOSTILE = "<img src=x onerror=alert(1)> **bold**"
STATUS_RE = re.compile(r"id='status-([^']+)'><span [^>]*>([^<]*)</span>")
STOPPED = "Recording stopped since {}: device messages are not being recorded; the board may be out of date"


@pytest.fixture
def gym(engine: Engine) -> Engine:
    """A treadmill due for maintenance and waiting to be cleaned, a bike in use, free bars, a hostile name, and
    an unregistered rower whose two messages wait in the dead letters."""
    make.station(engine, "tm-1", "Treadmill 1", zone="Gym A", maintenance_interval_hours=0.5)
    make.station(engine, "bike-1", "Bike 1", zone="Gym A")
    make.station(engine, "bars-1", "Parallel bars", zone="Gym B")
    make.station(engine, "odd-1", HOSTILE, zone="<b>Gym C</b>")
    record_batch(
        engine=engine, items=[*make.use_messages("tm-1", 1, 90, 30), *make.use_messages("tm-1", 2, 40, 15)], tz=UTC
    )
    record_batch(
        engine=engine, items=[make.device_message("bike-1", "usage", {"event_id": "b1", "event": "start"}, 4)], tz=UTC
    )
    record_batch(engine=engine, items=[*make.use_messages("rower-1", 9, 10, 5)], tz=UTC)
    add_staff(engine, "ana", "technician", "Ana K.")
    return engine


def statuses(app: AppTest) -> dict[str, str]:
    found: dict[str, str] = {}
    for block in app.markdown:
        found.update(STATUS_RE.findall(block.value))
    return found


def click(app: AppTest, key: str) -> AppTest:
    app.button(key=key).click()
    app.run()
    assert not app.exception, app.exception
    return app


def test_the_board_lists_every_station_with_its_status_in_words(gym: Engine) -> None:
    app = signed_in("ana")
    assert statuses(app) == {
        "tm-1": "needs cleaning for 25 min",
        "odd-1": "available",
        "bike-1": "in use for 4 min",
        "bars-1": "available",
    }
    page = "\n".join(m.value for m in app.markdown)
    assert "&lt;img src=x onerror=alert(1)&gt; **bold**" in page and "<img" not in page, "names are text"
    assert "&lt;b&gt;Gym C&lt;/b&gt;" in page
    warnings = [w.value for w in app.warning]
    assert "Maintenance due: 0.75 h of use (every 0.5 h)" in warnings
    assert any(e.value == "4 stations · updated " + e.value.rsplit(" ", 1)[1] for e in app.caption)


def test_mark_cleaned_records_who_cleaned(gym: Engine) -> None:
    app = click(signed_in("ana"), "clean-tm-1")
    view = make.read_station(gym, "tm-1")
    assert (view.status, view.last_cleaned_by) == ("available", "ana")
    assert make.last_audit(gym)[:3] == ("ana", "equipment.cleaned", "main/tm-1")
    assert statuses(app)["tm-1"] == "cleaning, ready in 2 min", "the disinfectant's contact time (default 2 min)"
    assert not app.toast, "confirmed in the board's own live region, with an Undo (axe: a toast has no name)"
    assert "<div role='status' class='board-undo-text board-undo-success'>Treadmill 1: marked cleaned.</div>" in [
        m.value for m in app.markdown]  # fmt: skip
    click(app, "board-undo-button")
    assert make.read_station(gym, "tm-1").status == "needs_cleaning"
    assert make.last_audit(gym, json_detail=True)[:3] == ("ana", "equipment.undo", "main/tm-1")
    assert any("Treadmill 1: undone, it needs cleaning again." in m.value for m in app.markdown)
    assert not [b for b in app.button if b.key == "board-undo-button"], "one undo per action"


def test_a_station_in_use_cannot_be_marked_cleaned(gym: Engine) -> None:
    assert signed_in("ana").button(key="clean-bike-1").disabled


def test_out_of_service_needs_a_category_then_back_in_service(gym: Engine) -> None:
    app = click(signed_in("ana"), "out-bars-1")
    assert errors(app) == ["Choose what kind of fault it is"], "the refusal must stay visible"
    assert make.read_station(gym, "bars-1").status == "available"
    assert make.last_audit(gym)[1] != "equipment.out_of_service"

    app.radio(key="out-category-bars-1").set_value("damaged_surface")
    app.text_area(key="out-notes-bars-1").set_value("Loose rail <left>")
    click(app, "out-bars-1")
    view = make.read_station(gym, "bars-1")
    message = "Damaged surface or upholstery: Loose rail <left>"
    assert (view.status, view.fault_code, view.fault_message) == ("out_of_service", "manual", message)
    assert make.last_audit(gym, json_detail=True) == ("ana", "equipment.out_of_service", "main/bars-1", {
        "category": "Damaged surface or upholstery", "notes": "Loose rail <left>", "photo": None})  # fmt: skip
    assert statuses(app)["bars-1"] == "out of service (manual)"
    assert f"Fault: {message}" in [t.value for t in app.text]
    assert not errors(app)

    app.text_input(key="back-note-bars-1").set_value("Rail tightened")
    click(app, "back-bars-1")
    assert make.read_station(gym, "bars-1").status == "available"
    assert make.last_audit(gym) == ("ana", "equipment.back_in_service", "main/bars-1", "Rail tightened")
    assert statuses(app)["bars-1"] == "available"


def test_mark_serviced_when_maintenance_is_due(gym: Engine) -> None:
    app = signed_in("ana")
    assert app.button(key="serviced-tm-1") is not None
    assert not [b for b in app.button if b.key == "serviced-bike-1"], "only where maintenance is due"
    click(app, "serviced-tm-1")
    assert make.read_station(gym, "tm-1").in_use_hours_since_service == 0
    assert make.last_audit(gym)[:3] == ("ana", "equipment.serviced", "main/tm-1")
    assert not [b for b in app.button if b.key == "serviced-tm-1"]
    assert not [w for w in app.warning if w.value.startswith("Maintenance due")]


def test_registering_an_unknown_device_replays_its_messages(gym: Engine) -> None:
    add_staff(gym, "boss", "admin")  # registering devices is an admin's, here as on the Equipment page
    app = signed_in("boss")
    assert "main/rower-1: 2 message(s) kept, last " in "\n".join(t.value for t in app.text)
    app.text_input(key="unknown-name-main-rower-1").set_value("Rower 1")
    app.text_input(key="unknown-zone-main-rower-1").set_value("Gym B")
    next(b for b in app.button if b.label == "Register rower-1 and replay its messages").click()
    app.run()
    assert not app.exception
    assert successes(app) == ["Registered Rower 1 (rower-1): 2 kept message(s) recorded, 0 still kept."]
    view = make.read_station(gym, "rower-1")
    assert (view.name, view.zone, view.uses_total, view.status) == ("Rower 1", "Gym B", 1, "needs_cleaning")
    actor, action, target, detail = make.last_audit(gym)
    assert (actor, action, target) == ("boss", "equipment.register", "main/rower-1")
    assert json.loads(detail)["name"] == "Rower 1"
    app.run()
    assert statuses(app)["rower-1"].startswith("needs cleaning for ")
    assert "main/rower-1" not in "\n".join(t.value for t in app.text), "no longer unknown"


def test_a_device_registered_elsewhere_since_its_messages_were_kept_gets_them_recorded(gym: Engine) -> None:
    make.station(gym, "rower-1", "Rower 1")  # as `clinic device add` does: registered, its kept messages not replayed
    add_staff(gym, "boss", "admin")
    app = signed_in("boss")
    assert "main/rower-1: 2 message(s) kept, last " in "\n".join(t.value for t in app.text)
    assert "; registered since then" in "\n".join(t.value for t in app.text)
    assert not [t for t in app.text_input if t.key == "unknown-name-main-rower-1"], "nothing left to register"
    next(b for b in app.button if b.label == "rower-1 is registered now: record its kept messages").click()
    app.run()
    assert not app.exception and not errors(app)
    assert successes(app) == ["rower-1 is registered: 2 kept message(s) recorded, 0 still kept."]
    assert make.read_station(gym, "rower-1").uses_total == 1
    app.run()
    assert "main/rower-1" not in "\n".join(t.value for t in app.text), "no longer listed"


def test_a_technician_sees_unknown_devices_but_may_not_register_them(gym: Engine) -> None:
    app = signed_in("ana")
    assert "main/rower-1: 2 message(s) kept, last " in "\n".join(t.value for t in app.text)
    assert not [b for b in app.button if b.label == "Register rower-1 and replay its messages"]
    assert not [t for t in app.text_input if t.key == "unknown-name-main-rower-1"]


def test_an_action_after_the_idle_timeout_is_not_recorded(gym: Engine) -> None:
    app = signed_in("ana")
    go_idle(gym, app, 31 * 60)
    app.button(key="clean-tm-1").click()
    app.run()
    assert [t.value for t in app.title] == ["Staff sign-in"]
    assert make.read_station(gym, "tm-1").status == "needs_cleaning"
    assert make.last_audit(gym)[1] != "equipment.cleaned"


# -- recording stopped ------------------------------------------------------------------------------------------
def stopped_banners(app: AppTest) -> list[str]:
    return [e.value for e in app.error if str(e.value).startswith("Recording stopped")]


def test_no_banner_when_no_listener_ever_ran_on_this_store(gym: Engine) -> None:
    assert stopped_banners(signed_in("ana")) == [], "a fresh install before `clinic up` says nothing"


def test_a_clean_stop_shows_the_banner_and_the_next_heartbeat_takes_it_away(gym: Engine) -> None:
    listener = ListenerIdentity(account="svc.listener", site="main", pid=4242, host="box",
                                started_at=utcnow() - timedelta(hours=1))  # fmt: skip
    with write_transaction(gym) as conn:
        record_beat(conn, listener, utcnow())
    app = signed_in("ana")
    assert stopped_banners(app) == [], "recording: nothing to say"
    stopped_at = utcnow()
    with write_transaction(gym) as conn:
        record_stop(conn, listener, stopped_at)
    assert stopped_banners(app.run()) == [STOPPED.format(stopped_at.strftime("%H:%M"))]
    assert statuses(app)["bike-1"] == "in use for 4 min", "the board itself stays"
    with write_transaction(gym) as conn:
        record_beat(conn, listener, utcnow())
    assert stopped_banners(app.run()) == []


@pytest.mark.integration
@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)  # both stores: tests/telemetry/test_recording_stopped.py
def test_the_board_says_recording_stopped_within_the_keepalive_when_the_listener_is_killed(
    broker: Broker, engine: Engine, db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    keepalive_s = 5  # the smallest allowed: the heartbeat goes stale after 7.5 s
    monkeypatch.setenv("CLINIC_MQTT_KEEPALIVE_S", str(keepalive_s))  # the staff app's too
    get_settings.cache_clear()
    st.cache_resource.clear()
    add_staff(engine, "ana", "technician", "Ana K.")

    def recording() -> bool:
        with read_session(engine) as session:
            return recording_status(session=session, now=utcnow(), keepalive_s=keepalive_s).recording

    process = listener_process(listener_settings(broker, db_url, mqtt_keepalive_s=keepalive_s))
    try:
        wait_until(recording, timeout=30, what="the listener's first heartbeat")
        app = signed_in("ana")
        assert stopped_banners(app) == [], "a running listener: nothing to say"
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=10)
        killed = time.monotonic()
        wait_until(lambda: stopped_banners(app.run()), timeout=1.5 * keepalive_s + 10, what="the banner")
        assert time.monotonic() - killed <= 1.5 * keepalive_s + 3
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=10)
    with read_session(engine) as session:
        since = recording_status(session=session, now=utcnow(), keepalive_s=keepalive_s).stopped_since
    assert since is not None
    assert stopped_banners(app) == [STOPPED.format(since.strftime("%H:%M"))], "UTC is the clinic's zone here"
