"""Records that hold up (#26): cleaning, maintenance and out-of-service records are append-only, each carries its
predecessor's hash, and `clinic db verify` says whether the chain is intact or names the first broken record:
an edit in SQL, a deleted record and a deleted newest record are all found; the listener's batches and staff
actions writing at once keep one chain."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine, text
from typer.testing import CliRunner

from shared.equipment import board, undo
from shared.equipment.events import Decoded
from shared.equipment.ingest import record_batch
from shared.equipment.maintenance import add_task, mark_done
from shared.equipment.payloads import decode
from shared.equipment.record_chain import verify_chain
from shared.store.db import make_engine, unit_of_work, with_retry
from tests import factories as make
from tests.cli_support import run

START = datetime(2026, 12, 1, 9, tzinfo=UTC)


def cleaned(equipment_id: str, n: int, minutes: float) -> Decoded:
    moment = START + timedelta(minutes=minutes)
    payload = f'{{"event_id": "c{n}", "event": "cleaned", "by": "ben", "ts": "{moment.isoformat()}"}}'.encode()
    return decode(f"clinic/main/equipment/{equipment_id}/cleaning", payload, prefix="clinic", received_at=moment)


def fault(equipment_id: str, n: int, minutes: float, event: str) -> Decoded:
    moment = START + timedelta(minutes=minutes)
    body = '"code": "E7", "severity": "critical", "message": "belt slipping", ' if event == "fault" else ""
    payload = f'{{"event_id": "f{n}", "event": "{event}", {body}"ts": "{moment.isoformat()}"}}'.encode()
    return decode(f"clinic/main/equipment/{equipment_id}/fault", payload, prefix="clinic", received_at=moment)


def records(engine: Engine) -> list[tuple[int, str, str, str | None, bool]]:
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT seq, kind, by, corrects, void FROM equipment_record ORDER BY seq")).all()
    return [(int(s), str(k), str(b), c, bool(v)) for s, k, b, c, v in rows]


def verify(engine: Engine) -> tuple[bool, int | None, str]:
    with engine.connect() as conn:
        report = verify_chain(conn)
    return report.intact, report.broken_seq, report.problem


@pytest.fixture
def history(engine: Engine) -> Engine:
    """Six records: a device's cleaning, a fault that took the treadmill out of service and its clearing, a staff
    cleaning that was undone (its record and a correction voiding it), and a calibration done."""
    make.station(engine, "tm-1", "Treadmill 1")
    record_batch(engine=engine, items=[cleaned("tm-1", 1, 0), fault("tm-1", 2, 5, "fault")], tz=UTC)
    record_batch(engine=engine, items=[fault("tm-1", 3, 30, "cleared")], tz=UTC)
    with unit_of_work(engine) as session:
        done = undo.act(session=session, action="cleaned", site="main", equipment_id="tm-1", by="ana", tz=UTC,
                        now=START + timedelta(minutes=40))  # fmt: skip
    with unit_of_work(engine) as session:
        undo.undo(session=session, done=done, by="ana", tz=UTC, now=START + timedelta(minutes=41))
    with unit_of_work(engine) as session:
        add_task(session=session, site="main", equipment_id="tm-1", task="Calibration", every_days=365, by="ana",
                 now=START)  # fmt: skip
        mark_done(session=session, site="main", equipment_id="tm-1", task="calibration", by="tom", notes="speed ok",
                  now=START + timedelta(hours=2))  # fmt: skip
    return engine


def test_every_cleaning_fault_and_correction_is_a_record_and_the_chain_is_intact(history: Engine) -> None:
    assert records(history) == [
        (1, "cleaning", "ben", None, False),
        (2, "out_of_service", "device", None, False),
        (3, "back_in_service", "device", None, False),
        (4, "cleaning", "ana", None, False),
        (5, "correction", "ana", 4, True),  # the undo: the record stays, a correction voids it
        (6, "maintenance", "tom", None, False),
    ]
    assert verify(history) == (True, None, "")


def test_editing_a_record_in_sql_is_detected(history: Engine) -> None:
    with history.begin() as conn:
        conn.execute(text("UPDATE equipment_record SET by = 'someone else' WHERE seq = 4"))
    assert verify(history) == (False, 4, "its fields do not match its hash (it was edited)")


def test_rewriting_a_records_hash_after_editing_it_breaks_the_next_link(history: Engine) -> None:
    with history.begin() as conn:
        conn.execute(text("UPDATE equipment_record SET notes = 'x', hash = :h WHERE seq = 2"), {"h": "f" * 64})
    assert verify(history) == (False, 2, "its fields do not match its hash (it was edited)")


def test_deleting_a_record_is_detected(history: Engine) -> None:
    with history.begin() as conn:
        conn.execute(text("DELETE FROM equipment_record WHERE seq = 3"))
    assert verify(history) == (False, 4, "record 3 is missing before it (deleted)")


def test_deleting_the_newest_record_is_detected(history: Engine) -> None:
    with history.begin() as conn:
        conn.execute(text("DELETE FROM equipment_record WHERE seq = 6"))
    intact, seq, problem = verify(history)
    assert (intact, seq) == (False, None)
    assert problem == "the chain ends at record 5 but its head says record 6 (the newest records were deleted)"


def test_the_listener_and_staff_writing_at_once_keep_one_chain(engine: Engine, db_url: str) -> None:
    """A listener thread ingests 40 batches of cleanings at two stations while a staff thread marks a third
    station cleaned 40 times, each on its own engine (as the listener and the staff app are separate processes)."""
    for eid in ("tm-1", "tm-2", "bike-1"):
        make.station(engine, eid, eid)
    go = threading.Barrier(2)
    errors: list[BaseException] = []

    def listener() -> None:
        own = make_engine(db_url)
        try:
            go.wait()
            for n in range(40):
                items = [cleaned("tm-1", 2 * n, n), cleaned("tm-2", 2 * n + 1, n)]
                with_retry(lambda items=items: record_batch(engine=own, items=items, tz=UTC))  # type: ignore[misc]
        except BaseException as exc:  # reported by the test below
            errors.append(exc)
        finally:
            own.dispose()

    def staff() -> None:
        own = make_engine(db_url)
        try:
            go.wait()
            for n in range(40):
                def clean(n: int = n) -> None:
                    with unit_of_work(own) as session:
                        board.mark_cleaned(session=session, site="main", equipment_id="bike-1", by="ana", tz=UTC,
                                           now=START + timedelta(minutes=n, seconds=30))  # fmt: skip
                with_retry(clean)
        except BaseException as exc:
            errors.append(exc)
        finally:
            own.dispose()

    threads = [threading.Thread(target=listener), threading.Thread(target=staff)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert errors == []
    kept = records(engine)
    assert [seq for seq, *_ in kept] == list(range(1, 121))
    assert sorted(by for _, _, by, _, _ in kept) == ["ana"] * 40 + ["ben"] * 80
    assert verify(engine) == (True, None, "")


def test_clinic_db_verify_says_intact_or_names_the_first_broken_record(cli: CliRunner, db_url: str) -> None:
    engine = make_engine(db_url)
    try:
        make.station(engine, "tm-1", "Treadmill 1")
        record_batch(engine=engine, items=[cleaned("tm-1", n, n) for n in range(3)], tz=UTC)
        code, out, _ = run(cli, "db", "verify")
        assert code == 0
        assert out.startswith("records intact: 3 records, chain head ")
        with engine.begin() as conn:
            conn.execute(text("UPDATE equipment_record SET at = at WHERE seq = 2"))  # a no-op edit changes nothing
            conn.execute(text("UPDATE equipment_record SET disinfectant = 'Bleach' WHERE seq = 2"))
        code, out, _ = run(cli, "db", "verify")
        assert code == 1
        assert out.strip() == ("records BROKEN at record 2: its fields do not match its hash (it was edited) "
                               "(1 record before it intact)")  # fmt: skip
    finally:
        engine.dispose()
