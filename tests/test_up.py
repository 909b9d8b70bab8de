"""`clinic up` as a user runs it: real Mosquitto, listener and simulator processes, stopped with Ctrl-C."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from clinic import up, up_setup
from clinic.processes import port_open
from shared.store.settings import Settings
from telemetry.broker_acl import LISTENER_USER, SIMULATOR_USER
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
    assert ("stopped native-sim (exit code 0)\nstopped simulator (exit code 0)\nstopped native (exit code 0)\n"
            "stopped listener (exit code 0)\nstopped mosquitto") in out  # fmt: skip
    wait_for_port(port, up=False, timeout=10)
    board = stations(env, tmp_path)
    assert {"bars-1", "hotpack-1", "treadmill-1"} <= {s["id"] for s in board}
    still_online = [s["id"] for s in board if s["online"] is not False and s["id"] != "treadmill-3"]
    assert still_online == [], "every device said offline at shutdown (treadmill-3 waits for its plug: none)"
    for name in ("mosquitto", "listener", "simulator", "native", "native-sim"):
        assert (tmp_path / "data" / "logs" / f"{name}.log").exists()


def read(path: Path) -> str:
    return path.read_text() if path.exists() else ""


def lobby_answers(port: int) -> bool:
    """Whether the lobby's Streamlit server says it is healthy."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2) as response:
            return bool(response.read() == b"ok")
    except OSError:
        return False


def up_with_apps(
    tmp_path: Path, mqtt_port: int, *args: str, data: str = "data"
) -> tuple[subprocess.Popen[str], Path, int]:
    """`clinic up` with the lobby and staff app on free ports; its output goes to a file read while it runs."""
    env = clinic_env(tmp_path / data, mqtt_port)
    lobby = free_port()
    env |= {"CLINIC_LOBBY_PORT": str(lobby), "CLINIC_STAFF_PORT": str(free_port())}
    out = tmp_path / "up.out"
    with out.open("w") as handle:
        proc = subprocess.Popen(clinic("up", *args), env=env, cwd=tmp_path, stdout=handle, stderr=subprocess.STDOUT,
                                text=True)  # fmt: skip
    return proc, out, lobby


def stop(proc: subprocess.Popen[str], sig: signal.Signals = signal.SIGTERM) -> None:
    proc.send_signal(sig)
    proc.wait(timeout=60)


@pytest.mark.integration
def test_up_restarts_a_listener_killed_with_sigkill_and_the_lobby_still_answers(tmp_path: Path) -> None:
    port = free_port()
    proc, out, lobby = up_with_apps(tmp_path, port, "--no-seed")
    try:
        wait_until(lambda: "clinic is up:" in read(out), timeout=90, interval=0.2, what="clinic up")
        first = int(re.search(r"listener   pid (\d+)", read(out)).group(1))  # type: ignore[union-attr]
        log = tmp_path / "data" / "logs" / "listener.log"
        wait_until(lambda: up.LISTENER_READY_TEXT in read(log), timeout=30, what="the listener subscribed")
        os.kill(first, signal.SIGKILL)
        wait_until(lambda: "restarted listener (pid" in read(out), timeout=30, interval=0.2, what="a new listener")
        second = int(re.search(r"restarted listener \(pid (\d+)\)", read(out)).group(1))  # type: ignore[union-attr]
        assert second != first
        wait_until(lambda: read(log).count(up.LISTENER_READY_TEXT) >= 2, timeout=30, what="the new one subscribed")
        assert lobby_answers(lobby), "the lobby went down with the listener"
        assert port_open("127.0.0.1", port), "the broker went down with the listener"
        assert f"listener (pid {first}) exited unexpectedly with code -9" in read(out)
        assert "Restarting it in 1s (restart 1)" in read(out)

        # `clinic status` says the truth: everything runs again, the listener once restarted, under its new pid.
        env = clinic_env(tmp_path / "data", port) | {"CLINIC_DISK_WARN_PERCENT": "100"}
        assert subprocess.run(clinic("db", "backup"), env=env, cwd=tmp_path, check=False).returncode == 0

        seen: list[tuple[int, dict[str, Any]]] = []

        def status_once_the_new_listener_reports() -> bool:
            done = subprocess.run(clinic("status", "--json"), env=env, cwd=tmp_path, capture_output=True, text=True,
                                  check=False)  # fmt: skip
            seen.append((done.returncode, json.loads(done.stdout)))
            return any(
                item["pid"] == second and item["answering"] and item["connected"] for item in seen[-1][1]["listeners"]
            )

        wait_until(status_once_the_new_listener_reports, timeout=30, what="the new listener in clinic status")
        code, report = seen[-1]
        assert code == 0, report["needs_attention"]
        children = {p["name"]: p for p in report["processes"]}
        assert set(children) == {"mosquitto", "listener", "native", "lobby", "staff"}
        assert all(p["running"] for p in children.values())
        assert children["listener"]["pid"] == second and children["listener"]["restarts"] == 1
    finally:
        stop(proc)
    assert proc.returncode == 0, read(out)
    assert "stopped listener (exit code 0)" in read(out), "the restarted listener was stopped cleanly too"
    wait_for_port(port, up=False, timeout=10)


@pytest.mark.integration
def test_up_keeps_retrying_a_refused_listener_with_backoff_and_leaves_a_reused_broker(
    tmp_path: Path, broker: Broker
) -> None:
    # The test broker has its own accounts, so the listener started with another data folder's is refused.
    proc, out, lobby = up_with_apps(tmp_path, broker.port, "--no-seed", data="other-data")
    try:
        wait_until(lambda: "Restarting it in 2s (restart 2)" in read(out), timeout=90, what="a second, longer wait")
        assert "(using the broker already running there)" in read(out)
        assert "exited unexpectedly with code 2" in read(out)
        wait_until(lambda: lobby_answers(lobby), timeout=30, what="the lobby, unaffected")
    finally:
        stop(proc, signal.SIGINT)
    assert proc.returncode == 0, read(out)
    assert port_open("127.0.0.1", broker.port), "a reused broker is left running"


@pytest.mark.parametrize(
    ("configured_user", "expected_user", "expected_password"),
    [(None, LISTENER_USER, "listener-secret"), ("alice", None, None)],
)
def test_listener_env_uses_the_service_account_unless_configured(
    configured_user: str | None, expected_user: str | None, expected_password: str | None
) -> None:
    cfg = Settings(mqtt_username=configured_user, _env_file=None)  # type: ignore[call-arg]
    env = up_setup.listener_env(cfg, {"PATH": "/bin"}, ACCOUNTS)
    assert env.get("CLINIC_MQTT_USERNAME") == expected_user
    assert env.get("CLINIC_MQTT_PASSWORD") == expected_password
    assert env["PATH"] == "/bin"


def test_simulator_env_always_uses_the_simulator_account() -> None:
    env = up_setup.simulator_env({"CLINIC_MQTT_USERNAME": "alice"}, ACCOUNTS)
    assert (env["CLINIC_MQTT_USERNAME"], env["CLINIC_MQTT_PASSWORD"]) == (SIMULATOR_USER, "simulator-secret")


def test_without_mosquitto_up_says_how_to_install_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setattr(up_setup, "MOSQUITTO_FALLBACK", tmp_path / "no-mosquitto")
    cfg = Settings(data_dir=tmp_path, mqtt_port=free_port(), _env_file=None)  # type: ignore[call-arg]
    with pytest.raises(up_setup.UpError, match=r"apt-get install mosquitto"):
        up_setup.start_broker(cfg, tmp_path)


def test_a_remote_broker_that_is_down_is_not_replaced_by_a_local_one(tmp_path: Path) -> None:
    cfg = Settings(data_dir=tmp_path, mqtt_host="broker.example", _env_file=None)  # type: ignore[call-arg]
    with pytest.raises(up_setup.UpError, match=r"nothing listens on broker\.example:1883"):
        up_setup.start_broker(cfg, tmp_path)


def test_port_open_sees_a_listening_socket() -> None:
    port = free_port()
    assert not port_open("127.0.0.1", port)
    with socket.create_server(("127.0.0.1", port)):
        assert port_open("127.0.0.1", port)


def test_restart_delays_double_to_30_s_and_start_over_after_a_minute_up() -> None:
    restarts = up.Restarts()
    assert [restarts.crashed(now=0.0) for _ in range(7)] == [1, 2, 4, 8, 16, 30, 30]
    restarts.running_since = 100.0
    assert restarts.crashed(now=159.0) == 30, "up for less than a minute: still backing off"
    restarts.running_since = 200.0
    assert restarts.crashed(now=260.0) == 1, "up for a minute: the next crash is the first again"
