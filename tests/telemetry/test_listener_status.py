"""What an operator sees of a running listener: its status file (telemetry/listener_status.py) and the data disk
warning in its log. Real Mosquitto, real SQLite and PostgreSQL, the listener in this process and as `clinic listen`.
"""

from __future__ import annotations

import json
import os
import signal
import stat
from collections.abc import Iterator
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine

from shared.equipment.stations import register_equipment
from shared.store.db import unit_of_work
from telemetry.batching import DiskAlarm
from telemetry.listener_status import (
    STALE_AFTER_S,
    ListenerStatus,
    read_status,
    status_path,
    write_status,
)
from tests.conftest import Broker
from tests.helpers import wait_until
from tests.mqtt_helpers import (
    connect,
    listener_process,
    listener_settings,
    publish_all,
    running_listener,
    usage_messages,
)

DEVICES = ["tm-1", "bike-1"]
WARNING = "data disk nearly full: "
SUBSCRIBED = "subscribed: the broker confirmed"


@pytest.fixture
def open_umask() -> Iterator[None]:
    """A umask that lets everyone read new files, so 0600 is the listener's doing."""
    old = os.umask(0o000)
    try:
        yield
    finally:
        os.umask(old)


def register(engine: Engine) -> None:
    for device in DEVICES:
        with unit_of_work(engine) as session:
            register_equipment(session=session, site="main", equipment_id=device)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.mark.integration
@pytest.mark.usefixtures("open_umask")
def test_the_status_file_follows_a_running_listener(broker: Broker, engine: Engine, db_url: str) -> None:
    register(engine)
    settings = listener_settings(broker, db_url)
    path = status_path(settings.data_dir, settings.resolved_mqtt_client_id)
    messages = usage_messages(DEVICES, 15)  # 30 messages
    device = connect(broker.port, "svc.simulator", broker.simulator_password)
    with running_listener(settings, engine):
        wait_until(lambda: (s := read_status(path)) is not None and s.connected, timeout=10, what="connected")
        publish_all(device, messages)
        wait_until(lambda: (s := read_status(path)) is not None and s.recorded == len(messages), timeout=20,
                   what=f"{len(messages)} recorded in the status file")  # fmt: skip
        status = read_status(path)
        assert status is not None
        assert (status.pid, status.account, status.connected, status.holding) == (os.getpid(), "svc.listener", True,
                                                                                   False)  # fmt: skip
        assert status.held == 0 and status.last_commit_at is not None and not status.disk_nearly_full
        started, committed, updated = map(datetime.fromisoformat, (status.started_at, status.last_commit_at,
                                                                     status.updated_at))  # fmt: skip
        assert started <= committed <= updated
        now = datetime.now(UTC)
        assert datetime.fromisoformat(status.updated_at).tzinfo is not None and status.answering(now)
        assert 0 <= status.age_s(now) < STALE_AFTER_S
        assert mode(path) == 0o600 and mode(path.parent) == 0o700
        # A heartbeat: rewritten within 5 s when nothing changes.
        first = status.updated_at
        wait_until(lambda: (s := read_status(path)) is not None and s.updated_at != first, timeout=6,
                   what="the idle listener's next heartbeat")  # fmt: skip
    assert not path.exists(), "a clean stop removes the status file"
    device.close()


@pytest.mark.integration
@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
@pytest.mark.parametrize(("percent", "warned"), [(1, True), (100, False)])
def test_clinic_listen_warns_of_a_nearly_full_data_disk(
    broker: Broker, engine: Engine, db_url: str, percent: int, warned: bool
) -> None:
    """CLINIC_DISK_WARN_PERCENT=1: any real disk is fuller than that, so `clinic listen` warns at start and its
    status says so; at 100 it says nothing. SIGTERM stops it cleanly and its status file goes."""
    settings = listener_settings(broker, db_url, disk_warn_percent=percent)
    assert settings.as_env()["CLINIC_DISK_WARN_PERCENT"] == str(percent)
    path = status_path(settings.data_dir, settings.resolved_mqtt_client_id)
    log = settings.data_dir / "listener.log"
    process = listener_process(settings)
    try:
        wait_until(lambda: log.exists() and SUBSCRIBED in log.read_text(), what="listener subscribed")
        wait_until(lambda: (s := read_status(path)) is not None and s.connected, timeout=10, what="status connected")
        status = read_status(path)
        assert status is not None and status.pid == process.pid and status.disk_nearly_full is warned
    finally:
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=60) == 0, "the listener did not exit cleanly"
    lines = [line for line in log.read_text().splitlines() if WARNING in line]
    if warned:
        assert len(lines) == 1, lines  # once per crossing, not once per check
        assert " WARNING telemetry.listener: data disk nearly full: " in lines[0]
        assert lines[0].endswith("; free space before recording stops") and "% used, " in lines[0]
    else:
        assert lines == []
    assert not path.exists(), "a clean stop removes the status file"


def test_the_disk_warning_comes_once_per_crossing_and_hourly_while_full() -> None:
    alarm = DiskAlarm(remind_s=3600)
    said = [
        alarm.update(full, at)
        for full, at in [(False, 0), (True, 60), (True, 120), (True, 3600), (True, 3660), (True, 3720), (False, 3780),
                         (False, 3840), (True, 3900), (True, 3960)]
    ]  # fmt: skip
    assert said == [None, "warn", None, None, "warn", None, "clear", None, "warn", None]


def sample(**changes: object) -> ListenerStatus:
    values: dict[str, object] = {
        "pid": 42, "account": "svc.listener", "started_at": "2026-12-07T08:00:00+00:00",
        "updated_at": "2026-12-07T09:00:00+00:00", "connected": True, "holding": False, "held": 3, "recorded": 120,
        "last_commit_at": None, "disk_nearly_full": False, **changes,
    }  # fmt: skip
    return ListenerStatus(**values)  # type: ignore[arg-type]


@pytest.mark.usefixtures("open_umask")
def test_the_status_file_is_replaced_whole_and_owner_only(tmp_path: Path) -> None:
    path = status_path(tmp_path / "data", "svc.listener")
    assert path == tmp_path / "data" / "run" / "listener-svc.listener.json" and mode(path.parent) == 0o700
    assert read_status(path) is None, "no file: no status"
    write_status(path, sample())
    path.chmod(0o644)  # a file somebody opened up is closed again at the next write
    write_status(path, sample(held=0, holding=True, last_commit_at="2026-12-07T08:59:58+00:00"))
    assert read_status(path) == sample(held=0, holding=True, last_commit_at="2026-12-07T08:59:58+00:00")
    assert mode(path) == 0o600 and sorted(p.name for p in path.parent.iterdir()) == [path.name]
    stale = sample()
    assert stale.answering(datetime(2026, 12, 7, 9, 0, 15, tzinfo=UTC))
    assert not stale.answering(datetime(2026, 12, 7, 9, 0, 16, tzinfo=UTC))


@pytest.mark.parametrize("text", ["", "{", "[]", '{"pid": 1}', json.dumps(asdict(sample(updated_at="later")))])
def test_an_unreadable_status_file_reads_as_none(tmp_path: Path, text: str) -> None:
    path = status_path(tmp_path, "svc.listener")
    path.write_text(text)
    assert read_status(path) is None


def test_an_account_with_odd_characters_still_names_one_file_in_the_run_folder(tmp_path: Path) -> None:
    assert status_path(tmp_path, "../../etc/x y").name == "listener-.._.._etc_x_y.json"
    assert status_path(tmp_path, "../../etc/x y").parent == tmp_path / "run"
