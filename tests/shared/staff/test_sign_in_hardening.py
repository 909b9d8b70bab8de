"""Sign-in against someone guessing: nothing tells which usernames exist, and nobody can lock the admin out."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, event

from shared.staff import passwords
from shared.staff.accounts import create_account
from shared.staff.sign_in import REFUSED, SignIn, sign_in
from shared.staff.sign_in_guard import MAX_WAIT_S, SourceGuard
from shared.store.db import unit_of_work

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
PASSWORD = "correct horse battery"
STRANGER, FRONT_DESK = "203.0.113.9", "192.168.1.20"


def signing_in(engine: Engine, **kwargs: Any) -> SignIn:
    """A sign-in as the staff app runs it: in a unit of work of its own."""
    with unit_of_work(engine) as session:
        return sign_in(session=session, **kwargs)


@pytest.fixture
def work(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, int]]:
    """Counts of what a sign-in costs: password hashes computed and SQL statements run."""
    counts = {"scrypt": 0, "sql": 0}
    real = passwords._scrypt

    def counted(*args: object) -> bytes:
        counts["scrypt"] += 1
        return real(*args)  # type: ignore[arg-type]

    def statement(*_args: object) -> None:
        counts["sql"] += 1

    monkeypatch.setattr(passwords, "_scrypt", counted)
    event.listen(engine, "before_cursor_execute", statement)
    yield counts
    event.remove(engine, "before_cursor_execute", statement)


def _cost(engine: Engine, work: dict[str, int], username: str, password: str, **kwargs: object) -> tuple[str, int, int]:
    before = dict(work)
    answer = signing_in(engine, username=username, password=password, now=NOW, **kwargs)
    return answer.message, work["scrypt"] - before["scrypt"], work["sql"] - before["sql"]


def test_unknown_user_wrong_password_and_paused_account_answer_alike_for_the_same_work(
    engine: Engine, work: dict[str, int]
) -> None:
    create_account(engine=engine, username="admin", password=PASSWORD, role="admin")
    create_account(engine=engine, username="paused", password=PASSWORD, role="technician")
    passwords.dummy_hash()  # made once per process, before the first unknown name
    for _ in range(5):
        signing_in(engine, username="paused", password="bad password!", now=NOW)
    answers = {
        "unknown user": _cost(engine, work, "nobody", PASSWORD),
        "wrong password": _cost(engine, work, "admin", "bad password!"),
        "paused account, right password": _cost(engine, work, "paused", PASSWORD),
    }
    assert set(answers.values()) == {(REFUSED, 1, answers["unknown user"][2])}, answers


def test_a_stranger_who_pauses_the_admin_does_not_lock_out_the_admin_at_the_front_desk(engine: Engine) -> None:
    create_account(engine=engine, username="admin", password=PASSWORD, role="admin")
    guard = SourceGuard()
    for _ in range(5):
        guess = signing_in(engine, username="admin", password="guess!!!!!", now=NOW, source=STRANGER, guard=guard)
        assert guess.message == REFUSED
    stranger = signing_in(engine, username="admin", password=PASSWORD, now=NOW, source=STRANGER, guard=guard)
    assert stranger.user is None
    desk = signing_in(engine, username="admin", password=PASSWORD, now=NOW, source=FRONT_DESK, guard=guard)
    assert desk.user is not None


def test_a_source_that_keeps_guessing_waits_longer_each_time_up_to_fifteen_minutes() -> None:
    guard, clock, waits = SourceGuard(), 0.0, []
    for _ in range(5):
        guard.failed(STRANGER, clock)
    for _ in range(12):
        waits.append(guard.wait_s(STRANGER, clock))
        clock += waits[-1]
        guard.failed(STRANGER, clock)
    assert waits[:4] == [2.0, 4.0, 8.0, 16.0]
    assert max(waits) == MAX_WAIT_S and waits[-1] == MAX_WAIT_S
    assert guard.wait_s(FRONT_DESK, clock) == 0, "other browsers are not slowed"
    assert guard.wait_s(STRANGER, clock + 3601 + MAX_WAIT_S) == 0, "an hour without failures starts afresh"


def test_a_waiting_source_is_told_how_long_and_its_guesses_are_not_even_checked(
    engine: Engine, work: dict[str, int]
) -> None:
    create_account(engine=engine, username="admin", password=PASSWORD, role="admin")
    guard = SourceGuard()
    for _ in range(5):
        signing_in(engine, username="admin", password="guess!!!!!", now=NOW, source=STRANGER, guard=guard)
    message, hashes, _ = _cost(engine, work, "admin", PASSWORD, source=STRANGER, guard=guard)
    assert message == "Too many failed sign-ins from this device. Please wait 2 seconds."
    assert hashes == 0
    later = signing_in(engine, username="admin", password="guess!!!!!", now=NOW + timedelta(seconds=3),
                    source=STRANGER, guard=guard)  # fmt: skip
    assert later.message == REFUSED
