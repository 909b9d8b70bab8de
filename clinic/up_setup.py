"""What `clinic up` sets up before it supervises: the broker, the children's command lines and accounts, TLS."""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Mapping
from pathlib import Path

import typer

from clinic.processes import Child, start_child, stop_children, wait_for_port
from clinic.tls import TlsError, ensure_self_signed
from shared.store.settings import Settings
from telemetry.broker_acl import LISTENER_USER, NATIVE_USER, SIMULATOR_USER
from telemetry.broker_config import write_config
from telemetry.broker_files import BrokerFiles

BROKER_START_TIMEOUT_S = 15.0
LOCAL_HOSTS = frozenset({"127.0.0.1", "localhost", "::1", "0.0.0.0", "::"})
MOSQUITTO_FALLBACK = Path("/usr/sbin/mosquitto")
INSTALL_HINT = (
    "Mosquitto is not installed, and nothing listens on {where}.\n"
    "Install it (Debian/Ubuntu: sudo apt-get install mosquitto; macOS: brew install mosquitto) and run\n"
    "`clinic up` again, or point CLINIC_MQTT_HOST/CLINIC_MQTT_PORT at a running broker."
)


class UpError(Exception):
    """`clinic up` cannot go on; the message tells the user what to do."""


def find_mosquitto() -> str | None:
    """The mosquitto binary on PATH, or Debian's /usr/sbin/mosquitto (not on a normal user's PATH)."""
    found = shutil.which("mosquitto")
    if found:
        return found
    return str(MOSQUITTO_FALLBACK) if os.access(MOSQUITTO_FALLBACK, os.X_OK) else None


def listener_env(cfg: Settings, environ: Mapping[str, str], accounts: Mapping[str, str]) -> dict[str, str]:
    """The listener's environment: the svc.listener account, unless CLINIC_MQTT_USERNAME is configured."""
    env = dict(environ)
    if not cfg.mqtt_username:
        env["CLINIC_MQTT_USERNAME"] = LISTENER_USER
        env["CLINIC_MQTT_PASSWORD"] = accounts[LISTENER_USER]
    return env


def native_env(environ: Mapping[str, str], accounts: Mapping[str, str]) -> dict[str, str]:
    """The native adapter's environment: always the svc.native account (it reads the vendors' topics)."""
    return {**environ, "CLINIC_MQTT_USERNAME": NATIVE_USER, "CLINIC_MQTT_PASSWORD": accounts[NATIVE_USER]}


def simulator_env(environ: Mapping[str, str], accounts: Mapping[str, str]) -> dict[str, str]:
    """The simulator's environment: always the svc.simulator account (the only one allowed to write all)."""
    return {
        **environ,
        "CLINIC_MQTT_USERNAME": SIMULATOR_USER,
        "CLINIC_MQTT_PASSWORD": accounts[SIMULATOR_USER],
    }


def clinic_command(*args: str) -> list[str]:
    """Run the `clinic` command with this interpreter (works without the console script on PATH)."""
    return [sys.executable, "-m", "clinic", *args]

def start_broker(cfg: Settings, logs_dir: Path) -> Child:
    """Render the repo's mosquitto.conf for this data folder and start Mosquitto; returns once it listens."""
    where = f"{cfg.mqtt_host}:{cfg.mqtt_port}"
    if cfg.mqtt_host not in LOCAL_HOSTS:
        raise UpError(f"nothing listens on {where}; start that broker, or unset CLINIC_MQTT_HOST to run one here")
    binary = find_mosquitto()
    if binary is None:
        raise UpError(INSTALL_HINT.format(where=where))
    config = write_config(cfg, port=cfg.mqtt_port, host=cfg.mqtt_host)
    child = start_child("mosquitto", [binary, "-c", str(config)], os.environ, logs_dir)
    if not wait_for_port(cfg.mqtt_host, cfg.mqtt_port, timeout=BROKER_START_TIMEOUT_S, process=child.process):
        stop_children([child])
        raise UpError(
            f"mosquitto did not start listening on {where}; see {child.log_path} and {BrokerFiles(cfg.broker_dir).log}"
        )
    return child


def forget_pid_file(cfg: Settings, broker: Child) -> None:
    """Remove the pid file of a broker we stopped, so `reload_broker` never signals a recycled pid."""
    pid_file = BrokerFiles(cfg.broker_dir).pid
    try:
        if int(pid_file.read_text().strip()) == broker.process.pid:
            pid_file.unlink()
    except (OSError, ValueError):
        pass


def with_certificate(cfg: Settings) -> Settings:
    """Settings that serve the lobby over HTTPS: the configured certificate, or a self-signed one made now."""
    if cfg.tls_cert and cfg.tls_key:
        return cfg
    cert, key = cfg.data_dir / "tls" / "lobby.pem", cfg.data_dir / "tls" / "lobby.key"
    try:
        if ensure_self_signed(cert, key):
            typer.echo(f"made a self-signed certificate for the lobby: {cert} (tablets will ask to trust it once)")
    except TlsError as exc:
        raise UpError(str(exc)) from exc
    return cfg.model_copy(update={"tls_cert": cert.resolve(), "tls_key": key.resolve()})

