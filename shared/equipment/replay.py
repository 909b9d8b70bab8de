"""Replay kept messages through the same decoder and ingest as live ones (e.g. after registering a device)."""

from __future__ import annotations

from sqlalchemy import Engine

from shared.equipment.dead_letters import ReplayOutcome, list_dead_letters, resolve_dead_letters
from shared.equipment.events import Decoded
from shared.equipment.payloads import decode
from shared.store.db import read_session
from shared.store.settings import Settings

REPLAY_CHUNK = 500


def replay_dead_letters(
    *, engine: Engine, settings: Settings, site: str | None = None, equipment_id: str | None = None
) -> ReplayOutcome:
    """Re-process every kept message (optionally one site's or one device's); returns what was recorded.

    Owns its transactions: it re-ingests in batches of `REPLAY_CHUNK`, one write transaction each."""
    # A truncated payload is not the message that was sent: it cannot be replayed, and keeps its reason.
    with read_session(engine) as session:
        kept = list_dead_letters(session=session, site=site, equipment_id=equipment_id)
    letters = [d for d in kept if not d.truncated]
    recorded = still = 0
    for start in range(0, len(letters), REPLAY_CHUNK):
        chunk = letters[start : start + REPLAY_CHUNK]
        decoded: dict[int, Decoded] = {
            letter.id: decode(letter.topic, letter.raw, prefix=settings.topic_prefix, received_at=letter.received_at)
            for letter in chunk
        }
        outcome = resolve_dead_letters(engine=engine, decoded=decoded, tz=settings.tz)
        recorded += outcome.recorded
        still += outcome.still_kept
    return ReplayOutcome(recorded=recorded, still_kept=still)
