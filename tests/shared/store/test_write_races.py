"""Writes that race at two kiosks or two phones at once: every wrong guess counts, one tap wins (both backends)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import TypeVar

import pytest
from sqlalchemy import Engine, select

from shared.care import checkin
from shared.care.appointments import add_appointment
from shared.care.cards import issue_card
from shared.care.models import QrToken
from shared.care.patients import add_patient
from shared.equipment import board
from shared.equipment.stations import register_equipment
from shared.staff.accounts import create_account
from shared.staff.models import StaffAccount
from shared.staff.sign_in import REFUSED, sign_in
from shared.store.db import read_session, unit_of_work
from shared.store.errors import ValidationFailed
from shared.store.settings import Settings
from tests import lobby_steps

T = TypeVar("T")
PARALLEL = 4
DOB = date(1950, 4, 17)


def _at_once(action: Callable[[], T], count: int = PARALLEL) -> list[T | BaseException]:
    """Run `action` in `count` threads released together; each result, or the exception it raised."""
    barrier = threading.Barrier(count)
    results: list[T | BaseException] = [RuntimeError("did not run")] * count

    def run(index: int) -> None:
        barrier.wait()
        try:
            results[index] = action()
        except BaseException as exc:
            results[index] = exc

    threads = [threading.Thread(target=run, args=(n,)) for n in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


def test_parallel_wrong_passwords_all_count(engine: Engine) -> None:
    create_account(engine=engine, username="admin", password="correct horse battery", role="admin")

    def guess() -> object:
        with unit_of_work(engine) as session:  # each browser's sign-in: one unit of work, as the staff app's
            return sign_in(session=session, username="admin", password="wrong password!")

    results = _at_once(guess)
    assert [r.message for r in results if not isinstance(r, BaseException)] == [REFUSED] * 4
    with engine.connect() as conn:
        failed = conn.execute(select(StaffAccount.failed_attempts)).scalar_one()
    assert failed == PARALLEL, "no failed sign-in may be lost, or the lock-out could be outrun"
    with unit_of_work(engine) as session:
        sign_in(session=session, username="admin", password="wrong password!")
    with engine.connect() as conn:
        assert conn.execute(select(StaffAccount.locked_until)).scalar_one() is not None, "the fifth pauses it"


def test_parallel_wrong_birth_dates_all_count(engine: Engine) -> None:
    settings = Settings(timezone="UTC", _env_file=None)  # type: ignore[call-arg]
    with unit_of_work(engine) as session:
        patient = add_patient(session=session, first="Maria", last="Gonzalez", dob=DOB)
    assert patient.id is not None
    with unit_of_work(engine) as session:
        add_appointment(
            session=session, patient_id=patient.id, starts_at=datetime.now(UTC) + timedelta(minutes=5), site="main"
        )
    with unit_of_work(engine) as session:
        token = issue_card(session=session, patient_id=patient.id, base_url="https://lobby.example").token
    results = _at_once(lambda: lobby_steps.confirm(engine=engine, settings=settings, token=token, dob=date(1960, 1, 1)))
    assert sorted(r.attempts_left for r in results if isinstance(r, checkin.Outcome)) == [1, 2, 3, 4]
    with engine.connect() as conn:
        assert conn.execute(select(QrToken.failed_dob_attempts)).scalar_one() == PARALLEL
    assert lobby_steps.confirm(engine=engine, settings=settings, token=token, dob=date(1960, 1, 1)).result == "locked"
    assert lobby_steps.confirm(engine=engine, settings=settings, token=token, dob=DOB).result == "locked", (
        "the right date waits out the pause"
    )


@pytest.mark.parametrize("action", ["start", "end"])
def test_two_taps_at_once_start_or_end_a_use_once(engine: Engine, action: str) -> None:
    with unit_of_work(engine) as session:
        register_equipment(session=session, site="main", equipment_id="tm-1", name="Treadmill 1")
    if action == "end":
        with unit_of_work(engine) as session:
            board.start_use(session=session, site="main", equipment_id="tm-1", by="alex", tz=UTC)
    act = board.start_use if action == "start" else board.end_use

    def tap() -> None:
        with unit_of_work(engine) as session:  # each phone's tap: one unit of work, as the staff app's
            act(session=session, site="main", equipment_id="tm-1", by="alex", tz=UTC)

    results = _at_once(tap, count=2)
    refused = [r for r in results if isinstance(r, ValidationFailed)]
    assert len(refused) == 1, results
    assert not [r for r in results if isinstance(r, BaseException) and not isinstance(r, ValidationFailed)]
    with read_session(engine) as session:
        view = board.get_station(session=session, site="main", equipment_id="tm-1", tz=UTC)
    assert view.uses_total == 1
    assert view.status == ("in_use" if action == "start" else "needs_cleaning")
