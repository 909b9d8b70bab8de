"""The patient's take-home link that lasts: one working link per patient for CLINIC_PLAN_LINK_DAYS, opening the
plan of the day it is opened, and the same link every time staff or the lobby ask for it.

Only the token's hash finds a link (as for the day links of plan_shares.py); to show the same link again the
token is also kept sealed with a key that lives in the data folder (`plan-links.key`, 0600), not in the store:
a copied database alone opens no link. A key that is lost or replaced makes the next request issue a new link
and revoke the old one.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken
from sqlmodel import Session, col, select

from shared.care.models import PlanShare
from shared.care.plan_shares import revoke_shares, share_url
from shared.care.qr import hash_token, new_token
from shared.staff.audit import audit
from shared.store.clock import local_today
from shared.store.private_files import private_dir, write_private
from shared.store.types import utcnow

KEY_FILE = "plan-links.key"


@dataclass(frozen=True, slots=True)
class HomeLink:
    """A patient's current take-home link: its token, when it ends, and whether this request made it."""

    token: str
    expires_at: datetime
    created: bool

    def url(self, base_url: str) -> str:
        """The address a phone opens (the lobby's, with the token: nothing about the patient)."""
        return share_url(base_url, self.token)


def link_key(data_dir: Path) -> bytes:
    """The key that seals take-home tokens, made on first use in the data folder (readable by its owner only)."""
    path = data_dir / KEY_FILE
    if not path.exists():
        private_dir(data_dir)
        write_private(path, Fernet.generate_key())
    return path.read_bytes().strip()


def current_link(
    *,
    session: Session,
    patient_id: int,
    site: str,
    tz: tzinfo,
    key: bytes,
    days: int,
    language: str | None = None,
    now: datetime | None = None,
    actor: str | None = None,
) -> HomeLink:
    """The patient's working take-home link, or a new one lasting `days` when none works (or its token can no
    longer be unsealed: then the old one is revoked). With `actor`, a new link is recorded in the audit log."""
    now = now or utcnow()
    fernet = Fernet(key)
    share = _working(session, patient_id, now)
    if share is not None and share.sealed_token:
        try:
            token = fernet.decrypt(share.sealed_token.encode()).decode()
        except InvalidToken:
            revoke_shares(session=session, patient_id=patient_id, now=now)
        else:
            return HomeLink(token=token, expires_at=share.expires_at, created=False)
    token = new_token()
    expires = now + timedelta(days=days)
    session.add(PlanShare(token_hash=hash_token(token), patient_id=patient_id, site=site, day=local_today(now, tz),
                          language=language, created_at=now, expires_at=expires, lasting=True,
                          sealed_token=fernet.encrypt(token.encode()).decode()))  # fmt: skip
    session.flush()
    if actor is not None:
        audit(session, actor=actor, action="plan.link", target=f"patient {patient_id}",
              detail={"expires_at": expires.isoformat()})  # fmt: skip
    return HomeLink(token=token, expires_at=expires, created=True)


def _working(session: Session, patient_id: int, now: datetime) -> PlanShare | None:
    query = (
        select(PlanShare)
        .where(col(PlanShare.patient_id) == patient_id, col(PlanShare.lasting), col(PlanShare.revoked_at).is_(None),
               col(PlanShare.expires_at) > now)
        .order_by(col(PlanShare.expires_at).desc(), col(PlanShare.id).desc())
    )  # fmt: skip
    return session.exec(query).first()
