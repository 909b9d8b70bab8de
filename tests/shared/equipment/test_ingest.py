"""Batched ingest against real SQLite and PostgreSQL: exactly-once rows, derived state, dead letters, replay."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone

from sqlalchemy import Engine, func, select

from shared.equipment.dead_letters import list_dead_letters
from shared.equipment.events import Decoded
from shared.equipment.ingest import record_batch
from shared.equipment.models import EquipmentEvent
from shared.equipment.payloads import decode
from shared.equipment.replay import replay_dead_letters
from shared.equipment.stations import register_equipment
from shared.store.db import init_db, read_session, unit_of_work
from shared.store.settings import Settings
from tests.factories import read_station

T0 = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=1)


def msg(equipment: str, channel: str, body: dict[str, object] | str, minute: float = 0) -> Decoded:
    payload = body if isinstance(body, str) else json.dumps(body)
    at = T0 + timedelta(minutes=minute)
    return decode(f"clinic/main/equipment/{equipment}/{channel}", payload.encode(), prefix="clinic", received_at=at)


def usage(event_id: str, event: str, minute: float, **extra: object) -> Decoded:
    ts = (T0 + timedelta(minutes=minute)).isoformat()
    return msg("tm-1", "usage", {"event_id": event_id, "event": event, "ts": ts, **extra}, minute)


def event_count(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(EquipmentEvent)).scalar_one())


def test_init_is_safe_to_run_twice(engine: Engine) -> None:
    with unit_of_work(engine) as session:
        register_equipment(session=session, site="main", equipment_id="tm-1", name="Treadmill 1")
    init_db(engine)
    init_db(engine)
    assert read_station(engine, "tm-1").as_json()["name"] == "Treadmill 1"


def test_same_event_twice_is_one_row_and_counted_once(engine: Engine) -> None:
    with unit_of_work(engine) as session:
        register_equipment(session=session, site="main", equipment_id="tm-1")
    start = usage("e1", "start", 0)
    first = record_batch(engine=engine, items=[start, start], tz=UTC)
    again = record_batch(engine=engine, items=[start], tz=UTC)
    assert (first.inserted, first.duplicates, again.inserted, again.duplicates) == (1, 1, 0, 1)
    assert event_count(engine) == 1
    assert read_station(engine, "tm-1").as_json()["uses_total"] == 1


def test_a_resend_is_known_by_its_id_and_time_and_a_reused_id_with_another_time_is_a_new_event(
    engine: Engine,
) -> None:
    """docs/devices.md §5: the same `event_id` and `ts` (in any offset) is a resend, stored once, in another batch
    or in the same one; the same id with another `ts` is another event; without `ts` the id alone decides."""
    with unit_of_work(engine) as session:
        register_equipment(session=session, site="main", equipment_id="tm-1")
    first = record_batch(engine=engine, items=[usage("e1", "start", 0), usage("e2", "stop", 20)], tz=UTC)
    same_instant = T0.astimezone(timezone(timedelta(hours=2))).isoformat()  # e1's ts, written in +02:00
    resend = msg("tm-1", "usage", {"event_id": "e1", "event": "start", "ts": same_instant}, 30)
    reused = usage("e2", "start", 40)
    batch = record_batch(engine=engine, items=[resend, reused, reused], tz=UTC)
    assert (first.inserted, batch.inserted, batch.duplicates) == (2, 1, 2)
    untimed = msg("tm-1", "cleaning", {"event_id": "c1", "event": "cleaned"}, 45)
    later_copy = msg("tm-1", "cleaning", {"event_id": "c1", "event": "cleaned"}, 50)  # received later: no `ts`
    cleaned = record_batch(engine=engine, items=[untimed], tz=UTC)
    cleaned_again = record_batch(engine=engine, items=[later_copy], tz=UTC)
    assert (cleaned.inserted, cleaned_again.inserted, cleaned_again.duplicates) == (1, 0, 1)
    assert event_count(engine) == 4
    assert read_station(engine, "tm-1").as_json()["uses_total"] == 2  # e1, then e2 reused as a new start


def test_state_and_counters_follow_the_events(engine: Engine) -> None:
    with unit_of_work(engine) as session:
        register_equipment(session=session, site="main", equipment_id="tm-1")
    record_batch(engine=engine, items=[usage("e1", "start", 0), usage("e2", "stop", 20, duration_s=1190)], tz=UTC)
    view = read_station(engine, "tm-1").as_json()
    assert (view["status"], view["uses_total"], view["in_use_seconds_total"]) == ("needs_cleaning", 1, 1190.0)
    cleaned = msg("tm-1", "cleaning", {"event_id": "c1", "event": "cleaned", "by": "tech-ana"}, 25)
    record_batch(engine=engine, items=[cleaned], tz=UTC)
    view = read_station(engine, "tm-1").as_json()
    assert (view["status"], view["last_cleaned_by"]) == ("available", "tech-ana")


def test_late_event_is_stored_but_does_not_roll_back(engine: Engine) -> None:
    with unit_of_work(engine) as session:
        register_equipment(session=session, site="main", equipment_id="tm-1")
    record_batch(engine=engine, items=[usage("e1", "start", 0), usage("e2", "stop", 10)], tz=UTC)
    record_batch(engine=engine, items=[msg("tm-1", "cleaning", {"event_id": "c", "event": "cleaned"}, 12)], tz=UTC)
    late = usage("e0", "start", 5)
    record_batch(engine=engine, items=[late], tz=UTC)
    assert event_count(engine) == 4
    view = read_station(engine, "tm-1").as_json()
    assert (view["status"], view["uses_total"]) == ("available", 2)


def test_status_is_logged_only_when_it_changes(engine: Engine) -> None:
    with unit_of_work(engine) as session:
        register_equipment(session=session, site="main", equipment_id="tm-1")
    online = [msg("tm-1", "status", "online", m) for m in (0, 1, 2)]
    result = record_batch(engine=engine, items=[*online, msg("tm-1", "status", "offline", 3)], tz=UTC)
    assert result.status_changes == 2
    assert read_station(engine, "tm-1").as_json()["online"] is False
    assert event_count(engine) == 2


def test_unknown_equipment_is_kept_and_replayed_after_registration(engine: Engine) -> None:
    record_batch(engine=engine, items=[msg("bike-7", "usage", {"event_id": "b1", "event": "start"})], tz=UTC)
    with read_session(engine) as session:
        letters = list_dead_letters(session=session)
    assert [(d.equipment_id, d.reason) for d in letters] == [
        ("bike-7", "equipment 'bike-7' is not registered at site 'main'")
    ]
    with unit_of_work(engine) as session:
        register_equipment(session=session, site="main", equipment_id="bike-7", name="Bike 7")
    outcome = replay_dead_letters(engine=engine, settings=Settings(topic_prefix="clinic", _env_file=None))  # type: ignore[call-arg]
    assert (outcome.recorded, outcome.still_kept) == (1, 0)
    assert read_station(engine, "bike-7").as_json()["status"] == "in_use"
    with read_session(engine) as session:
        assert list_dead_letters(session=session) == []
        assert len(list_dead_letters(session=session, include_replayed=True)) == 1


def test_a_bad_message_in_a_batch_does_not_stop_the_good_ones(engine: Engine) -> None:
    with unit_of_work(engine) as session:
        register_equipment(session=session, site="main", equipment_id="tm-1")
    bad = msg("tm-1", "usage", "{oops")
    result = record_batch(engine=engine, items=[usage("e1", "start", 0), bad, usage("e2", "stop", 1)], tz=UTC)
    assert (result.inserted, result.dead_lettered) == (2, 1)
    with read_session(engine) as session:
        assert [d.payload for d in list_dead_letters(session=session)] == ["{oops"]


def test_the_same_bad_message_redelivered_is_one_dead_letter_seen_twice(engine: Engine) -> None:
    bad = msg("tm-1", "usage", "{oops")
    record_batch(engine=engine, items=[bad], tz=UTC)
    record_batch(engine=engine, items=[bad], tz=UTC)
    with read_session(engine) as session:
        assert [d.seen_count for d in list_dead_letters(session=session)] == [2]


def test_hostile_strings_round_trip_unchanged(engine: Engine) -> None:
    name = "<script>alert(1)</script>'; DROP TABLE equipment;-- \u202eevil"
    with unit_of_work(engine) as session:
        register_equipment(session=session, site="main", equipment_id="tm-1", name=name, zone='Zone "A" & <b>')
    by = "Robert'); DROP TABLE equipment_event;--"
    cleaned = msg("tm-1", "cleaning", {"event_id": "c", "event": "cleaned", "by": by})
    record_batch(engine=engine, items=[cleaned], tz=UTC)
    view = read_station(engine, "tm-1").as_json()
    assert (view["name"], view["zone"], view["last_cleaned_by"]) == (name, 'Zone "A" & <b>', by)


def test_a_truncated_dead_letter_is_not_replayed_and_keeps_its_reason(engine: Engine) -> None:
    with unit_of_work(engine) as session:
        register_equipment(session=session, site="main", equipment_id="tm-1")
    huge = msg("tm-1", "usage", '{"event_id": "big", "event": "start", "pad": "' + "x" * 70_000 + '"}')
    record_batch(engine=engine, items=[huge], tz=UTC)
    outcome = replay_dead_letters(engine=engine, settings=Settings(_env_file=None))  # type: ignore[call-arg]
    assert (outcome.recorded, outcome.still_kept) == (0, 0)
    with read_session(engine) as session:
        assert "over the 65536-byte limit" in list_dead_letters(session=session)[0].reason
