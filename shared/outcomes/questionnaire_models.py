"""Tables of the questionnaires: those a clinic added, who is asked which and when, and the answers with scores."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, Column, Float, ForeignKey, Index, Integer, Text, UniqueConstraint, false
from sqlmodel import Field, SQLModel

from shared.store.types import utc_column, utcnow

STATUSES = ("in-progress", "completed", "skipped")  # FHIR's QuestionnaireResponse.status codes, and our "skipped"


class QuestionnaireDef(SQLModel, table=True):
    """A FHIR R4 Questionnaire a clinic loaded (`clinic questionnaire add`); the shipped ones are package files."""

    __tablename__ = "questionnaire"

    code: str = Field(primary_key=True, max_length=64)  # the Questionnaire's `id`, what commands name it by
    resource: str = Field(sa_column=Column(Text, nullable=False))  # its JSON, scoring extension included
    added_at: datetime = Field(default_factory=utcnow, sa_column=utc_column(nullable=False))
    added_by: str = Field(max_length=100)


class QuestionnaireAssignment(SQLModel, table=True):
    """Which questionnaire a patient is asked, and when: every N visits, every N days, at intake, at discharge."""

    __tablename__ = "questionnaire_assignment"
    __table_args__ = (UniqueConstraint("patient_id", "questionnaire", name="uq_questionnaire_assignment_patient"),)

    id: int | None = Field(default=None, primary_key=True)
    patient_id: int = Field(sa_column=Column(Integer, ForeignKey("patient.id", ondelete="CASCADE"), nullable=False))
    questionnaire: str = Field(max_length=64)
    every_visits: int | None = None
    every_days: int | None = None
    at_intake: bool = Field(default=False, sa_column=Column(Boolean, nullable=False, server_default=false()))
    # Set by "at discharge": asked once at the first visit after this instant.
    discharge_from: datetime | None = Field(default=None, sa_column=utc_column())
    activities: str | None = Field(default=None, sa_column=Column(Text, nullable=True))  # JSON list (PSFS)
    created_at: datetime = Field(default_factory=utcnow, sa_column=utc_column(nullable=False))


class QuestionnaireAnswerRow(SQLModel, table=True):
    """A QuestionnaireResponse: answers kept while in progress against the visit, then completed with the score."""

    __tablename__ = "questionnaire_response"
    __table_args__ = (
        UniqueConstraint("appointment_id", "questionnaire", name="uq_questionnaire_response_visit"),
        Index("ix_questionnaire_response_patient", "patient_id", "questionnaire", "authored_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    patient_id: int = Field(sa_column=Column(Integer, ForeignKey("patient.id", ondelete="CASCADE"), nullable=False))
    questionnaire: str = Field(max_length=64)
    appointment_id: int | None = Field(
        default=None, sa_column=Column(Integer, ForeignKey("appointment.id", ondelete="SET NULL"), nullable=True)
    )
    status: str = Field(max_length=16)
    answers: str = Field(default="{}", sa_column=Column(Text, nullable=False))  # JSON: linkId -> integer answer
    asked: str | None = Field(default=None, sa_column=Column(Text, nullable=True))  # JSON: linkId -> text (PSFS)
    score: float | None = Field(default=None, sa_column=Column(Float, nullable=True))
    started_at: datetime = Field(default_factory=utcnow, sa_column=utc_column(nullable=False))
    authored_at: datetime | None = Field(default=None, sa_column=utc_column())
