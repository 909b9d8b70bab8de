"""Tables of outcomes and adherence: the home-exercise log written through a take-home link, the pain a patient
reports from home, the link's recent writes (its rate limit), and the alerts a high answer raises for staff."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import CheckConstraint, Column, ForeignKey, Index, Integer, UniqueConstraint
from sqlmodel import Field, SQLModel

from shared.store.types import utc_column, utcnow

ALERT_SOURCES = ("lobby", "questionnaire", "phone")


class ExerciseLog(SQLModel, table=True):
    """One plan line done on one of the patient's local days (ticking twice is still one row)."""

    __tablename__ = "exercise_log"
    __table_args__ = (
        UniqueConstraint("plan_item_id", "day", name="uq_exercise_log_item_day"),
        Index("ix_exercise_log_patient_day", "patient_id", "day"),
    )

    id: int | None = Field(default=None, primary_key=True)
    patient_id: int = Field(sa_column=Column(Integer, ForeignKey("patient.id", ondelete="CASCADE"), nullable=False))
    plan_item_id: int = Field(
        sa_column=Column(Integer, ForeignKey("plan_item.id", ondelete="CASCADE"), nullable=False)
    )
    day: date
    done_at: datetime = Field(default_factory=utcnow, sa_column=utc_column(nullable=False))
    share_id: int | None = Field(
        default=None, sa_column=Column(Integer, ForeignKey("plan_share.id", ondelete="SET NULL"), nullable=True)
    )


class HomePain(SQLModel, table=True):
    """The pain (0-10) a patient gave on the take-home page for a local day; answering again replaces it."""

    __tablename__ = "home_pain"
    __table_args__ = (
        UniqueConstraint("patient_id", "day", name="uq_home_pain_patient_day"),
        CheckConstraint("pain >= 0 AND pain <= 10", name="ck_home_pain_pain"),
    )

    id: int | None = Field(default=None, primary_key=True)
    patient_id: int = Field(sa_column=Column(Integer, ForeignKey("patient.id", ondelete="CASCADE"), nullable=False))
    day: date
    pain: int
    at: datetime = Field(default_factory=utcnow, sa_column=utc_column(nullable=False))
    share_id: int | None = Field(
        default=None, sa_column=Column(Integer, ForeignKey("plan_share.id", ondelete="SET NULL"), nullable=True)
    )


class LinkWrite(SQLModel, table=True):
    """One write through a take-home link, kept a minute: what its rate limit counts."""

    __tablename__ = "link_write"
    __table_args__ = (Index("ix_link_write_share_at", "share_id", "at"),)

    id: int | None = Field(default=None, primary_key=True)
    share_id: int = Field(sa_column=Column(Integer, ForeignKey("plan_share.id", ondelete="CASCADE"), nullable=False))
    at: datetime = Field(sa_column=utc_column(nullable=False))


class PatientAlert(SQLModel, table=True):
    """A flag for the therapist: a high pain answer or a 'very hard' session, open until staff acknowledge it.

    A patient has at most one open alert (the partial unique index): a second high answer adds nothing."""

    __tablename__ = "patient_alert"
    __table_args__ = (
        Index("uq_patient_alert_open", "patient_id", unique=True, sqlite_where=Column("acknowledged_at").is_(None),
              postgresql_where=Column("acknowledged_at").is_(None)),
    )  # fmt: skip

    id: int | None = Field(default=None, primary_key=True)
    patient_id: int = Field(sa_column=Column(Integer, ForeignKey("patient.id", ondelete="CASCADE"), nullable=False))
    site: str | None = Field(default=None, max_length=64)  # where it was raised, when known
    reason: str = Field(max_length=16)  # "pain" or "effort"
    source: str = Field(max_length=16)  # one of ALERT_SOURCES
    value: int | None = None  # the pain answer
    raised_at: datetime = Field(sa_column=utc_column(nullable=False, index=True))
    acknowledged_at: datetime | None = Field(default=None, sa_column=utc_column())
    acknowledged_by: str | None = Field(default=None, max_length=64)
