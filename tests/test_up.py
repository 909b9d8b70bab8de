"""`clinic up` as a user runs it: real Mosquitto, listener and simulator processes, stopped with Ctrl-C."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from clinic import up
from clinic.processes import port_open
from shared.config import Settings
from telemetry.broker import LISTENER_USER, SIMULATOR_USER
from tests.conftest import Broker
from tests.helpers import free_port, wait_for_port, wait_until

ACCOUNTS = {LISTENER_USER: "listener-secret", SIMULATOR_USER: "simulator-secret"}


def clinic_env(data_dir: Path, port: int) -> dict[str, str]:
    """The environment of a fresh install: no CLINIC_* from the outside, our data folder and port."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CLINIC_")}
    return {**env, "CLINIC_DATA_DIR": str(data_dir), "CLINIC_MQTT_PORT": str(port), "CLINIC_TIMEZONE": "UTC"}


def clinic(*args: str) -> list[str]:
    """The `clinic` command run by this interpreter."""
    return [sys.executable, "-m", "clinic", *args]


def stations(env: dict[str, str], cwd: Path) -> list[dict[str, object]]:
    """`clinic equipment list --json`, parsed."""
    out = subprocess.run(clinic("equipment", "list", "--json"), env=env, cwd=cwd, capture_output=True, check=True)
    return list(json.loads(out.stdout))


def some_activity(env: dict[str, str], cwd: Path) -> bool:
    """Whether the listener has recorded simulated traffic into the board."""
    return any(s["uses_total"] or s["status"] != "available" for s in stations(env, cwd))  # type: ignore[operator]


@pytest.mark.integration
def test_up_simulate_runs_everything_and_stops_cleanly_on_ctrl_c(tmp_path: Path) -> None:
    port = free_port()
    env = clinic_env(tmp_path / "data", port)
    proc = subprocess.Popen(
        clinic("up", "--simulate", "--rate", "10"), env=env, cwd=tmp_path, stdout=subprocess.PIPE, text=True
    )
    try:
        wait_for_port(port, timeout=30)
        wait_until(lambda: some_activity(env, tmp_path), timeout=60, interval=0.5, what="simulated traffic")
    finally:
        proc.send_signal(signal.SIGINT)
        out, _ = proc.communicate(timeout=60)
    assert proc.returncode == 0, out
    assert f"broker     127.0.0.1:{port} (started, pid" in out
    assert "simulator  pid" in out
    assert "stopped simulator (exit code 0)\nstopped listener (exit code 0)\nstopped mosquitto" in out
    wait_for_port(port, up=False, timeout=10)
    board = stations(env, tmp_path)
    assert {"bars-1", "hotpack-1", "treadmill-1"} <= {s["id"] for s in board}
    assert all(s["online"] is False for s in board), "every device said offline at shutdown"
    for name in ("mosquitto", "listener", "simulator"):
        assert (tmp_path / "data" / "logs" / f"{name}.log").exists()


@pytest.mark.integration
def test_up_reuses_a_running_broker_and_reports_a_child_that_dies(tmp_path: Path, broker: Broker) -> None:
    # The test broker has its own accounts, so the listener started with another data folder's is refused.
    env = clinic_env(tmp_path / "other-data", broker.port)
    result = subprocess.run(
        clinic("up", "--no-seed"), env=env, cwd=tmp_path, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 1
    assert "(using the broker already running there)" in result.stdout
    assert "error: listener (pid" in result.stderr and "exited unexpectedly with code 2" in result.stderr
    assert port_open("127.0.0.1", broker.port), "a reused broker is left running"


@pytest.mark.parametrize(
    ("configured_user", "expected_user", "expected_password"),
    [(None, LISTENER_USER, "listener-secret"), ("alice", None, None)],
)
def test_listener_env_uses_the_service_account_unless_configured(
    configured_user: str | None, expected_user: str | None, expected_password: str | None
) -> None:
    cfg = Settings(mqtt_username=configured_user, _env_file=None)  # type: ignore[call-arg]
    env = up.listener_env(cfg, {"PATH": "/bin"}, ACCOUNTS)
    assert env.get("CLINIC_MQTT_USERNAME") == expected_user
    assert env.get("CLINIC_MQTT_PASSWORD") == expected_password
    assert env["PATH"] == "/bin"


def test_simulator_env_always_uses_the_simulator_account() -> None:
    env = up.simulator_env({"CLINIC_MQTT_USERNAME": "alice"}, ACCOUNTS)
    assert (env["CLINIC_MQTT_USERNAME"], env["CLINIC_MQTT_PASSWORD"]) == (SIMULATOR_USER, "simulator-secret")


def test_without_mosquitto_up_says_how_to_install_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setattr(up, "MOSQUITTO_FALLBACK", tmp_path / "no-mosquitto")
    cfg = Settings(data_dir=tmp_path, mqtt_port=free_port(), _env_file=None)  # type: ignore[call-arg]
    with pytest.raises(up.UpError, match=r"apt-get install mosquitto"):
        up.start_broker(cfg, tmp_path)


def test_a_remote_broker_that_is_down_is_not_replaced_by_a_local_one(tmp_path: Path) -> None:
    cfg = Settings(data_dir=tmp_path, mqtt_host="broker.example", _env_file=None)  # type: ignore[call-arg]
    with pytest.raises(up.UpError, match=r"nothing listens on broker\.example:1883"):
        up.start_broker(cfg, tmp_path)


def test_port_open_sees_a_listening_socket() -> None:
    port = free_port()
    assert not port_open("127.0.0.1", port)
    with socket.create_server(("127.0.0.1", port)):
        assert port_open("127.0.0.1", port)
