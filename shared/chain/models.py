"""Tables of a chain's center: the site registry."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel

from shared.store.types import utc_column, utcnow


class ChainSite(SQLModel, table=True):
    """At a chain's center: a site whose bridge may connect and whose equipment the center accepts
    (`clinic chain add-site`). A site's own store has no rows here."""

    __tablename__ = "chain_site"

    site: str = Field(primary_key=True, max_length=64)
    name: str = Field(max_length=200)
    added_at: datetime = Field(default_factory=utcnow, sa_column=utc_column(nullable=False))
