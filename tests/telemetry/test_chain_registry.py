"""Registering a station at a site makes it known at the center; events that arrived first are kept, then recorded."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine, delete, func, select

from shared.chain.models import ChainSite
from shared.chain.registrations import Registration
from shared.chain.sites import add_site
from shared.equipment import board
from shared.equipment.ingest_rows import EVENTS, STATES
from shared.equipment.models import DeadLetter, Equipment
from shared.equipment.stations import register_equipment
from shared.store.db import init_db, make_engine, unit_of_work
from telemetry.broker_acl import REGISTRY_USER, SIMULATOR_USER
from telemetry.registry import RegistrationError, RegistryPublisher, decode, encode, registry_topic
from telemetry.registry_sync import RegistrySync
from tests.conftest import Broker
from tests.helpers import wait_until
from tests.mqtt_helpers import connect, listener_settings, running_listener

BIKE = Registration("north", "bike-1", "Bike 1", "bike", "Gym A", True, 250.0)


@pytest.fixture
def registry(engine: Engine) -> Iterator[Engine]:
    """The store with `north` in the center's site registry (the table is not among those the fixtures empty)."""
    with engine.begin() as conn:
        conn.execute(delete(ChainSite))
    with unit_of_work(engine) as session:
        add_site(session=session, site="north", name="North Clinic")
    yield engine
    with engine.begin() as conn:
        conn.execute(delete(ChainSite))


@contextmanager
def running_sync(broker: Broker, db_url: str, engine: Engine) -> Iterator[RegistrySync]:
    sync = RegistrySync(listener_settings(broker, db_url), engine)
    thread = threading.Thread(target=sync.run, daemon=True)
    thread.start()
    try:
        wait_until(sync.subscribed.is_set, timeout=15, what="registry sync subscribed")
        yield sync
    finally:
        sync.stop()
        thread.join(timeout=15)


def _publish_registration(broker: Broker, registration: Registration, payload: bytes | None = None) -> None:
    client = connect(broker.port, REGISTRY_USER, broker.accounts[REGISTRY_USER])
    topic = registry_topic("clinic", registration.site, registration.equipment_id)
    assert not client.publish(topic, payload or encode(registration), retain=True).is_failure  # kept (retained)
    client.close()


def _equipment(engine: Engine) -> list[tuple[str, str, str, str, bool]]:
    with engine.connect() as conn:
        rows = conn.execute(select(Equipment.site, Equipment.id, Equipment.name, Equipment.zone,  # type: ignore[call-overload]
                                   Equipment.clean_after_use))  # fmt: skip
        return [tuple(row) for row in rows]


def _dead_letters(engine: Engine) -> list[str]:
    with engine.connect() as conn:
        return list(conn.execute(select(DeadLetter.reason).where(DeadLetter.replayed_at.is_(None))).scalars())  # type: ignore[union-attr]


def _dead_letter_codes(engine: Engine) -> list[str]:
    with engine.connect() as conn:
        return list(conn.execute(select(DeadLetter.code).where(DeadLetter.replayed_at.is_(None))).scalars())  # type: ignore[union-attr]


def test_a_registration_published_before_the_center_listened_is_applied_when_it_starts(
    broker: Broker, registry: Engine, db_url: str
) -> None:
    _publish_registration(broker, BIKE)  # retained: the sync was not running yet
    with running_sync(broker, db_url, registry) as sync:
        wait_until(lambda: sync.stats.applied == 1, timeout=15, what="registration applied")
    assert _equipment(registry) == [("north", "bike-1", "Bike 1", "Gym A", True)]


def test_events_that_arrive_before_the_registration_are_kept_then_recorded_once(
    broker: Broker, registry: Engine, db_url: str
) -> None:
    device = connect(broker.port, SIMULATOR_USER, broker.simulator_password)
    with running_listener(listener_settings(broker, db_url), registry) as listener:
        for n, event in enumerate(("start", "stop")):
            body = {"v": 1, "event_id": f"e{n}", "event": event, "ts": datetime.now(UTC).isoformat(), "duration_s": 9}
            device.publish("clinic/north/equipment/bike-1/usage", json.dumps(body))
        wait_until(lambda: listener.stats.dead_lettered == 2, timeout=15, what="events kept as unknown")
        with running_sync(broker, db_url, registry) as sync:
            _publish_registration(broker, BIKE)
            wait_until(lambda: sync.stats.replayed == 2, timeout=15, what="kept events recorded")
    device.close()
    with registry.connect() as conn:
        assert conn.execute(select(func.count()).select_from(Equipment)).scalar() == 1
    assert _dead_letters(registry) == []


def test_a_registration_from_a_site_outside_the_chain_is_kept_with_the_reason(
    broker: Broker, registry: Engine, db_url: str
) -> None:
    stranger = Registration("west", "bike-9", "Bike 9", "bike", "", True, None)
    with running_sync(broker, db_url, registry) as sync:
        _publish_registration(broker, stranger)
        wait_until(lambda: sync.stats.refused == 1, timeout=15, what="registration refused")
    assert _equipment(registry) == []
    assert _dead_letters(registry) == ["site 'west' is not registered at the center (clinic chain add-site)"]
    assert _dead_letter_codes(registry) == ["registration"]  # `clinic deadletters --code registration` finds it


@pytest.mark.parametrize(
    ("topic", "payload", "message"),
    [
        ("clinic/north/registry/bike-1", b"{", "registration payload: Invalid JSON"),
        ("clinic/north/registry/bike-1", b'{"name": ""}', "registration name: String should have at least 1"),
        ("clinic/north/registry/bike-1", b'{"name": "B", "v": 2}', "registration version 2 is not supported"),
        ("clinic/North/registry/bike-1", b'{"name": "B"}', "site 'North' in topic must match"),
        ("clinic/north/registry", b'{"name": "B"}', "does not match clinic/<site>/registry/<equipment_id>"),
    ],
)
def test_a_bad_registration_is_refused_naming_the_bad_part(topic: str, payload: bytes, message: str) -> None:
    with pytest.raises(RegistrationError, match=message):
        decode(topic, payload, prefix="clinic")


def test_a_registration_survives_encoding() -> None:
    assert decode(registry_topic("clinic", "north", "bike-1"), encode(BIKE), prefix="clinic") == BIKE


def test_a_staff_action_at_a_site_reaches_the_center_as_the_same_event(
    broker: Broker, registry: Engine, db_url: str, tmp_path: Path
) -> None:
    site = registry  # the site's store; the center's is another file on the same test broker
    with unit_of_work(site) as session:
        register_equipment(session=session, site="north", equipment_id="bike-1", name="Bike 1")
    with unit_of_work(site) as session:
        board.mark_cleaned(session=session, site="north", equipment_id="bike-1", by="Ana", tz=UTC)
    center_url = f"sqlite:///{tmp_path / 'center.db'}"
    center = make_engine(center_url)
    init_db(center)
    with unit_of_work(center) as session:
        register_equipment(session=session, site="north", equipment_id="bike-1", name="Bike 1")
    site_settings = listener_settings(broker, db_url, site="north")
    with running_listener(listener_settings(broker, center_url), center) as listener:
        publisher = RegistryPublisher(site_settings, site)
        assert publisher.publish_changed() == 2  # the registration and the cleaning
        wait_until(lambda: listener.stats.inserted == 1, timeout=15, what="the cleaning at the center")
        assert RegistryPublisher(site_settings, site).publish_changed() == 1  # a restart: registrations only
    with site.connect() as conn:
        site_ids = list(conn.execute(select(EVENTS.c.event_id)).scalars())
    with center.connect() as conn:
        assert list(conn.execute(select(EVENTS.c.event_id)).scalars()) == site_ids
        assert conn.execute(select(STATES.c.last_cleaned_by)).scalar_one() == "Ana"
    center.dispose()
