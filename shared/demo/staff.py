"""Demo staff accounts, one per role, with fresh passwords printed at each `clinic up` (demo data only)."""

from __future__ import annotations

import secrets

from sqlalchemy import Engine

from shared.staff.accounts import create_account, list_accounts, update_account
from shared.store.db import read_session

DEMO_STAFF = (("admin", "admin", "Demo admin"), ("tech", "technician", "Demo technician"),
              ("desk", "front_desk", "Demo front desk"), ("manager", "manager", "Demo manager"))  # fmt: skip


def ensure_demo_staff(*, engine: Engine) -> list[tuple[str, str, str]]:
    """(username, role, password) of each demo account, created or given a new password now.

    Only accounts this function created (named "Demo ...") are touched; a real account with the same
    username is left alone and not listed. Takes the engine: creating an account or setting its password
    hashes it before its own write transaction.
    """
    with read_session(engine) as session:
        existing = {a.username: a for a in list_accounts(session=session)}
    out = []
    for username, role, display in DEMO_STAFF:
        password = secrets.token_urlsafe(9)
        account = existing.get(username)
        if account is None:
            create_account(engine=engine, username=username, password=password, role=role, display_name=display,
                           actor="demo")  # fmt: skip
        elif account.display_name == display:
            update_account(engine=engine, username=username, actor="demo", password=password)
        else:
            continue
        out.append((username, role, password))
    return out
