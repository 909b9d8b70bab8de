"""The phone's home-exercise log: written through a working take-home link only, to its own plan, idempotent,
undoable and rate-limited; the link lasts CLINIC_PLAN_LINK_DAYS and is the same link each time it is asked for."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import Engine

from shared.care.home_links import current_link
from shared.care.plan_shares import revoke_shares
from shared.outcomes.alerts import open_alerts
from shared.outcomes.home_log import LinkRefused, TooManyWrites, note_home_pain, open_home, tick, untick
from shared.store.db import read_session, unit_of_work
from tests.shared.outcomes.home_support import KEY, plan_with_link

NOW = datetime(2026, 12, 7, 18, 30, tzinfo=UTC)
LIMIT = 30


def done_today(engine: Engine, token: str, now: datetime = NOW) -> set[int]:
    """The plan lines the phone page shows ticked."""
    with read_session(engine) as session:
        home = open_home(session=session, token=token, tz=UTC, now=now)
    assert home is not None
    return set(home.done)


def test_ticking_twice_is_one_done_and_a_mistaken_tick_is_undone(engine: Engine) -> None:
    _, (heel, squat), token = plan_with_link(engine, active_from=NOW.date(), now=NOW)
    for _ in range(2):
        with unit_of_work(engine) as session:
            tick(session=session, token=token, plan_item_id=heel, tz=UTC, limit=LIMIT, now=NOW)
    assert done_today(engine, token) == {heel}
    with unit_of_work(engine) as session:
        assert tick(session=session, token=token, plan_item_id=squat, tz=UTC, limit=LIMIT, now=NOW) is True
        assert tick(session=session, token=token, plan_item_id=squat, tz=UTC, limit=LIMIT, now=NOW) is False
    with unit_of_work(engine) as session:
        assert untick(session=session, token=token, plan_item_id=squat, tz=UTC, limit=LIMIT, now=NOW) is True
    assert done_today(engine, token) == {heel}
    assert done_today(engine, token, NOW + timedelta(days=1)) == set()  # a lasting link opens each new day


def test_expired_revoked_unknown_and_foreign_tokens_are_refused_alike(engine: Engine) -> None:
    maria, (heel, _), token = plan_with_link(engine, active_from=NOW.date(), now=NOW, days=3)
    _, (james_heel, _), james_token = plan_with_link(engine, first="James", active_from=NOW.date(), now=NOW)
    attempts = [
        (token, james_heel, NOW),  # Maria's link naming James's plan line
        (token, heel, NOW + timedelta(days=3)),  # expired
        ("x" * 32, heel, NOW),  # unknown
    ]
    for attempt_token, item, at in attempts:
        with unit_of_work(engine) as session, pytest.raises(LinkRefused, match=r"^this link has ended$"):
            tick(session=session, token=attempt_token, plan_item_id=item, tz=UTC, limit=LIMIT, now=at)
    with unit_of_work(engine) as session:
        assert revoke_shares(session=session, patient_id=maria, now=NOW) == 1
    with unit_of_work(engine) as session, pytest.raises(LinkRefused):
        untick(session=session, token=token, plan_item_id=heel, tz=UTC, limit=LIMIT, now=NOW)
    with unit_of_work(engine) as session, pytest.raises(LinkRefused):
        note_home_pain(session=session, token=token, pain=9, tz=UTC, limit=LIMIT, now=NOW)
    with read_session(engine) as session:
        assert open_home(session=session, token=token, tz=UTC, now=NOW) is None
    assert done_today(engine, james_token) == set()


def test_a_link_sends_at_most_its_limit_a_minute(engine: Engine) -> None:
    _, (heel, squat), token = plan_with_link(engine, active_from=NOW.date(), now=NOW)
    for n in range(3):
        with unit_of_work(engine) as session:
            tick(session=session, token=token, plan_item_id=heel, tz=UTC, limit=3, now=NOW + timedelta(seconds=n))
    with unit_of_work(engine) as session, pytest.raises(TooManyWrites, match="at most 3 changes a minute"):
        tick(session=session, token=token, plan_item_id=squat, tz=UTC, limit=3, now=NOW + timedelta(seconds=30))
    assert done_today(engine, token) == {heel}
    with unit_of_work(engine) as session:  # a minute after the first write, one more fits
        tick(session=session, token=token, plan_item_id=squat, tz=UTC, limit=3, now=NOW + timedelta(seconds=60))
    assert done_today(engine, token) == {heel, squat}


def test_a_high_pain_from_the_phone_flags_the_patient_once(engine: Engine) -> None:
    _, _, token = plan_with_link(engine, active_from=NOW.date(), now=NOW)
    with unit_of_work(engine) as session:
        assert note_home_pain(session=session, token=token, pain=8, tz=UTC, limit=LIMIT, now=NOW) is True
    with unit_of_work(engine) as session:
        assert note_home_pain(session=session, token=token, pain=9, tz=UTC, limit=LIMIT, now=NOW) is False
    with read_session(engine) as session:
        assert [a.words for a in open_alerts(session=session, site="main")] == ["Pain 8/10 on the take-home page"]
        home = open_home(session=session, token=token, tz=UTC, now=NOW)
    assert home is not None and home.pain == 9


def test_the_lasting_link_is_the_same_each_time_until_it_ends_or_its_key_changes(engine: Engine) -> None:
    maria, _, token = plan_with_link(engine, active_from=NOW.date(), now=NOW, days=42)
    with unit_of_work(engine) as session:
        again = current_link(session=session, patient_id=maria, site="main", tz=UTC, key=KEY, days=42, now=NOW)
    assert (again.token, again.created, again.expires_at) == (token, False, NOW + timedelta(days=42))
    later = NOW + timedelta(days=42)
    with unit_of_work(engine) as session:
        renewed = current_link(session=session, patient_id=maria, site="main", tz=UTC, key=KEY, days=42, now=later)
    assert renewed.created and renewed.token != token
    with unit_of_work(engine) as session:
        other_key = current_link(session=session, patient_id=maria, site="main", tz=UTC, key=Fernet.generate_key(),
                                 days=42, now=later)  # fmt: skip
    assert other_key.created and other_key.token != renewed.token
    with read_session(engine) as session:  # the link that could no longer be shown was revoked
        assert open_home(session=session, token=renewed.token, tz=UTC, now=later) is None
        assert open_home(session=session, token=other_key.token, tz=UTC, now=later) is not None
