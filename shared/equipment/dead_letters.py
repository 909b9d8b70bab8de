"""Dead-letter services: list what was kept, and resolve kept messages once they can be recorded."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, tzinfo

from sqlalchemy import func, select, update
from sqlmodel import Session, col

from shared.equipment.events import Decoded
from shared.equipment.ingest import fingerprint, record_batch_in
from shared.equipment.ingest_rows import DEAD
from shared.equipment.models import DeadLetter
from shared.equipment.payloads import reason_code
from shared.store.types import utcnow


@dataclass(frozen=True, slots=True)
class DeadLetterView:
    """A kept message as people and scripts see it (payload decoded as text, bad bytes replaced)."""

    id: int
    received_at: datetime
    last_received_at: datetime
    seen_count: int
    topic: str
    reason: str
    code: str
    payload: str
    payload_size: int
    truncated: bool
    site: str | None
    equipment_id: str | None
    replayed_at: datetime | None
    raw: bytes

    def as_json(self) -> dict[str, object]:
        """The documented JSON shape of `clinic deadletters --json`."""

        def iso(value: datetime | None) -> str | None:
            return value.isoformat().replace("+00:00", "Z") if value else None

        return {
            "id": self.id,
            "received_at": iso(self.received_at),
            "last_received_at": iso(self.last_received_at),
            "seen_count": self.seen_count,
            "topic": self.topic,
            "reason": self.reason,
            "code": self.code,
            "payload": self.payload,
            "payload_size": self.payload_size,
            "truncated": self.truncated,
            "site": self.site,
            "equipment_id": self.equipment_id,
            "replayed_at": iso(self.replayed_at),
        }


@dataclass(frozen=True, slots=True)
class ReplayOutcome:
    """What a replay did: how many kept messages are now recorded, and how many are still kept."""

    recorded: int = 0
    still_kept: int = 0

    def __add__(self, other: ReplayOutcome) -> ReplayOutcome:
        return ReplayOutcome(self.recorded + other.recorded, self.still_kept + other.still_kept)


def list_dead_letters(
    *,
    session: Session,
    include_replayed: bool = False,
    site: str | None = None,
    equipment_id: str | None = None,
    code: str | None = None,
    limit: int | None = None,
) -> list[DeadLetterView]:
    """Kept messages, oldest first; replayed ones only when asked; `code` keeps those kept for that reason."""
    query = select(DeadLetter).order_by(col(DeadLetter.received_at), col(DeadLetter.id))
    if not include_replayed:
        query = query.where(col(DeadLetter.replayed_at).is_(None))
    if site is not None:
        query = query.where(col(DeadLetter.site) == site)
    if equipment_id is not None:
        query = query.where(col(DeadLetter.equipment_id) == equipment_id)
    if code is not None:
        query = query.where(col(DeadLetter.code) == code)
    if limit is not None:
        query = query.limit(limit)
    return [_view(letter) for letter in session.scalars(query)]


def resolve_dead_letters(*, session: Session, decoded: dict[int, Decoded], tz: tzinfo) -> ReplayOutcome:
    """Record re-decoded kept messages (keyed by their dead letter's id) through ingest, in the caller's unit of
    work; those recorded are marked replayed, the rest keep their new reason and its code."""
    by_fingerprint = {fingerprint(item.topic, item.payload): letter_id for letter_id, item in decoded.items()}
    conn = session.connection()
    result = record_batch_in(conn, list(decoded.values()), tz=tz, keep_rejects=True)
    still = {fingerprint(r.topic, r.payload): r for r in result.rejected}
    now = utcnow()
    for fp, letter_id in by_fingerprint.items():
        reject = still.get(fp)
        values = {"replayed_at": now} if reject is None else {"reason": reject.reason, "code": reason_code(reject)}
        conn.execute(update(DEAD).where(DEAD.c.id == letter_id).values(**values))
    return ReplayOutcome(recorded=len(by_fingerprint) - len(still), still_kept=len(still))


def _view(letter: DeadLetter) -> DeadLetterView:
    assert letter.id is not None
    return DeadLetterView(
        id=letter.id,
        received_at=letter.received_at,
        last_received_at=letter.last_received_at,
        seen_count=letter.seen_count,
        topic=letter.topic,
        reason=letter.reason,
        code=letter.code,
        payload=letter.payload.decode("utf-8", "replace"),
        payload_size=letter.payload_size,
        truncated=letter.truncated,
        site=letter.site,
        equipment_id=letter.equipment_id,
        replayed_at=letter.replayed_at,
        raw=letter.payload,
    )


__all__ = ["DeadLetterView", "ReplayOutcome", "list_dead_letters", "resolve_dead_letters"]


@dataclass(frozen=True, slots=True)
class DeadLetterCounts:
    """How many kept messages wait for a person, and how many of them came lately (for `clinic status`)."""

    kept: int  # not replayed
    new: int  # of those, first received since the time asked about


def dead_letter_counts(*, session: Session, since: datetime) -> DeadLetterCounts:
    """Kept (not replayed) messages, and those first received since `since`; two indexed counts."""
    waiting = select(func.count()).select_from(DeadLetter).where(col(DeadLetter.replayed_at).is_(None))
    kept = session.execute(waiting).scalar_one()
    new = session.execute(waiting.where(col(DeadLetter.received_at) >= since)).scalar_one()
    return DeadLetterCounts(kept=int(kept), new=int(new))
