"""A chain on loopback: two site brokers bridged to a central one, each site with its own listener and SQLite
store, the center with two listener processes on PostgreSQL (`clinic chain listen`, one per site) and the
registry sync.

The central broker is stopped for 30 s while devices publish at both sites: the sites record everything at
once, and the center has every event after the link returns, none twice.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select, text

from shared.chain.overview import chain_overview
from shared.chain.sites import add_site
from shared.equipment.ingest_rows import EVENTS, STATES
from shared.equipment.models import DeadLetter
from shared.equipment.rollups import DAYS
from shared.equipment.stations import register_equipment
from shared.store.db import init_db, make_engine, read_session, unit_of_work
from shared.store.settings import Settings
from telemetry.broker import ensure_broker_files, set_bridge_password
from telemetry.broker_acl import SIMULATOR_USER, listener_user
from telemetry.broker_config import write_config
from telemetry.registry import RegistryPublisher, wait_published
from telemetry.registry_sync import RegistrySync
from tests.conftest import TABLES, Broker
from tests.helpers import free_port, wait_until
from tests.mqtt_helpers import Client, connect, running_listener

SITES = {"north": ("n1", "n2", "n3"), "south": ("s1", "s2", "s3")}
OUTAGE_S = 30.0
RATE = 20.0  # messages per second at each site


@dataclass
class Site:
    """One site: its broker (bridged to the center), its SQLite store and its devices' publisher."""

    name: str
    broker: Broker
    engine: Engine
    url: str
    sent: list[tuple[str, str, str]] = field(default_factory=list)  # (equipment, event id, start|stop)


@dataclass
class Center:
    broker: Broker
    engine: Engine
    url: str


def _broker(data: Path, **values: object) -> Broker:
    port = free_port()
    cfg = Settings(_env_file=None, data_dir=data, mqtt_port=port, timezone="UTC", **values)  # type: ignore[call-arg]
    accounts = ensure_broker_files(cfg, listeners=2)
    return Broker(settings=cfg, port=port, config=write_config(cfg, port=port), accounts=accounts)


@pytest.fixture
def center(tmp_path: Path, pg_database: str) -> Iterator[Center]:
    """The central broker and PostgreSQL store (emptied), with both sites registered and given bridges."""
    engine = make_engine(pg_database)
    init_db(engine)
    with engine.begin() as conn:
        conn.execute(text(f"TRUNCATE chain_site, {', '.join(TABLES)} RESTART IDENTITY CASCADE"))
    broker = _broker(tmp_path / "center")
    with unit_of_work(engine) as session:
        for site in SITES:
            add_site(session=session, site=site, name=f"{site.title()} Clinic")
    broker.start()
    yield Center(broker, engine, pg_database)
    broker.stop()
    engine.dispose()


@pytest.fixture
def sites(tmp_path: Path, center: Center) -> Iterator[dict[str, Site]]:
    """Both sites' brokers, bridged to the center, and their stores with their stations registered."""
    out: dict[str, Site] = {}
    for name, stations in SITES.items():
        password = set_bridge_password(center.broker.settings, name)
        broker = _broker(tmp_path / name, site=name, bridge_to=f"127.0.0.1:{center.broker.port}",
                         bridge_password=password)  # fmt: skip
        url = f"sqlite:///{tmp_path / name / 'clinic.db'}"
        engine = make_engine(url)
        init_db(engine)
        for equipment_id in stations:
            with unit_of_work(engine) as session:
                register_equipment(
                    session=session, site=name, equipment_id=equipment_id, name=f"Bike {equipment_id}", kind="bike"
                )
        broker.start()
        out[name] = Site(name, broker, engine, url)
    yield out
    for site in out.values():
        site.broker.stop()
        site.engine.dispose()


def _settings(broker: Broker, url: str, member: int = 1, **values: object) -> Settings:
    user = listener_user(member)
    return Settings(_env_file=None, data_dir=broker.settings.data_dir, database_url=url, site=broker.settings.site,
                    mqtt_port=broker.port, mqtt_username=user, mqtt_password=broker.accounts[user], timezone="UTC",
                    mqtt_keepalive_s=5, **values)  # type: ignore[call-arg]  # fmt: skip


def _publish(site: Site, device: Client, stop: threading.Event, *, until: float) -> None:
    """Usage starts and stops from every station of the site, RATE a second, each acknowledged by the site."""
    n, first, start = len(site.sent), len(site.sent), time.monotonic()
    while time.monotonic() < until and not stop.is_set():
        equipment_id = SITES[site.name][n % len(SITES[site.name])]
        event = "start" if (n // len(SITES[site.name])) % 2 == 0 else "stop"
        event_id = f"{equipment_id}-{n}"
        body = {"v": 1, "event_id": event_id, "event": event, "ts": datetime.now(UTC).isoformat()}
        if event == "stop":
            body["duration_s"] = 30
        assert device.publish(f"clinic/{site.name}/equipment/{equipment_id}/usage", json.dumps(body)).value == 0
        site.sent.append((equipment_id, event_id, event))
        n += 1
        time.sleep(max(0.0, start + (n - first) / RATE - time.monotonic()))  # paced, whatever a PUBACK takes


def _publish_everywhere(sites: dict[str, Site], devices: dict[str, Client], seconds: float) -> None:
    stop, until = threading.Event(), time.monotonic() + seconds
    threads = [threading.Thread(target=_publish, args=(sites[n], devices[n], stop), kwargs={"until": until})
               for n in sites]  # fmt: skip
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=seconds + 30)


def _events(engine: Engine, site: str) -> Counter[str]:
    with engine.connect() as conn:
        rows = conn.execute(select(EVENTS.c.event_id).where(EVENTS.c.site == site, EVENTS.c.channel == "usage"))
        return Counter(event_id for (event_id,) in rows)


def _central_listener(settings: Settings, site: str) -> subprocess.Popen[bytes]:
    """`clinic chain listen --sites SITE` as a real process (its log next to the center's broker files)."""
    env = {**os.environ, **settings.as_env()}
    code = "from clinic.cli import main; main()"
    with open(settings.data_dir / "listener.log", "ab") as log:
        return subprocess.Popen([sys.executable, "-c", code, "chain", "listen", "--sites", site], env=env, stderr=log)


def _stations(engine: Engine) -> int:
    with read_session(engine) as session:
        return sum(s.stations for s in chain_overview(session=session, tz=UTC, now=datetime.now(UTC)))


def _uses(engine: Engine, site: str) -> tuple[int, int]:
    """Uses counted in the stations' state and in the daily rollups: a redelivery counted twice shows here."""
    with engine.connect() as conn:
        state = conn.execute(select(func.sum(STATES.c.uses_total)).where(STATES.c.site == site)).scalar()
        days = conn.execute(select(func.sum(DAYS.c.uses)).where(DAYS.c.site == site)).scalar()
    return int(state or 0), int(days or 0)


def test_sites_keep_recording_while_the_center_is_down_and_the_center_gets_every_event_once(
    center: Center, sites: dict[str, Site]
) -> None:
    central = [_central_listener(_settings(center.broker, center.url, member), site)
               for member, site in enumerate(SITES, start=1)]  # fmt: skip
    sync = RegistrySync(_settings(center.broker, center.url), center.engine)
    sync_thread = threading.Thread(target=sync.run, daemon=True)
    sync_thread.start()
    devices = {n: connect(s.broker.port, SIMULATOR_USER, s.broker.simulator_password) for n, s in sites.items()}
    try:
        north, south = sites["north"], sites["south"]
        with (
            running_listener(_settings(north.broker, north.url), north.engine),
            running_listener(_settings(south.broker, south.url), south.engine),
        ):
            # Registering at a site makes the stations known at the center (retained, through the bridge).
            for site in sites.values():
                wait_published(RegistryPublisher(_settings(site.broker, site.url), site.engine))
            wait_until(lambda: _stations(center.engine) == 6, timeout=30, what="the sites' stations at the center")
            log = center.broker.settings.data_dir / "listener.log"  # both central listeners write their log here
            wait_until(lambda: log.read_text().count("broker confirmed the subscription") == 2, timeout=30,
                       what="both central listeners subscribed")  # fmt: skip
            _publish_everywhere(sites, devices, 2.0)
            wait_until(lambda: all(sum(_events(center.engine, n).values()) == len(s.sent) for n, s in sites.items()),
                       timeout=30, what="the center recording live traffic")  # fmt: skip

            center.broker.stop()  # the WAN link is cut
            _publish_everywhere(sites, devices, OUTAGE_S)
            # Each site has everything, at once, without its center.
            for name, site in sites.items():
                wait_until(lambda s=site, n=name: sum(_events(s.engine, n).values()) == len(s.sent), timeout=5,
                           what=f"{name}'s store recording during the outage")  # fmt: skip
            outage_events = {n: len(s.sent) for n, s in sites.items()}

            center.broker.start()  # the link returns: the bridges send what their sites queued
            wait_until(lambda: all(sum(_events(center.engine, n).values()) == outage_events[n] for n in sites),
                       timeout=60, what="the center catching up after the outage")  # fmt: skip
    finally:
        sync.stop()
        sync_thread.join(timeout=15)
        for process in central:
            process.terminate()
        for process in central:
            process.wait(timeout=30)
        for device in devices.values():
            device.close()

    for name, site in sites.items():
        sent = Counter(event_id for _, event_id, _ in site.sent)
        starts = sum(1 for _, _, event in site.sent if event == "start")
        assert _events(site.engine, name) == sent
        assert _events(center.engine, name) == sent  # every event at the center, each once
        assert _uses(site.engine, name) == (starts, starts)
        assert _uses(center.engine, name) == (starts, starts)  # redeliveries after the cut counted nothing
    with center.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(DeadLetter)).scalar() == 0
    assert all(p.returncode == 0 for p in central)
    assert sum(len(s.sent) for s in sites.values()) >= 2 * RATE * OUTAGE_S * 0.8
