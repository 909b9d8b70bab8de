"""What a broker crash loses: Mosquitto's persistence settings under SIGKILL, at a clinic's rate and in a flood.

For each setting, a fresh broker (the repo's mosquitto.conf with only the autosave lines changed) queues QoS 1
messages for the listener's persistent session while the listener is away (the worst case: nothing has left the
broker yet). Mid-stream the broker is SIGKILLed; it is started again and the session drained. Lost = messages the
broker acknowledged (PUBACK) but did not deliver after the restart. Broker CPU and the publish throughput reached
show the cost. All settings and both rates are measured in one run, printed side by side.

    python -m bench.broker_durability [--clinic-s 8] [--flood-s 4] [--repeat 1]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import tempfile
import threading
import time
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from bench.common import free_port, mosquitto_binary, port_open, process_cpu_s, stop_process, wait_until
from shared.store.settings import Settings
from telemetry.broker import ensure_broker_files
from telemetry.broker_acl import LISTENER_USER, SIMULATOR_USER
from telemetry.broker_config import REPO_CONFIG, render_config
from telemetry.broker_files import BrokerFiles

SETTINGS: dict[str, dict[str, str]] = {
    "interval 5 s (before)": {"autosave_interval": "5", "autosave_on_changes": "false"},
    "interval 1 s (chosen)": {"autosave_interval": "1", "autosave_on_changes": "false"},
    "every 100 changes": {"autosave_interval": "100", "autosave_on_changes": "true"},
    "every 1000 changes": {"autosave_interval": "1000", "autosave_on_changes": "true"},
}
RATES = {"clinic 100/s": 100.0, "flood 10k/s": 10_000.0}
TOPIC = "clinic/main/equipment/bench-{n}/usage"


@dataclass
class Outcome:
    acked: int
    lost: int
    publish_rate: float  # PUBACKs per second reached
    broker_cpu: float  # broker CPU seconds per wall second while publishing (1.0 = one core)


class BenchBroker:
    """A Mosquitto in its own folder, started from the repo's config with some lines replaced."""

    def __init__(self, folder: Path, overrides: dict[str, str]) -> None:
        self.port = free_port()
        self.settings = Settings(data_dir=folder, mqtt_port=self.port, _env_file=None)  # type: ignore[call-arg]
        self.accounts = ensure_broker_files(self.settings)
        lines = [_override(line, overrides) for line in REPO_CONFIG.read_text().splitlines()]
        template = folder / "template.conf"
        template.write_text("\n".join(lines) + "\n")
        files = BrokerFiles(self.settings.broker_dir)
        self.config = files.config
        self.config.write_text(render_config(files, port=self.port, template=template))
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.process = subprocess.Popen([mosquitto_binary(), "-c", str(self.config)], stderr=subprocess.DEVNULL)
        wait_until(lambda: port_open(self.port), timeout=15, what="mosquitto to listen")

    def kill(self) -> None:
        assert self.process is not None
        self.process.kill()
        self.process.wait()
        wait_until(lambda: not port_open(self.port), timeout=15, what="the port to close")

    def client(self, user: str, *, session: bool) -> mqtt.Client:
        client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=user, protocol=mqtt.MQTTv5)
        client.username_pw_set(user, self.accounts[user])
        client.max_inflight_messages_set(1000)
        props = Properties(PacketTypes.CONNECT)
        props.SessionExpiryInterval = 3600 if session else 0
        connected = threading.Event()
        client.on_connect = lambda *_a: connected.set()
        client.connect("127.0.0.1", self.port, clean_start=not session, properties=props)
        client.loop_start()
        if not connected.wait(10):
            raise RuntimeError("no CONNACK")
        return client


def _override(line: str, overrides: dict[str, str]) -> str:
    key = line.split(" ", 1)[0]
    return f"{key} {overrides[key]}" if key in overrides else line


def run_one(folder: Path, overrides: dict[str, str], rate: float, seconds: float) -> Outcome:
    """Queue for an absent listener at `rate`, SIGKILL the broker mid-stream, restart, count what is left."""
    broker = BenchBroker(folder, overrides)
    broker.start()
    subscriber = broker.client(LISTENER_USER, session=True)  # the listener's session, then away
    subscriber.subscribe("clinic/#", qos=1)
    time.sleep(0.3)  # bench only: let the SUBACK land before disconnecting
    subscriber.disconnect()
    subscriber.loop_stop()

    acked: set[int] = set()
    lock = threading.Lock()
    publisher = broker.client(SIMULATOR_USER, session=False)
    mids: dict[int, int] = {}

    def on_publish(_c: mqtt.Client, _u: object, mid: int, _rc: object, _p: object) -> None:
        with lock:
            if mid in mids:
                acked.add(mids[mid])

    publisher.on_publish = on_publish
    assert broker.process is not None
    cpu_before, started = process_cpu_s(broker.process.pid) or 0.0, time.monotonic()
    sent = 0
    while (now := time.monotonic()) - started < seconds:
        due = int((now - started) * rate)
        while sent < due:
            info = publisher.publish(TOPIC.format(n=sent % 50), json.dumps({"n": sent}), qos=1)
            with lock:
                mids[info.mid] = sent
            sent += 1
        time.sleep(0.005)
    elapsed = time.monotonic() - started
    cpu = ((process_cpu_s(broker.process.pid) or 0.0) - cpu_before) / elapsed
    with lock:
        acked_at_kill = set(acked)
    broker.kill()  # the crash: whatever was acknowledged but not yet saved is gone
    publisher.loop_stop()

    broker.start()
    received: set[int] = set()
    drainer = broker.client(LISTENER_USER, session=True)
    drainer.on_message = lambda _c, _u, msg: received.add(json.loads(msg.payload)["n"])
    drainer.subscribe("clinic/#", qos=1)
    last, last_change = -1, time.monotonic()
    while time.monotonic() - last_change < 2.0:  # drained when nothing more arrives for 2 s
        if len(received) != last:
            last, last_change = len(received), time.monotonic()
        time.sleep(0.1)
    drainer.disconnect()
    drainer.loop_stop()
    assert broker.process is not None
    stop_process(broker.process)
    return Outcome(len(acked_at_kill), len(acked_at_kill - received), len(acked_at_kill) / elapsed, cpu)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clinic-s", type=float, default=8.0, help="seconds at 100 msg/s before the crash")
    parser.add_argument("--flood-s", type=float, default=4.0, help="seconds at 10k msg/s before the crash")
    parser.add_argument("--repeat", type=int, default=1, help="runs per cell (the worst loss is shown)")
    args = parser.parse_args()
    seconds = {"clinic 100/s": args.clinic_s, "flood 10k/s": args.flood_s}
    results: dict[tuple[str, str], list[Outcome]] = {}
    with ExitStack() as stack:
        root = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="bench-durability-")))
        for attempt in range(args.repeat):  # interleaved, so a busy moment does not favour one setting
            for rate_name, rate in RATES.items():
                for name, overrides in SETTINGS.items():
                    folder = root / f"{attempt}-{rate_name[:5]}-{len(results)}"
                    outcome = run_one(folder, overrides, rate, seconds[rate_name])
                    results.setdefault((name, rate_name), []).append(outcome)
    print(f"Mosquitto SIGKILLed mid-stream, listener away (its session queues); {args.repeat} run(s) per cell")
    header = f"{'setting':<22}" + "".join(f" | {r:>44}" for r in RATES)
    print(header)
    print(f"{'':<22}" + " | lost / acked (window)   pub/s   broker CPU" * len(RATES))
    for name in SETTINGS:
        cells = []
        for rate_name, rate in RATES.items():
            runs = results[(name, rate_name)]
            worst = max(runs, key=lambda o: o.lost)
            window = worst.lost / min(rate, worst.publish_rate or rate)
            publish_rate = sum(o.publish_rate for o in runs) / len(runs)
            cpu = sum(o.broker_cpu for o in runs) / len(runs)
            cells.append(f"{worst.lost:>6} / {worst.acked:<7} ({window:4.2f} s) {publish_rate:>7.0f} {cpu:>9.0%}")
        print(f"{name:<22}" + "".join(f" | {c:>44}" for c in cells))


if __name__ == "__main__":
    main()
