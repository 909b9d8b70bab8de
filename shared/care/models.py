"""Tables of the care side: patients, appointments, the exercise library, plans, QR tokens, check-ins and the
patients' feedback after a session."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Boolean, CheckConstraint, Column, ForeignKey, Index, Integer, Text, UniqueConstraint, false
from sqlmodel import Field, SQLModel

from shared.store.types import utc_column, utcnow

APPOINTMENT_STATUSES = ("scheduled", "arrived", "in_session", "done", "no_show")


class Patient(SQLModel, table=True):
    """A patient; the lobby only ever shows the first name and the last initial."""

    __tablename__ = "patient"
    __table_args__ = (UniqueConstraint("identifier_system", "identifier_value", name="uq_patient_identifier"),)

    id: int | None = Field(default=None, primary_key=True)
    first_name: str = Field(max_length=100)
    last_name: str = Field(max_length=100)
    dob: date
    phone: str | None = Field(default=None, max_length=40)
    # The patient's id in the clinic's EHR (a FHIR Identifier: system URI + value); both None without an EHR.
    identifier_system: str | None = Field(default=None, max_length=255)
    identifier_value: str | None = Field(default=None, max_length=100)
    language: str | None = Field(default=None, max_length=16)  # the lobby's language after a scan ("es"); None: default
    created_at: datetime = Field(default_factory=utcnow, sa_column=utc_column(nullable=False))

    @property
    def display_name(self) -> str:
        """First name and last initial ("Maria G."), the most the lobby may show."""
        initial = self.last_name.strip()[:1].upper()
        return f"{self.first_name.strip()} {initial}." if initial else self.first_name.strip()


class Appointment(SQLModel, table=True):
    """A visit: when, how long, with whom, and how far it has got."""

    __tablename__ = "appointment"
    __table_args__ = (
        Index("ix_appointment_site_start", "site", "starts_at"),
        UniqueConstraint("site", "external_id", name="uq_appointment_site_external_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    patient_id: int = Field(sa_column=Column(Integer, ForeignKey("patient.id", ondelete="CASCADE"), index=True))
    site: str = Field(max_length=64)
    starts_at: datetime = Field(sa_column=utc_column(nullable=False))
    minutes: int = 45
    clinician: str = Field(default="", max_length=100)
    status: str = Field(default="scheduled", max_length=16)
    arrived_at: datetime | None = Field(default=None, sa_column=utc_column())
    created_at: datetime = Field(default_factory=utcnow, sa_column=utc_column(nullable=False))
    # The EHR's key of an imported appointment: "system|value" of its FHIR identifier, or "Appointment/<id>".
    external_id: str | None = Field(default=None, max_length=400)


class Exercise(SQLModel, table=True):
    """An exercise of the library, with instructions in plain words."""

    __tablename__ = "exercise"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=120, unique=True)
    instructions: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    image_url: str | None = Field(default=None, max_length=500)
    equipment_kind: str | None = Field(default=None, max_length=64)
    # Spanish texts for the lobby (None or empty: the default text shows); the picture is a file in the data dir.
    name_es: str | None = Field(default=None, max_length=120)
    instructions_es: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    image_file: str | None = Field(default=None, max_length=80)  # "<sha256>.png" under <data dir>/exercise-images


class PlanItem(SQLModel, table=True):
    """One line of a patient's exercise plan, active over a range of days."""

    __tablename__ = "plan_item"

    id: int | None = Field(default=None, primary_key=True)
    patient_id: int = Field(sa_column=Column(Integer, ForeignKey("patient.id", ondelete="CASCADE"), index=True))
    exercise_id: int = Field(sa_column=Column(Integer, ForeignKey("exercise.id"), nullable=False))
    position: int = 0
    sets: int | None = None
    reps: int | None = None
    hold_s: int | None = None
    minutes: float | None = None
    load: str | None = Field(default=None, max_length=60)
    equipment_site: str | None = Field(default=None, max_length=64)
    equipment_id: str | None = Field(default=None, max_length=64)
    notes: str | None = Field(default=None, max_length=500)
    active_from: date
    active_to: date | None = None


class QrToken(SQLModel, table=True):
    """A patient's card: only the SHA-256 of its random token is stored, so a copied database reveals none."""

    __tablename__ = "qr_token"

    id: int | None = Field(default=None, primary_key=True)
    patient_id: int = Field(sa_column=Column(Integer, ForeignKey("patient.id", ondelete="CASCADE"), index=True))
    token_hash: str = Field(max_length=64, unique=True)
    created_at: datetime = Field(default_factory=utcnow, sa_column=utc_column(nullable=False))
    revoked_at: datetime | None = Field(default=None, sa_column=utc_column())
    failed_dob_attempts: int = 0
    locked_until: datetime | None = Field(default=None, sa_column=utc_column())
    last_used_at: datetime | None = Field(default=None, sa_column=utc_column())


class CheckIn(SQLModel, table=True):
    """Every check-in attempt with its result, so staff see arrivals and 'no appointment' visits."""

    __tablename__ = "check_in"
    __table_args__ = (Index("ix_check_in_site_at", "site", "at"),)

    id: int | None = Field(default=None, primary_key=True)
    site: str = Field(max_length=64)
    at: datetime = Field(sa_column=utc_column(nullable=False))
    result: str = Field(max_length=24)
    patient_id: int | None = Field(
        default=None, sa_column=Column(Integer, ForeignKey("patient.id", ondelete="CASCADE"), index=True)
    )
    appointment_id: int | None = Field(
        default=None, sa_column=Column(Integer, ForeignKey("appointment.id", ondelete="SET NULL"))
    )
    kiosk: str | None = Field(default=None, max_length=64)


class SessionFeedback(SQLModel, table=True):
    """What a patient answered at the lobby after a session: pain now (0-10) and how hard it was."""

    __tablename__ = "session_feedback"
    __table_args__ = (CheckConstraint("pain >= 0 AND pain <= 10", name="ck_session_feedback_pain"),)

    id: int | None = Field(default=None, primary_key=True)
    appointment_id: int = Field(
        sa_column=Column(Integer, ForeignKey("appointment.id", ondelete="CASCADE"), nullable=False, index=True)
    )
    patient_id: int = Field(sa_column=Column(Integer, ForeignKey("patient.id", ondelete="CASCADE"), index=True))
    at: datetime = Field(sa_column=utc_column(nullable=False))
    pain: int
    difficulty: str = Field(max_length=16)
    exercises: str | None = Field(default=None, sa_column=Column(Text, nullable=True))  # JSON: exercise -> difficulty


class PlanShare(SQLModel, table=True):
    """A link that opens the plan on the patient's phone: only the token's hash is stored; a day link ends with
    the day, a lasting one after CLINIC_PLAN_LINK_DAYS; either can be revoked."""

    __tablename__ = "plan_share"

    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(max_length=64, unique=True)
    patient_id: int = Field(
        sa_column=Column(Integer, ForeignKey("patient.id", ondelete="CASCADE"), index=True, nullable=False)
    )
    site: str = Field(max_length=64)
    day: date
    language: str | None = Field(default=None, max_length=16)  # the language the patient used at the lobby
    created_at: datetime = Field(default_factory=utcnow, sa_column=utc_column(nullable=False))
    expires_at: datetime = Field(sa_column=utc_column(nullable=False))
    revoked_at: datetime | None = Field(default=None, sa_column=utc_column())
    # A take-home link that lasts (CLINIC_PLAN_LINK_DAYS) opens the plan of the day it is opened, and keeps its
    # token sealed (Fernet, a key in the data dir) so `clinic plan link` can show the same link again.
    lasting: bool = Field(default=False, sa_column=Column(Boolean, nullable=False, server_default=false()))
    sealed_token: str | None = Field(default=None, max_length=255)
