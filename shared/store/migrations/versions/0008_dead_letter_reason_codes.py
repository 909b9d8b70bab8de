"""dead letter reason codes

Revision 0008 (after 0007), created 2026-12-06 21:40:00.

Each dead letter gets a short stable code beside its reason's text (`unknown_device`, `schema`, ...), which is what
code matches on (the staff app's unknown devices did so on the text). Existing rows are coded from their reason
texts as the code of this revision wrote them; the patterns are frozen here. Self-contained: plain SQLAlchemy,
nothing imported from the domain.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Reason texts (LIKE patterns, matched from the start) -> code, first match wins; anything else stays `other`
# (rejects made outside the device contract's decoder, e.g. by the native dialects, carry no code yet).
CODES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("unknown_device", ("equipment % is not registered at site %",)),
    (
        "unknown_topic",
        (
            "topic % does not start with %",
            "topic % does not match %",
            "site % in topic must match %",
            "equipment id % in topic must match %",
            "channel % is not one of %",
        ),
    ),
    ("too_large", ("payload of % bytes is over the %-byte limit",)),
    (
        "malformed_json",
        (
            "payload is nested % levels deep%",
            "payload has a number that is not finite%",
            "payload is not JSON: %",
            "payload must be a JSON object, got %",
            "usage payload is nested too deeply",
            "cleaning payload is nested too deeply",
            "fault payload is nested too deeply",
        ),
    ),
    ("bad_text", ("payload text contains %",)),
    ("unsupported_version", ("unsupported payload version %",)),
    ("schema", ("status payload must be %", "usage payload: %", "cleaning payload: %", "fault payload: %")),
    ("over_quota", ("over the limit of % kept messages per device per hour%",)),
)


def upgrade() -> None:
    """Apply the change."""
    op.add_column("dead_letter", sa.Column("code", sa.String(length=32), server_default="other", nullable=False))
    dead_letter = sa.table("dead_letter", sa.column("reason", sa.Text()), sa.column("code", sa.String(32)))
    reason = dead_letter.c.reason
    coded = sa.case(*((sa.or_(*(reason.like(p) for p in patterns)), code) for code, patterns in CODES), else_="other")
    op.execute(dead_letter.update().values(code=coded))
    op.create_index("ix_dead_letter_code", "dead_letter", ["code"], unique=False)


def downgrade() -> None:
    """Undo it (downgrades are for development; a clinic restores a backup instead)."""
    op.drop_index("ix_dead_letter_code", table_name="dead_letter")
    with op.batch_alter_table("dead_letter", schema=None) as batch_op:
        batch_op.drop_column("code")
