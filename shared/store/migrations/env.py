"""Alembic's environment: runs the revisions on the connection `shared.store.schema` passes in (no alembic.ini).

Batch mode (`render_as_batch`) makes ALTERs that SQLite cannot do copy the table instead; generated revisions
spell column types in plain SQLAlchemy (`sa.String`, `sa.DateTime(timezone=True)`), so a revision never
depends on today's models. A revision imports nothing of the clinic's code (an import-linter contract): what a
data migration needs from outside, the clinic's time zone, it reads from `context.config.attributes["clinic_tz"]`,
set here from the settings unless the caller passed one.
"""

from __future__ import annotations

from typing import Any, Literal

from alembic import context
from sqlmodel.sql.sqltypes import AutoString

from shared.store.settings import get_settings
from shared.store.types import UTCDateTime
from shared.tables import metadata


def render_item(type_: str, obj: Any, autogen_context: Any) -> str | Literal[False]:
    """Render the models' own column types as the plain SQLAlchemy types they stand for."""
    if type_ == "type" and isinstance(obj, AutoString):
        return f"sa.String(length={obj.length})" if obj.length else "sa.String()"
    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    return False


def run() -> None:
    """Run the revisions in the caller's transaction (Alembic does not commit an external one)."""
    connection = context.config.attributes.get("connection")
    if connection is None:
        raise RuntimeError("run migrations through `clinic db upgrade` (shared.store.schema): it passes the connection")
    if "clinic_tz" not in context.config.attributes:
        context.config.attributes["clinic_tz"] = get_settings().tz  # what "a day" means to data migrations
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=True,
        render_item=render_item,
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


run()
