"""Tables of the staff side: accounts and the audit log."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, Index, Text
from sqlmodel import Field, SQLModel

from shared.store.types import utc_column, utcnow

ROLES = ("technician", "front_desk", "manager", "admin")


class StaffAccount(SQLModel, table=True):
    """A staff member who signs in to the staff app; only a memory-hard hash of the password is kept."""

    __tablename__ = "staff_account"

    id: int | None = Field(default=None, primary_key=True)
    username: str = Field(max_length=64, unique=True)
    display_name: str = Field(default="", max_length=100)
    role: str = Field(max_length=16)
    password_hash: str = Field(max_length=300)
    failed_attempts: int = 0
    locked_until: datetime | None = Field(default=None, sa_column=utc_column())
    disabled: bool = False
    created_at: datetime = Field(default_factory=utcnow, sa_column=utc_column(nullable=False))
    last_login_at: datetime | None = Field(default=None, sa_column=utc_column())


class AuditEntry(SQLModel, table=True):
    """Who changed what, when: every change made through the staff app or the admin CLI."""

    __tablename__ = "audit_entry"
    __table_args__ = (Index("ix_audit_at", "at"),)

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(default_factory=utcnow, sa_column=utc_column(nullable=False))
    actor: str = Field(max_length=64)
    action: str = Field(max_length=64)
    target: str = Field(default="", max_length=200)
    detail: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))


class StaffWebSession(SQLModel, table=True):
    """A browser signed in to the staff app: its cookie holds a random id of which only the SHA-256 is kept, so
    a copy of the database signs nobody in; ending the row (sign-out, idle, expiry) ends the cookie's power."""

    __tablename__ = "staff_web_session"

    id: int | None = Field(default=None, primary_key=True)
    account_id: int = Field(foreign_key="staff_account.id", index=True)
    token_hash: str | None = Field(default=None, max_length=64, unique=True)  # set when the browser claims it
    handoff_hash: str | None = Field(default=None, max_length=64, unique=True)  # one-time, for the claim
    handoff_until: datetime | None = Field(default=None, sa_column=utc_column())
    agent_hash: str = Field(max_length=64)  # the browser's User-Agent: a cookie copied elsewhere does not fit
    created_at: datetime = Field(default_factory=utcnow, sa_column=utc_column(nullable=False))
    last_seen_at: datetime = Field(default_factory=utcnow, sa_column=utc_column(nullable=False))
    expires_at: datetime = Field(sa_column=utc_column(nullable=False))
    ended_at: datetime | None = Field(default=None, sa_column=utc_column())
    end_reason: str = Field(default="", max_length=16)
