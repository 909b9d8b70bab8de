"""A chain under load: N site brokers bridged into a central Mosquitto and PostgreSQL (docs/benchmarks.md).

    python -m bench.chain                        # 20 sites x 50 stations, the full run recorded in the docs
    python -m bench.chain --sites 3 --stations 5 --live-s 5 --backlog 200 --drain 2000   # a quick look

Phases, each on the same chain:
1. live: every station publishes at `--rate` (messages/s each) at its site; the center's listener
   (`clinic chain listen`, every site) records them. Delay site -> center = the central listener's receive time
   minus the device's send time (`ts`), p50/p99 over every message.
2. outage: the central broker is stopped, every site publishes `--backlog` messages, the central broker starts
   again: how long until the center has them all (the bridges' catch-up, then the listener's).
3. drain: `--drain` messages queued at the center, drained by 1, 2 and 4 listener processes (fresh sessions
   each time): a shared group of `clinic listen`, and `clinic chain listen` with the sites dealt among them;
   rows per second from the first row to the last, `--repeat` interleaved runs, medians.
Broker CPU (user + system seconds, from /proc) per phase: the central broker and all site brokers together.
At the end, the central store must hold every message published exactly once, and no dead letter.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from contextlib import ExitStack
from datetime import UTC, datetime
from pathlib import Path
from tempfile import TemporaryDirectory
from typing import Any

from sqlalchemy import Engine, func, select, text

from bench.common import (
    Broker,
    Publisher,
    child_env,
    count_rows,
    drop_session,
    free_port,
    load_average,
    machine,
    mosquitto_binary,
    port_open,
    postgres_store,
    process_cpu_s,
    start_broker_again,
    stop_broker,
    stop_process,
    wait_until,
)
from shared.chain.sites import add_site
from shared.equipment.ingest_rows import EVENTS
from shared.equipment.stations import register_equipment
from shared.store.db import make_engine, unit_of_work
from shared.store.settings import Settings
from telemetry.broker import ensure_broker_files, set_bridge_password
from telemetry.broker_acl import listener_user
from telemetry.broker_config import write_config
from telemetry.central import partition

MAX_LISTENERS = 4


def _broker(data: Path, stack: ExitStack, **values: Any) -> Broker:
    port = free_port()
    cfg = Settings(_env_file=None, data_dir=data, mqtt_port=port, timezone="UTC", **values)  # type: ignore[call-arg]
    accounts = ensure_broker_files(cfg, listeners=MAX_LISTENERS)
    config = write_config(cfg, port=port)
    with open(data / "mosquitto.stderr", "wb") as stderr:
        proc = subprocess.Popen([mosquitto_binary(), "-c", str(config)], stdout=subprocess.DEVNULL, stderr=stderr)
    stack.callback(stop_process, proc)
    wait_until(lambda: port_open(port), timeout=15, what="mosquitto to listen")
    return Broker(settings=cfg, port=port, accounts=accounts, process=proc)


def _listener(
    stack: ExitStack, center: Broker, url: str, member: int, *args: str, **values: Any
) -> subprocess.Popen[bytes]:
    user = listener_user(member)
    cfg = Settings(_env_file=None, data_dir=center.settings.data_dir, database_url=url, mqtt_port=center.port,
                   mqtt_username=user, mqtt_password=center.accounts[user], timezone="UTC", log_level="INFO",
                   **values)  # type: ignore[call-arg]  # fmt: skip
    log = open(center.settings.data_dir / f"listener-{member}.log", "ab")  # noqa: SIM115  (the child keeps it)
    code = "from clinic.cli import main; main()"
    proc = subprocess.Popen([sys.executable, "-c", code, *args], env=child_env(cfg), stderr=log)
    stack.callback(stop_process, proc)  # stopped however the run ends
    return proc


def _subscribed(center: Broker, members: int, before: dict[int, int]) -> bool:
    def count(member: int) -> int:
        path = center.settings.data_dir / f"listener-{member}.log"
        return path.read_text().count("broker confirmed the subscription") if path.exists() else 0

    return all(count(m) > before.get(m, 0) for m in range(1, members + 1))


def _log_counts(center: Broker) -> dict[int, int]:
    out = {}
    for member in range(1, MAX_LISTENERS + 1):
        path = center.settings.data_dir / f"listener-{member}.log"
        out[member] = path.read_text().count("broker confirmed the subscription") if path.exists() else 0
    return out


def _cpu(brokers: list[Broker]) -> float:
    return sum(process_cpu_s(b.process.pid) or 0.0 for b in brokers)


def _payload(event_id: str, n: int) -> bytes:
    body: dict[str, Any] = {"v": 1, "event_id": event_id, "event": "start" if n % 2 == 0 else "stop",
                            "ts": datetime.now(UTC).isoformat(timespec="milliseconds")}  # fmt: skip
    if n % 2:
        body["duration_s"] = 30.0
    return json.dumps(body).encode()


def _topic(site: str, station: int) -> str:
    return f"clinic/{site}/equipment/st-{station:03d}/usage"


class Chain:
    """The brokers, publishers and central store of one run."""

    def __init__(self, stack: ExitStack, root: Path, *, sites: int, stations: int) -> None:
        self.stations = stations
        self.url = postgres_store(stack, [])
        self.engine: Engine = make_engine(self.url)
        stack.callback(self.engine.dispose)
        self.center = _broker(root / "center", stack)
        self.sites: dict[str, Broker] = {}
        for n in range(sites):
            name = f"site-{n:02d}"
            with unit_of_work(self.engine) as session:  # the site and its stations
                add_site(session=session, site=name)
                for station in range(stations):
                    register_equipment(session=session, site=name, equipment_id=f"st-{station:03d}", kind="bike")
            password = set_bridge_password(self.center.settings, name)
            self.sites[name] = _broker(root / name, stack, site=name, bridge_to=f"127.0.0.1:{self.center.port}",
                                       bridge_password=password)  # fmt: skip
        self.publishers = {name: Publisher(broker) for name, broker in self.sites.items()}
        for publisher in self.publishers.values():
            stack.callback(publisher.close)
        self.published = 0
        self._seq = 0

    def site_brokers(self) -> list[Broker]:
        return list(self.sites.values())

    def publish_one(self, site: str, station: int, tag: str) -> None:
        self._seq += 1
        self.publishers[site].publish(_topic(site, station), _payload(f"{tag}-{self._seq}", self._seq))
        self.published += 1

    def wait_acked(self) -> None:
        for publisher in self.publishers.values():
            publisher.wait_all_acked()

    def stored(self) -> int:
        return count_rows(self.engine)


def live(chain: Chain, stack: ExitStack, *, rate: float, seconds: float) -> dict[str, Any]:
    """Phase 1: every station at `rate` messages/s, paced; delay = central receive time - device send time."""
    before_rows, cpu_c, cpu_s = chain.stored(), _cpu([chain.center]), _cpu(chain.site_brokers())
    total_rate = rate * chain.stations * len(chain.sites)
    sites = list(chain.sites)
    start, n = time.monotonic(), 0
    while time.monotonic() - start < seconds:
        chain.publish_one(sites[n % len(sites)], (n // len(sites)) % chain.stations, "live")
        n += 1
        time.sleep(max(0.0, start + n / total_rate - time.monotonic()))
    chain.wait_acked()
    wait_until(lambda: chain.stored() - before_rows == n, timeout=120, what="the center recording live traffic")
    with chain.engine.connect() as conn:
        delays = sorted(
            (received - sent).total_seconds() * 1000
            for received, sent in conn.execute(
                select(EVENTS.c.received_at, EVENTS.c.device_ts).where(EVENTS.c.event_id.like("live-%"))
            )
        )
    return {"messages": n, "rate_per_s": round(n / seconds, 1), "delay_ms_p50": round(statistics.median(delays), 1),
            "delay_ms_p99": round(delays[int(0.99 * (len(delays) - 1))], 1),
            "central_broker_cpu_s": round(_cpu([chain.center]) - cpu_c, 2),
            "site_brokers_cpu_s": round(_cpu(chain.site_brokers()) - cpu_s, 2)}  # fmt: skip


def outage(chain: Chain, stack: ExitStack, *, per_site: int) -> dict[str, Any]:
    """Phase 2: the center down while every site publishes `per_site`; then the time to catch up."""
    before_rows = chain.stored()
    stop_broker(chain.center)
    cpu_s = _cpu(chain.site_brokers())
    for k in range(per_site):
        for site in chain.sites:
            chain.publish_one(site, k % chain.stations, "outage")
    chain.wait_acked()
    backlog = per_site * len(chain.sites)
    start_broker_again(chain.center, stack)
    started, cpu_c = time.monotonic(), _cpu([chain.center])
    wait_until(lambda: chain.stored() > before_rows, timeout=120, interval=0.05, what="the first row after the outage")
    first = time.monotonic() - started
    wait_until(lambda: chain.stored() - before_rows == backlog, timeout=600, interval=0.1, what="the catch-up")
    took = time.monotonic() - started
    return {"backlog": backlog, "first_row_s": round(first, 1), "caught_up_s": round(took, 1),
            "rows_per_s": round(backlog / max(took, 1e-3)),
            "central_broker_cpu_s": round(_cpu([chain.center]) - cpu_c, 2),
            "site_brokers_cpu_s": round(_cpu(chain.site_brokers()) - cpu_s, 2)}  # fmt: skip


def _drain_listeners(
    stack: ExitStack, chain: Chain, mode: str, listeners: int, group: str
) -> list[subprocess.Popen[bytes]]:
    """`clinic listen` in a shared group, or `clinic chain listen` with the sites dealt among the listeners."""
    if mode == "shared":
        return [_listener(stack, chain.center, chain.url, m, "listen", mqtt_shared_group=group)
                for m in range(1, listeners + 1)]  # fmt: skip
    parts = partition(list(chain.sites), listeners=listeners)
    return [_listener(stack, chain.center, chain.url, m, "chain", "listen", "--sites", ",".join(part))
            for m, part in enumerate(parts, start=1)]  # fmt: skip


def drain(stack: ExitStack, chain: Chain, *, messages: int, listeners: int, mode: str, run: int) -> dict[str, Any]:
    """Phase 3: `messages` queued at the center for the listeners' sessions, then drained by `listeners`
    processes: a shared group (`mode` "shared") or each its own sites ("sites")."""
    group = f"drain-{mode}-{listeners}-{run}"
    for member in range(1, MAX_LISTENERS + 1):  # no session of an earlier run may take a share
        user = listener_user(member)
        drop_session(chain.center, user, user, chain.center.accounts[user])
    counts = _log_counts(chain.center)
    procs = _drain_listeners(stack, chain, mode, listeners, group)
    wait_until(lambda: _subscribed(chain.center, listeners, counts), timeout=60, what="the listeners subscribed")
    for proc in procs:
        stop_process(proc)  # their sessions stay: the broker queues the backlog for them
    before_rows = chain.stored()
    publisher = Publisher(chain.center)
    sites = list(chain.sites)
    for k in range(messages):
        site = sites[k % len(sites)]
        publisher.publish(_topic(site, (k // len(sites)) % chain.stations), _payload(f"{group}-{k}", k))
    publisher.wait_all_acked()
    publisher.close()
    chain.published += messages
    cpu_c = _cpu([chain.center])
    procs = _drain_listeners(stack, chain, mode, listeners, group)
    wait_until(lambda: chain.stored() > before_rows, timeout=60, interval=0.02, what="the first drained row")
    first = time.monotonic()
    wait_until(lambda: chain.stored() - before_rows == messages, timeout=600, interval=0.05, what="the drain")
    took = time.monotonic() - first
    cpu = _cpu([chain.center]) - cpu_c
    for proc in procs:
        stop_process(proc)
    return {"mode": mode, "listeners": listeners, "run": run, "seconds": round(took, 2),
            "rows_per_s": round(messages / max(took, 1e-3)), "central_broker_cpu_s": round(cpu, 2)}  # fmt: skip


def _medians(runs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out = []
    for key in sorted({(r["mode"], r["listeners"]) for r in runs}):
        rates = [r["rows_per_s"] for r in runs if (r["mode"], r["listeners"]) == key]
        out.append({"mode": key[0], "listeners": key[1], "rows_per_s_median": round(statistics.median(rates)),
                    "rows_per_s_all": rates})  # fmt: skip
    return out


def run(args: argparse.Namespace) -> dict[str, Any]:
    """Every phase on one chain; the figures as a dict (also printed as JSON)."""
    with ExitStack() as stack, TemporaryDirectory(prefix="bench-chain-") as tmp:
        chain = Chain(stack, Path(tmp), sites=args.sites, stations=args.stations)
        every_site = ",".join(chain.sites)
        center_listener = _listener(stack, chain.center, chain.url, 1, "chain", "listen", "--sites", every_site)
        wait_until(lambda: _subscribed(chain.center, 1, {}), timeout=60, what="the central listener subscribed")
        wait_until(lambda: len(_bridges_up(chain)) == len(chain.sites), timeout=60, what="every bridge connected")
        result: dict[str, Any] = {"sites": args.sites, "stations_per_site": args.stations, "machine": machine(),
                                  "load_average_start": round(load_average(), 2)}  # fmt: skip
        result["live"] = live(chain, stack, rate=args.rate, seconds=args.live_s)
        result["outage"] = outage(chain, stack, per_site=args.backlog)
        stop_process(center_listener)
        runs = [drain(stack, chain, messages=args.drain, listeners=n, mode=mode, run=r)
                for r in range(args.repeat) for mode in ("shared", "sites") for n in args.listeners]  # fmt: skip
        result["drain_runs"] = runs
        result["drain"] = _medians(runs)
        with chain.engine.connect() as conn:
            stored = conn.execute(select(func.count()).select_from(EVENTS)).scalar_one()
            dead = conn.execute(text("SELECT count(*) FROM dead_letter")).scalar_one()
        result["load_average_end"] = round(load_average(), 2)
        result["exactly_once"] = {"published": chain.published, "stored": stored, "dead_letters": dead,
                                  "ok": stored == chain.published and dead == 0}  # fmt: skip
        return result


def _bridges_up(chain: Chain) -> list[str]:
    log = (chain.center.settings.broker_dir / "mosquitto.log").read_text()
    return [site for site in chain.sites if f"as bridge.{site} " in log]


def main() -> None:
    """Parse the options, run, print the figures as JSON."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--sites", type=int, default=20)
    parser.add_argument("--stations", type=int, default=50, help="stations per site")
    parser.add_argument("--rate", type=float, default=0.2, help="messages per second per station (live phase)")
    parser.add_argument("--live-s", type=float, default=30.0, help="seconds of live traffic")
    parser.add_argument("--backlog", type=int, default=1000, help="messages per site during the outage")
    parser.add_argument("--drain", type=int, default=20000, help="messages queued at the center per drain run")
    parser.add_argument("--listeners", type=lambda v: [int(x) for x in v.split(",")], default=[1, 2, 4])
    parser.add_argument("--repeat", type=int, default=3, help="drain runs per setting, interleaved (medians)")
    args = parser.parse_args()
    if max(args.listeners) > min(MAX_LISTENERS, args.sites):
        parser.error(f"at most {MAX_LISTENERS} listeners, and no more than sites (each takes whole sites)")
    print(json.dumps(run(args), indent=2))


if __name__ == "__main__":
    main()
