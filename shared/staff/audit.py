"""The audit log: who did what, written in the same transaction as the change it records."""

from __future__ import annotations

import json

from sqlmodel import Session, col, select

from shared.staff.models import AuditEntry


def audit(
    session: Session, *, actor: str, action: str, target: str = "", detail: dict[str, object] | None = None
) -> None:
    """Add an audit entry to the caller's transaction (so the change and its record commit together)."""
    session.add(AuditEntry(actor=actor, action=action, target=target[:200], detail=json.dumps(detail or {})))


def recent_audit(*, session: Session, limit: int = 200) -> list[AuditEntry]:
    """The newest audit entries first."""
    query = select(AuditEntry).order_by(col(AuditEntry.at).desc(), col(AuditEntry.id).desc()).limit(limit)
    return list(session.exec(query).all())
