"""Patients' cards: issuing one (older cards stop working), revoking lost ones, counting working ones."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, update
from sqlmodel import Session, col, select

from shared.care.models import QrToken
from shared.care.patients import get_patient
from shared.care.plan_shares import revoke_shares
from shared.care.qr import card_url, hash_token, new_token
from shared.staff.audit import audit
from shared.store.types import utcnow


@dataclass(frozen=True, slots=True)
class IssuedCard:
    """A new card: the token is shown once (it is stored only as a hash)."""

    patient_id: int
    first_name: str
    token: str
    url: str


def issue_card(*, session: Session, patient_id: int, base_url: str, actor: str | None = None) -> IssuedCard:
    """A new card for the patient; every older card of theirs stops working at once.

    With `actor`, the issue is recorded in the audit log (never the token).
    """
    token = new_token()
    patient = get_patient(session=session, patient_id=patient_id)
    revoked = _revoke(session, patient_id)
    session.add(QrToken(patient_id=patient_id, token_hash=hash_token(token)))
    if actor is not None:
        audit(session, actor=actor, action="patient.card_issued", target=f"patient {patient_id}",
              detail={"older_cards_revoked": revoked})  # fmt: skip
    return IssuedCard(patient_id, patient.first_name, token, card_url(base_url, token))


@dataclass(frozen=True, slots=True)
class Revoked:
    """What revoking a lost card stopped: the patient's cards and the take-home links of their plan."""

    cards: int
    plan_links: int


def revoke_lost_card(
    *, session: Session, patient_id: int, actor: str | None = None, now: datetime | None = None
) -> Revoked:
    """A lost card: every card of the patient and every working take-home link of their plan stop at once.

    The patient must exist. With `actor`, the revocation is recorded in the audit log (the counts only).
    """
    get_patient(session=session, patient_id=patient_id)
    revoked = Revoked(_revoke(session, patient_id), revoke_shares(session=session, patient_id=patient_id, now=now))
    if actor is not None:
        audit(session, actor=actor, action="patient.cards_revoked", target=f"patient {patient_id}",
              detail={"revoked": revoked.cards, "plan_links_revoked": revoked.plan_links})  # fmt: skip
    return revoked


def revoke_cards(*, session: Session, patient_id: int, actor: str | None = None) -> int:
    """`revoke_lost_card`, returning how many cards were active."""
    return revoke_lost_card(session=session, patient_id=patient_id, actor=actor).cards


def active_cards(*, session: Session, patient_id: int) -> int:
    """How many of the patient's cards work (0 or 1 when cards are only issued through `issue_card`)."""
    query = (
        select(func.count())
        .select_from(QrToken)
        .where(QrToken.patient_id == patient_id, col(QrToken.revoked_at).is_(None))
    )
    return int(session.exec(query).one())


def _revoke(session: Session, patient_id: int) -> int:
    result = session.execute(
        update(QrToken)
        .where(col(QrToken.patient_id) == patient_id, col(QrToken.revoked_at).is_(None))
        .values(revoked_at=utcnow())
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
