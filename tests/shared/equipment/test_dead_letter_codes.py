"""Reason codes on dead letters (#24): every kept message has a short stable code beside its reason's text; code
matches on the code (the staff app's unknown devices), so rewording a reason breaks nothing; migration 0008 codes
the rows kept before it exactly as today's code would."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import Engine, MetaData, insert, select, update
from typer.testing import CliRunner

from shared.equipment import board
from shared.equipment.dead_letter_limits import OVER_QUOTA
from shared.equipment.events import Rejected
from shared.equipment.ingest import dead_letter, fingerprint, record_batch
from shared.equipment.ingest_rows import DEAD
from shared.equipment.payloads import REASON_CODES, ReasonCode, decode, reason_code
from shared.equipment.replay import register_and_replay, replay_kept
from shared.equipment.stations import register_equipment
from shared.store.db import make_engine, read_session, unit_of_work, write_transaction
from shared.store.schema import _migration_connection, alembic_config
from shared.store.settings import Settings
from tests.cli_support import run, run_json
from tests.conftest import new_pg_database
from tests.transactions import count_transactions

AT = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
SETTINGS = Settings(topic_prefix="clinic", _env_file=None)  # type: ignore[call-arg]
USAGE = "clinic/main/equipment/tm-1/usage"
START = b'{"event_id": "e1", "event": "start"}'
# One message of each kind the contract refuses, with the code it must be kept under.
BAD: list[tuple[str, bytes, ReasonCode]] = [
    ("other/main/equipment/tm-1/usage", b"{}", "unknown_topic"),
    ("clinic/main/devices/tm-1/usage", b"{}", "unknown_topic"),
    ("clinic/main/equipment/TM_1/usage", b"{}", "unknown_topic"),
    ("clinic/main/equipment/tm-1/telemetry", b"{}", "unknown_topic"),
    (USAGE, b'{"event_id": "a", "pad": "' + b"x" * 70_000 + b'"}', "too_large"),
    (USAGE, b"not json", "malformed_json"),
    (USAGE, b"[1, 2]", "malformed_json"),
    (USAGE, b"[" * 40 + b"]" * 40, "malformed_json"),
    (USAGE, b'{"event_id": "a", "event": "start", "duration_s": NaN}', "malformed_json"),
    (USAGE, b'{"event_id": "a", "event": "start", "session_id": "x\\u0000y"}', "bad_text"),
    (USAGE, b'{"v": 2, "event_id": "a", "event": "start"}', "unsupported_version"),
    (USAGE, b'{"event_id": "a", "event": "begin"}', "schema"),
    ("clinic/main/equipment/tm-1/status", b"maybe", "schema"),
    ("clinic/main/equipment/ghost-1/usage", START, "unknown_device"),
]


class NoAccounts:
    """A broker with no device accounts yet (registering only checks that the id's account is free)."""

    def account_site(self, equipment_id: str) -> str | None:
        return None


def kept(engine: Engine) -> dict[str, tuple[str, str]]:
    """Every dead letter's topic -> (code, reason)."""
    with read_session(engine) as session:
        rows = session.execute(select(DEAD.c.topic, DEAD.c.payload, DEAD.c.code, DEAD.c.reason)).all()
    return {f"{topic} {fingerprint(topic, payload)[:8]}": (code, reason) for topic, payload, code, reason in rows}


def letter(topic: str, payload: bytes) -> str:
    return f"{topic} {fingerprint(topic, payload[: 8 * 1024])[:8]}"


@pytest.fixture
def gym(engine: Engine) -> Engine:
    with unit_of_work(engine) as session:
        register_equipment(session=session, site="main", equipment_id="tm-1", name="Treadmill 1")
    return engine


def test_every_kind_of_refused_message_is_kept_under_its_code(gym: Engine) -> None:
    items = [decode(topic, payload, prefix="clinic", received_at=AT) for topic, payload, _ in BAD]
    record_batch(engine=gym, items=items, tz=UTC)
    codes = {key: code for key, (code, _) in kept(gym).items()}
    assert codes == {letter(topic, payload): code for topic, payload, code in BAD}
    # The others are made outside the contract's decoder: over_quota below; native_payload and registration in
    # tests/telemetry (test_native_devices, test_chain_registry); unstorable and internal_error by the writer process.
    made_elsewhere = {"over_quota", "other", "native_payload", "registration", "unstorable", "internal_error"}
    assert set(codes.values()) | made_elsewhere == set(REASON_CODES), "every code is exercised"


def test_a_reject_made_without_a_code_is_kept_as_other_and_a_devices_excess_as_over_quota(gym: Engine) -> None:
    elsewhere = Rejected(USAGE, b"\xff", "topic is not valid UTF-8", AT, site="main", equipment_id="tm-1")
    flood = [decode(USAGE, b"nope %d" % n, prefix="clinic", received_at=AT) for n in range(3)]
    with write_transaction(gym) as conn:
        dead_letter(conn, [elsewhere, *flood], quota=2)
    found = sorted(kept(gym).values())
    assert found == sorted([("other", "topic is not valid UTF-8"), ("malformed_json", found[0][1]),
                            ("over_quota", OVER_QUOTA.format(limit=2))]), found  # fmt: skip


def test_unknown_devices_are_found_by_their_code_whatever_the_reasons_text(gym: Engine) -> None:
    record_batch(engine=gym, items=[decode("clinic/main/equipment/rower-1/usage", START, prefix="clinic",
                                           received_at=AT)], tz=UTC)  # fmt: skip
    record_batch(engine=gym, items=[decode(USAGE, b"{oops", prefix="clinic", received_at=AT)], tz=UTC)
    with write_transaction(gym) as conn:  # the texts reworded: one no longer says so, the other now seems to
        conn.execute(update(DEAD).where(DEAD.c.code == "unknown_device").values(reason="no station rower-1 here"))
        conn.execute(update(DEAD).where(DEAD.c.code != "unknown_device")
                     .values(reason="equipment 'tm-1' is not registered at site 'main'"))  # fmt: skip
    with read_session(gym) as session:
        found = board.unknown_devices(session=session)
    assert [(d.site, d.equipment_id, d.messages, d.registered) for d in found] == [("main", "rower-1", 1, False)]


def test_a_replay_still_refused_keeps_the_new_reason_and_its_code(gym: Engine) -> None:
    record_batch(engine=gym, items=[decode(USAGE.replace("tm-1", "bike-1"), START, prefix="clinic", received_at=AT)],
                 tz=UTC)  # fmt: skip
    assert [code for code, _ in kept(gym).values()] == ["unknown_device"]
    moved = Settings(topic_prefix="gym", _env_file=None)  # type: ignore[call-arg]  # the prefix changed meanwhile
    with unit_of_work(gym) as session:
        register_equipment(session=session, site="main", equipment_id="bike-1", name="Bike 1")
        outcome = replay_kept(session=session, settings=moved, site="main", equipment_id="bike-1")
    assert (outcome.recorded, outcome.still_kept) == (0, 1)
    assert list(kept(gym).values()) == [("unknown_topic", "topic 'clinic/main/equipment/bike-1/usage' does not start "
                                                          "with 'gym/'")]  # fmt: skip


def test_registering_an_unknown_device_and_replaying_its_messages_is_one_transaction(gym: Engine) -> None:
    topic = USAGE.replace("tm-1", "bike-1")
    messages = [decode(topic, b'{"event_id": "b%d", "event": "%s"}' % (n, event), prefix="clinic",
                       received_at=AT.replace(minute=n)) for n, event in enumerate([b"start", b"stop"])]  # fmt: skip
    record_batch(engine=gym, items=messages, tz=UTC)
    with count_transactions(gym) as seen, unit_of_work(gym) as session:  # as the staff app runs it
        outcome = register_and_replay(session=session, accounts=NoAccounts(), settings=SETTINGS, site="main",
                                      equipment_id="bike-1", name="Bike 1", zone="Gym A", kind="bike",
                                      actor="ana")  # fmt: skip
    assert (outcome.recorded, outcome.still_kept) == (2, 0)
    assert (seen.opened, seen.writing) == (1, 1), seen.describe()
    with read_session(gym) as session:
        assert board.unknown_devices(session=session) == []


@pytest.fixture(params=["sqlite", "postgresql"])
def store_at_0007(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """An empty store of its own, upgraded to revision 0007 (before reason codes)."""
    if request.param == "sqlite":
        engine = make_engine(f"sqlite:///{tmp_path / 'old.db'}")
        yield from _upgraded_to_0007(engine)
        return
    with new_pg_database("clinic_codes") as url:
        yield from _upgraded_to_0007(make_engine(url))


def _upgraded_to_0007(engine: Engine) -> Iterator[Engine]:
    try:
        with _migration_connection(engine) as conn, conn.begin():
            command.upgrade(alembic_config(conn), "0007")
        yield engine
    finally:
        engine.dispose()


def test_revision_0008_codes_the_kept_messages_as_todays_code_does(store_at_0007: Engine) -> None:
    rejects = [decode(topic, payload, prefix="clinic", received_at=AT) for topic, payload, _ in BAD]
    rejects = [r for r in rejects if isinstance(r, Rejected)]
    rejects.append(Rejected(USAGE, b"x", "equipment 'ghost-1' is not registered at site 'main'", AT, "main", "ghost-1"))
    rows = [(r.topic, r.payload, r.reason) for r in rejects]
    rows += [(USAGE, b"", OVER_QUOTA.format(limit=100)), (USAGE, b"\xff", "topic is not valid UTF-8"),
             (USAGE, b"y", "shelly: payload is not JSON: Expecting value")]  # fmt: skip
    meta = MetaData()
    meta.reflect(store_at_0007, only=["dead_letter"])
    with store_at_0007.begin() as conn:
        conn.execute(insert(meta.tables["dead_letter"]), [
            {"fingerprint": f"{n:064d}", "received_at": AT, "last_received_at": AT, "seen_count": 1, "topic": topic,
             "payload": payload, "payload_size": len(payload), "truncated": False, "reason": reason}
            for n, (topic, payload, reason) in enumerate(rows)
        ])  # fmt: skip
    with _migration_connection(store_at_0007) as conn, conn.begin():
        command.upgrade(alembic_config(conn), "0008")
    with store_at_0007.connect() as conn:
        coded = dict(conn.execute(select(DEAD.c.reason, DEAD.c.code)).all())
    ghost = rejects[-1]
    expected = {r.reason: reason_code(r) for r in rejects[:-1]} | {ghost.reason: "unknown_device"}
    expected |= {OVER_QUOTA.format(limit=100): "over_quota", "topic is not valid UTF-8": "other",
                 "shelly: payload is not JSON: Expecting value": "other"}  # fmt: skip
    assert coded == expected


def test_clinic_deadletters_shows_each_code_and_keeps_only_those_asked_for(cli: CliRunner, engine: Engine) -> None:
    record_batch(engine=engine, items=[decode(topic, payload, prefix="clinic", received_at=AT)
                                       for topic, payload, _ in BAD[-3:]], tz=UTC)  # fmt: skip
    letters = run_json(cli, "deadletters", "--json")
    assert isinstance(letters, list)
    assert sorted(letter["code"] for letter in letters) == ["schema", "schema", "unknown_device"]
    unknown = run_json(cli, "deadletters", "--code", "unknown_device", "--json")
    assert [(d["topic"], d["code"]) for d in unknown] == [("clinic/main/equipment/ghost-1/usage", "unknown_device")]  # type: ignore[index,union-attr]
    code, table, _ = run(cli, "deadletters", "--code", "schema")
    assert code == 0 and table.splitlines()[0].split() == ["RECEIVED", "TOPIC", "CODE", "REASON", "PAYLOAD"]
    assert len(table.splitlines()) == 3
    code, _, error = run(cli, "deadletters", "--code", "ghost")
    assert code == 2 and "--code 'ghost' is not one of unknown_topic, too_large" in error
