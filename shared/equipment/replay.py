"""Replay kept messages through the same decoder and ingest as live ones (e.g. after registering a device)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Engine, or_
from sqlmodel import Session, col, select

from shared.equipment.dead_letters import ReplayOutcome, resolve_dead_letters
from shared.equipment.events import Decoded
from shared.equipment.models import DeadLetter
from shared.equipment.payloads import decode
from shared.equipment.provisioning import BrokerAccounts, register_station
from shared.store.db import unit_of_work
from shared.store.settings import Settings

REPLAY_CHUNK = 500  # kept messages decoded and re-ingested at a time


def replay_kept(
    *, session: Session, settings: Settings, site: str | None = None, equipment_id: str | None = None
) -> ReplayOutcome:
    """Re-process the kept messages (optionally one site's or one device's) in the caller's unit of work, e.g. with
    the registration of their device: all are recorded, or none; returns what was recorded."""
    outcome = ReplayOutcome()
    after: tuple[datetime, int] | None = None
    while letters := _replayable(session, site=site, equipment_id=equipment_id, after=after):
        outcome += _resolve(session, letters, settings)
        after = _last(letters)
    return outcome


def register_and_replay(
    *,
    session: Session,
    accounts: BrokerAccounts,
    settings: Settings,
    site: str,
    equipment_id: str,
    name: str,
    zone: str,
    kind: str,
    actor: str,
) -> ReplayOutcome:
    """Register a device that sent messages before it was known, and record its kept messages, in the caller's
    unit of work (one user action: both, or neither); returns what the replay recorded."""
    register_station(session=session, accounts=accounts, site=site, equipment_id=equipment_id, name=name, zone=zone,
                     kind=kind, actor=actor)  # fmt: skip
    return replay_kept(session=session, settings=settings, site=site, equipment_id=equipment_id.strip())


def replay_dead_letters(
    *, engine: Engine, settings: Settings, site: str | None = None, equipment_id: str | None = None
) -> ReplayOutcome:
    """`replay_kept` in steps, for `clinic deadletters replay` and the center's registrations: every kept message
    may be thousands, so it takes the engine and commits each chunk of `REPLAY_CHUNK` in a unit of work of its
    own, so that the listener's batches never wait behind one long write lock (and a failure keeps the chunks
    already recorded)."""
    outcome = ReplayOutcome()
    after: tuple[datetime, int] | None = None
    while True:
        with unit_of_work(engine) as session:
            letters = _replayable(session, site=site, equipment_id=equipment_id, after=after)
            if not letters:
                return outcome
            outcome += _resolve(session, letters, settings)
        after = _last(letters)


def _replayable(
    session: Session, *, site: str | None, equipment_id: str | None, after: tuple[datetime, int] | None
) -> list[DeadLetter]:
    """The next chunk of kept messages after `after` (oldest first), without truncated ones: a truncated payload
    is not the message that was sent, so it cannot be replayed and keeps its reason."""
    query = select(DeadLetter).where(col(DeadLetter.replayed_at).is_(None), col(DeadLetter.truncated).is_(False))
    if site is not None:
        query = query.where(col(DeadLetter.site) == site)
    if equipment_id is not None:
        query = query.where(col(DeadLetter.equipment_id) == equipment_id)
    if after is not None:
        at, letter_id = after
        received = col(DeadLetter.received_at)
        query = query.where(or_(received > at, (received == at) & (col(DeadLetter.id) > letter_id)))
    query = query.order_by(col(DeadLetter.received_at), col(DeadLetter.id)).limit(REPLAY_CHUNK)
    return list(session.exec(query))


def _resolve(session: Session, letters: list[DeadLetter], settings: Settings) -> ReplayOutcome:
    decoded: dict[int, Decoded] = {
        letter.id: decode(letter.topic, letter.payload, prefix=settings.topic_prefix, received_at=letter.received_at)
        for letter in letters
        if letter.id is not None
    }
    return resolve_dead_letters(session=session, decoded=decoded, tz=settings.tz)


def _last(letters: list[DeadLetter]) -> tuple[datetime, int]:
    last = letters[-1]
    assert last.id is not None
    return last.received_at, last.id
