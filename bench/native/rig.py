"""One backend's set-up: the broker, the store with both sets of stations, the plugs bound, `clinic listen` and
`clinic native` as processes; and what the rounds read from the store and the processes."""

from __future__ import annotations

import secrets
import subprocess
import tempfile
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psutil
from sqlalchemy import Engine, text

from bench.common import (
    SITE,
    Broker,
    child_env,
    device_ids,
    listener_settings,
    postgres_store,
    sqlite_store,
    start_broker,
    stop_process,
    wait_until,
)
from bench.ingest.service import clinic_listen_command
from shared.equipment.native.bindings import ThresholdChanges, bind_source
from shared.store.db import make_engine, unit_of_work
from telemetry.broker import FileBrokerAccounts
from telemetry.broker_acl import NATIVE_USER

PLUG_STATIONS = "treadmill-"  # the stations fed by a plug; the contract's are bench-eq-NNNN (bench.common)
ACTOR = "bench"


@dataclass
class Service:
    """`clinic listen` or `clinic native` as a child process, its log a file."""

    name: str
    proc: subprocess.Popen[bytes]
    log: Path

    def cpu_s(self) -> float:
        times = psutil.Process(self.proc.pid).cpu_times()
        return times.user + times.system

    def check_alive(self) -> None:
        if self.proc.poll() is not None:
            raise RuntimeError(f"`clinic {self.name}` exited with {self.proc.returncode}: {self.tail()}")

    def subscribed(self) -> bool:
        """Whether it logged that the broker confirmed its subscriptions (both services log "subscribed")."""
        self.check_alive()
        return "subscribed" in self.log_text()

    def log_text(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def tail(self, lines: int = 5) -> str:
        return " | ".join(self.log_text().strip().splitlines()[-lines:]) or "(empty log)"


@dataclass
class Rig:
    backend: str
    broker: Broker
    url: str
    engine: Engine
    plug_stations: list[str]
    contract_stations: list[str]
    plug_names: list[str]
    listener: Service
    adapter: Service

    def broker_cpu_s(self) -> float:
        times = psutil.Process(self.broker.process.pid).cpu_times()
        return times.user + times.system

    def check_alive(self) -> None:
        self.listener.check_alive()
        self.adapter.check_alive()

    def scalar(self, sql: str, **params: object) -> int:
        with self.engine.connect() as conn:
            return int(conn.execute(text(sql), params).scalar_one() or 0)

    def adapter_committed(self) -> int:
        """Native messages the adapter has committed (each counts once in its device's `native_source` row)."""
        return self.scalar("SELECT coalesce(sum(messages), 0) FROM native_source")

    def outbox(self) -> int:
        return self.scalar("SELECT count(*) FROM native_outbox")

    def events(self, stations: str) -> int:
        """Rows in equipment_event of the plugs' stations (`PLUG_STATIONS`) or of the contract's."""
        like = f"{PLUG_STATIONS}%" if stations == "plugs" else "bench-eq-%"
        return self.scalar("SELECT count(*) FROM equipment_event WHERE equipment_id LIKE :like", like=like)

    def dead_letters(self) -> int:
        return self.scalar("SELECT count(*) FROM dead_letter")

    def inference_state(self, station: str) -> str:
        """The adapter's committed inference state of the station's binding (for a check that failed)."""
        query = text("SELECT s.state FROM native_state s JOIN native_binding b ON b.id = s.binding_id "
                     "WHERE b.equipment_id = :station")  # fmt: skip
        with self.engine.connect() as conn:
            return str(conn.execute(query, {"station": station}).scalar())

    def usage_by_station(self) -> dict[tuple[str, str], int]:
        """(station, start|stop) -> rows, at the plugs' stations."""
        query = text("SELECT equipment_id, event, count(*) FROM equipment_event WHERE equipment_id LIKE :like "
                     "AND channel = 'usage' GROUP BY equipment_id, event")  # fmt: skip
        with self.engine.connect() as conn:
            return {(s, e): int(n) for s, e, n in conn.execute(query, {"like": f"{PLUG_STATIONS}%"})}


def build_rig(stack: ExitStack, backend: str, plugs: int, pg_url: str) -> Rig:
    """A fresh broker and store, `plugs` plugs bound to as many treadmills, the two services subscribed."""
    tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix=f"clinic-native-{backend}-")))
    broker = start_broker(tmp / "data", stack)
    plug_stations = [f"{PLUG_STATIONS}{n:03d}" for n in range(plugs)]
    contract_stations = device_ids(plugs)
    stations = plug_stations + contract_stations
    url = sqlite_store(tmp, stations) if backend == "sqlite" else postgres_store(stack, stations, pg_url)
    engine = make_engine(url)
    stack.callback(engine.dispose)
    names = bind_plugs(engine, broker, plug_stations)
    listener = start_service(stack, "listen", broker, tmp, url)
    adapter = start_service(stack, "native", broker, tmp, url)
    for service in (listener, adapter):
        wait_until(service.subscribed, timeout=60, what=f"`clinic {service.name}` to subscribe")
    return Rig(backend, broker, url, engine, plug_stations, contract_stations, names, listener, adapter)


def bind_plugs(engine: Engine, broker: Broker, stations: list[str]) -> list[str]:
    """A Shelly Plus Plug S per station, named as the field names them (its MAC: 12 random hex digits), bound
    as `clinic device bind` does with the kind's default thresholds (each gets its broker account)."""
    accounts = FileBrokerAccounts(broker.settings)
    names: list[str] = []
    for station in stations:
        name = f"shellyplusplugs-{secrets.token_hex(6)}"
        with unit_of_work(engine) as session:
            bind_source(session=session, accounts=accounts, site=SITE, equipment_id=station, via="shelly",
                        source=name, thresholds=ThresholdChanges(), actor=ACTOR)  # fmt: skip
        names.append(name)
    return names


def start_service(stack: ExitStack, command: str, broker: Broker, tmp: Path, url: str) -> Service:
    """`clinic listen` (svc.listener) or `clinic native` (svc.native), configured only by Settings.as_env()."""
    overrides: dict[str, Any] = {"log_level": "INFO"}  # "subscribed" is logged at INFO
    if command == "native":
        overrides.update(mqtt_username=NATIVE_USER, mqtt_password=broker.accounts[NATIVE_USER])
    settings = listener_settings(broker, tmp, url, **overrides)
    log = tmp / f"clinic-{command}.log"
    with open(log, "wb") as stderr:
        proc = subprocess.Popen([*clinic_listen_command()[:-1], command], env=child_env(settings), cwd=tmp,
                                stdout=subprocess.DEVNULL, stderr=stderr)  # fmt: skip
    stack.callback(stop_process, proc, timeout=30)
    return Service(command, proc, log)
