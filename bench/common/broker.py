"""Mosquitto for a benchmark: the repo's config on a free port, and stopping and restarting it as a fault.

One place that knows how the broker is started, so every benchmark measures the same broker the clinic runs.
"""

from __future__ import annotations

import shutil
import subprocess
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

from bench.common.processes import stop_process, wait_until
from shared.store.settings import Settings
from telemetry.broker import ensure_broker_files
from telemetry.broker_acl import LISTENER_USER, SIMULATOR_USER
from telemetry.broker_config import write_config
from tests.helpers import free_port, port_open


@dataclass
class Broker:
    """Mosquitto started from the repo's mosquitto.conf, rendered on a free port with its own data folder."""

    settings: Settings
    port: int
    accounts: dict[str, str]
    process: subprocess.Popen[bytes]

    @property
    def listener_password(self) -> str:
        return self.accounts[LISTENER_USER]

    @property
    def simulator_password(self) -> str:
        return self.accounts[SIMULATOR_USER]


def mosquitto_binary() -> str:
    return shutil.which("mosquitto") or "/usr/sbin/mosquitto"


def start_broker(data_dir: Path, stack: ExitStack) -> Broker:
    port = free_port()
    settings = Settings(data_dir=data_dir, mqtt_port=port, _env_file=None)  # type: ignore[call-arg]
    accounts = ensure_broker_files(settings, listeners=2)
    config = write_config(settings, port=port)
    stderr_path = data_dir / "mosquitto.stderr"
    with open(stderr_path, "wb") as stderr:  # a file, not a pipe nobody drains
        proc = subprocess.Popen([mosquitto_binary(), "-c", str(config)], stdout=subprocess.DEVNULL, stderr=stderr)
    stack.callback(stop_process, proc)
    try:
        wait_until(lambda: port_open(port) or proc.poll() is not None, timeout=15, what="mosquitto to listen")
    except TimeoutError:
        raise RuntimeError(f"mosquitto did not open port {port}") from None
    if proc.poll() is not None:
        err = stderr_path.read_text(errors="replace").strip()
        raise RuntimeError(f"mosquitto exited with {proc.returncode}: {err}")
    return Broker(settings=settings, port=port, accounts=accounts, process=proc)


# -- faults on the broker (bench/reliability/) ----------------------------------------------------------------
def stop_broker(broker: Broker, *, timeout: float = 30.0) -> None:
    """Stop Mosquitto cleanly (SIGTERM: it writes its persistence file first) and wait for its port to close."""
    stop_process(broker.process, timeout=timeout)
    wait_until(lambda: not port_open(broker.port), timeout=15, what="mosquitto to close its port")


def start_broker_again(broker: Broker, stack: ExitStack) -> None:
    """Start Mosquitto again from the same rendered config, port and data folder (its persistence is reloaded)."""
    from telemetry.broker_files import BrokerFiles

    config = BrokerFiles(broker.settings.broker_dir).config
    stderr_path = broker.settings.data_dir / "mosquitto.stderr"
    with open(stderr_path, "ab") as stderr:
        proc = subprocess.Popen([mosquitto_binary(), "-c", str(config)], stdout=subprocess.DEVNULL, stderr=stderr)
    stack.callback(stop_process, proc)
    broker.process = proc
    wait_until(lambda: port_open(broker.port) or proc.poll() is not None, timeout=15, what="mosquitto to listen")
    if proc.poll() is not None:
        err = stderr_path.read_text(errors="replace").strip()
        raise RuntimeError(f"mosquitto did not restart (exit {proc.returncode}): {err[-500:]}")
