"""Column types every table uses: UTC datetimes on both backends, big ids, and `utcnow`."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import BigInteger, Column, DateTime, Integer
from sqlalchemy.engine import Dialect
from sqlalchemy.types import String, TypeDecorator, TypeEngine


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every backend.

    SQLite has no datetime type: values are stored as UTC text in SQLAlchemy's own layout
    ("2026-11-23 10:30:00.000000", always with microseconds, so text order is time order), formatted here in
    one step because converting datetimes was a fifth of the ingest time.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "sqlite":
            return dialect.type_descriptor(SQLiteDateTimeText())
        return dialect.type_descriptor(DateTime(timezone=True))

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        if dialect.name == "sqlite":
            return value.astimezone(UTC).replace(tzinfo=None).isoformat(" ", "microseconds")
        return value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if isinstance(value, str):
            return from_sqlite_text(value)
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def from_sqlite_text(value: str) -> datetime:
    """A UTCDateTime's stored SQLite text back as an aware UTC datetime (for rows read without the column type)."""
    parsed = datetime.fromisoformat(value)
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


class SQLiteDateTimeText(String):
    """How SQLite declares UTCDateTime columns (DATETIME affinity, values bound as text)."""

    __visit_name__ = "DATETIME"


def utc_column(*, nullable: bool = True, index: bool = False) -> Any:
    """A column of `UTCDateTime` for use as `sa_column`."""
    return Column(UTCDateTime(), nullable=nullable, index=index)


BIG_ID = BigInteger().with_variant(Integer(), "sqlite")  # SQLite only autoincrements INTEGER PRIMARY KEY


def utcnow() -> datetime:
    """Now, as an aware UTC datetime."""
    return datetime.now(UTC)
