"""The audit log: who did what, written in the same transaction as the change it records.

Actors are staff usernames (the staff app) or `cli:<OS user>` (the `clinic` command, `cli_actor`).
"""

from __future__ import annotations

import getpass
import json
from collections.abc import Mapping

from sqlmodel import Session, SQLModel, col, select

from shared.staff.models import AuditEntry

MAX_ACTOR = 64  # AuditEntry.actor's length


def audit(
    session: Session, *, actor: str, action: str, target: str = "", detail: dict[str, object] | None = None
) -> None:
    """Add an audit entry to the caller's transaction (so the change and its record commit together)."""
    session.add(AuditEntry(actor=actor, action=action, target=target[:200], detail=json.dumps(detail or {})))


def apply_changes(
    session: Session,
    row: SQLModel,
    values: Mapping[str, object],
    *,
    actor: str | None = None,
    action: str = "",
    target: str = "",
    detail: dict[str, object] | None = None,
) -> list[str]:
    """Set the fields of `row` whose value differs from `values` and return their names, in `values`' order.

    With `actor` and a change, one audit entry `action` records the names of the changed fields (never their
    values) after `detail`, in the caller's transaction.
    """
    changed = [name for name, value in values.items() if getattr(row, name) != value]
    for name in changed:
        setattr(row, name, values[name])
    session.add(row)
    if actor is not None and changed:
        audit(session, actor=actor, action=action, target=target, detail={**(detail or {}), "changed": changed})
    return changed


def cli_actor(user: str | None = None) -> str:
    """The actor of a `clinic` command: `cli:` and the OS user who ran it (`cli` when it has no name)."""
    if user is None:
        try:
            user = getpass.getuser()
        except (OSError, KeyError):  # no USER/LOGNAME and a uid without a passwd entry (some containers)
            user = ""
    return f"cli:{user}"[:MAX_ACTOR] if user else "cli"


def recent_audit(*, session: Session, limit: int = 200) -> list[AuditEntry]:
    """The newest audit entries first."""
    query = select(AuditEntry).order_by(col(AuditEntry.at).desc(), col(AuditEntry.id).desc()).limit(limit)
    return list(session.exec(query).all())
