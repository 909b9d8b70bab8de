"""What a rogue device can make the clinic store: a bounded number of dead letters, the excess counted."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine, func, select

from shared.equipment.dead_letter_limits import OVER_QUOTA, purge_old
from shared.equipment.dead_letters import list_dead_letters
from shared.equipment.ingest import KEPT_PAYLOAD_BYTES, record_batch
from shared.equipment.models import DeadLetter
from shared.equipment.payloads import decode
from shared.equipment.stations import register_equipment
from shared.store.db import read_session, unit_of_work, write_transaction

NOW = datetime.now(UTC)
TOPIC = "clinic/main/equipment/tm-1/usage"


def junk(n: int, size: int = 100, *, at: datetime = NOW) -> list:  # type: ignore[type-arg]
    return [decode(TOPIC, f"junk {n}-{i}-{at.isoformat()} ".encode() + b"x" * size, prefix="clinic", received_at=at)
            for i in range(n)]  # fmt: skip


def total_seen(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.sum(DeadLetter.seen_count))).scalar_one())


def test_past_its_hourly_quota_a_device_s_junk_is_counted_not_stored(engine: Engine) -> None:
    with unit_of_work(engine) as session:
        register_equipment(session=session, site="main", equipment_id="tm-1")
    record_batch(engine=engine, items=junk(150), tz=UTC, dead_letter_quota=100)
    more = [decode(TOPIC, b"more junk " + bytes([65 + i]), prefix="clinic", received_at=NOW) for i in range(20)]
    record_batch(engine=engine, items=more, tz=UTC, dead_letter_quota=100)
    with read_session(engine) as session:
        letters = list_dead_letters(session=session)
    over = [d for d in letters if d.reason == OVER_QUOTA.format(limit=100)]
    assert len(letters) == 101 and len(over) == 1
    assert over[0].seen_count == 70, "50 of the first batch and all 20 of the second were dropped, and counted"
    assert total_seen(engine) == 170, "every message is accounted for"


def test_the_quota_follows_the_hour_the_messages_arrived_in_not_when_they_are_written(engine: Engine) -> None:
    with unit_of_work(engine) as session:
        register_equipment(session=session, site="main", equipment_id="tm-1")
    hour = datetime(2026, 3, 4, 10, tzinfo=UTC)
    record_batch(engine=engine, items=junk(20, at=hour + timedelta(seconds=1)), tz=UTC, dead_letter_quota=100)
    # Then 9:59:59's messages, held back (an outage): written after 10:00's, counted against their own hour.
    record_batch(engine=engine, items=junk(150, at=hour - timedelta(seconds=1)), tz=UTC, dead_letter_quota=100)
    record_batch(engine=engine, items=junk(30, at=hour - timedelta(seconds=1)), tz=UTC, dead_letter_quota=100)
    with read_session(engine) as session:
        letters = list_dead_letters(session=session)
    over = [d for d in letters if d.reason == OVER_QUOTA.format(limit=100)]
    assert [d.seen_count for d in over] == [80], "9:59:59's excess is counted in one row, whenever it is written"
    assert len(letters) == 100 + 1 + 20, "10:00:01 starts a new hour with its own quota"
    assert total_seen(engine) == 200


def test_another_device_has_its_own_quota(engine: Engine) -> None:
    with unit_of_work(engine) as session:
        register_equipment(session=session, site="main", equipment_id="tm-1")
        register_equipment(session=session, site="main", equipment_id="bike-1")
    record_batch(engine=engine, items=junk(120), tz=UTC, dead_letter_quota=100)
    other = decode("clinic/main/equipment/bike-1/usage", b"not json", prefix="clinic", received_at=NOW)
    record_batch(engine=engine, items=[other], tz=UTC, dead_letter_quota=100)
    with read_session(engine) as session:
        [letter] = list_dead_letters(session=session, equipment_id="bike-1")
    assert letter.reason.startswith("payload is not JSON"), "the first device's junk does not use up its quota"


def test_a_redelivered_dead_letter_only_bumps_its_count(engine: Engine) -> None:
    with unit_of_work(engine) as session:
        register_equipment(session=session, site="main", equipment_id="tm-1")
    same = junk(1)
    for _ in range(5):
        record_batch(engine=engine, items=same, tz=UTC, dead_letter_quota=2)
    with read_session(engine) as session:
        assert [d.seen_count for d in list_dead_letters(session=session)] == [5]


def test_a_dead_letter_keeps_the_start_of_a_big_payload_and_its_size(engine: Engine) -> None:
    with unit_of_work(engine) as session:
        register_equipment(session=session, site="main", equipment_id="tm-1")
    record_batch(engine=engine, items=junk(1, size=60_000), tz=UTC)
    with read_session(engine) as session:
        letter = list_dead_letters(session=session)[0]
    assert letter.truncated and len(letter.raw) == KEPT_PAYLOAD_BYTES and letter.payload_size > 60_000


def test_dead_letters_past_their_retention_are_deleted(engine: Engine) -> None:
    with unit_of_work(engine) as session:
        register_equipment(session=session, site="main", equipment_id="tm-1")
    record_batch(engine=engine, items=junk(3), tz=UTC)
    with write_transaction(engine) as conn:
        assert purge_old(conn, NOW + timedelta(days=89), days=90) == 0
        assert purge_old(conn, NOW + timedelta(days=91), days=90) == 3
    with read_session(engine) as session:
        assert list_dead_letters(session=session) == []


@pytest.mark.parametrize("number", ["NaN", "Infinity", "-Infinity", "1e999"])
def test_a_number_that_is_not_finite_is_refused_with_a_reason(number: str) -> None:
    payload = f'{{"event_id": "s1", "event": "stop", "duration_s": 5, "metrics": {{"hr": {number}}}}}'.encode()
    decoded = decode(TOPIC, payload, prefix="clinic", received_at=NOW)
    assert getattr(decoded, "reason", "").startswith("payload has a number that is not finite"), decoded
    finite = decode(TOPIC, payload.replace(number.encode(), b"72.5"), prefix="clinic", received_at=NOW)
    assert getattr(finite, "metrics", None) == {"hr": 72.5}
