"""Alerts for the therapist: a pain answer of 7 or more (lobby feedback, a questionnaire, the phone page) or a
session the patient found "very hard" flags the patient on Arrivals, once, until a staff member acknowledges it.

A patient has at most one open alert: a second high answer while one is open adds nothing (a partial unique
index holds that under concurrent answers too). Acknowledging is audited.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, or_, select

from shared.care.models import Patient
from shared.outcomes.models import ALERT_SOURCES, PatientAlert
from shared.staff.audit import audit
from shared.store.errors import NotFound, ValidationFailed
from shared.store.types import utcnow

PAIN_ALERT = 7  # the same threshold the lobby's feedback highlights (shared/care/feedback.py)
REASONS = ("pain", "effort")
SOURCE_WORDS = {"lobby": "at the lobby", "questionnaire": "in a questionnaire", "phone": "on the take-home page"}


@dataclass(frozen=True, slots=True)
class OpenAlert:
    """An alert staff have not acknowledged yet, with the patient's name for the staff app."""

    id: int
    patient_id: int
    patient_name: str
    reason: str
    source: str
    value: int | None
    raised_at: datetime
    site: str | None

    @property
    def words(self) -> str:
        """'Pain 8/10 on the take-home page' or 'Found the session very hard at the lobby'."""
        where = SOURCE_WORDS.get(self.source, self.source)
        if self.reason == "pain":
            return f"Pain {self.value}/10 {where}"
        return f"Found the session very hard {where}"


def note_pain(
    *, session: Session, patient_id: int, value: int, source: str, now: datetime | None = None, site: str | None = None
) -> bool:
    """Note a pain answer (0-10); a value of PAIN_ALERT or more flags the patient unless an alert is already
    open. Returns True when this answer raised an alert."""
    _check_source(source)
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 10:
        raise ValidationFailed(f"pain must be a whole number from 0 to 10, not {value!r}")
    if value < PAIN_ALERT:
        return False
    return _raise(session, patient_id=patient_id, reason="pain", source=source, value=value, now=now, site=site)


def note_effort(
    *,
    session: Session,
    patient_id: int,
    very_hard: bool,
    source: str,
    now: datetime | None = None,
    site: str | None = None,
) -> bool:
    """Note how hard a session was; "very hard" flags the patient unless an alert is already open. Returns True
    when this answer raised an alert."""
    _check_source(source)
    if not very_hard:
        return False
    return _raise(session, patient_id=patient_id, reason="effort", source=source, value=None, now=now, site=site)


def open_alerts(*, session: Session, site: str | None = None) -> list[OpenAlert]:
    """Alerts not yet acknowledged, oldest first; with `site`, those raised there or from anywhere (the phone)."""
    query = (
        select(PatientAlert, Patient)
        .join(Patient, col(Patient.id) == col(PatientAlert.patient_id))
        .where(col(PatientAlert.acknowledged_at).is_(None))
        .order_by(col(PatientAlert.raised_at), col(PatientAlert.id))
    )
    if site is not None:
        query = query.where(or_(col(PatientAlert.site).is_(None), col(PatientAlert.site) == site))
    return [_view(alert, patient) for alert, patient in session.exec(query).all()]


def acknowledge_alert(*, session: Session, alert_id: int, actor: str, now: datetime | None = None) -> bool:
    """A staff member has seen the alert: it leaves Arrivals (audited). False when it was already acknowledged."""
    alert = session.get(PatientAlert, alert_id)
    if alert is None:
        raise NotFound(f"no alert {alert_id}")
    if alert.acknowledged_at is not None:
        return False
    alert.acknowledged_at = now or utcnow()
    alert.acknowledged_by = actor[:64]
    session.add(alert)
    audit(session, actor=actor, action="alert.acknowledge", target=f"patient:{alert.patient_id}",
          detail={"alert": alert_id, "reason": alert.reason, "source": alert.source})  # fmt: skip
    session.flush()
    return True


def _raise(
    session: Session,
    *,
    patient_id: int,
    reason: str,
    source: str,
    value: int | None,
    now: datetime | None,
    site: str | None,
) -> bool:
    if session.get(Patient, patient_id) is None:
        raise NotFound(f"no patient {patient_id}")
    if _has_open(session, patient_id):
        return False
    row = PatientAlert(patient_id=patient_id, site=site, reason=reason, source=source, value=value,
                       raised_at=now or utcnow())  # fmt: skip
    try:
        with session.begin_nested():  # a savepoint: another answer raising it first leaves this transaction usable
            session.add(row)
    except IntegrityError:
        return False
    return True


def _has_open(session: Session, patient_id: int) -> bool:
    query = select(PatientAlert.id).where(
        col(PatientAlert.patient_id) == patient_id, col(PatientAlert.acknowledged_at).is_(None)
    )
    return session.exec(query).first() is not None


def _check_source(source: str) -> None:
    if source not in ALERT_SOURCES:
        raise ValidationFailed(f"source must be one of {', '.join(ALERT_SOURCES)}, not {source!r}")


def _view(alert: PatientAlert, patient: Patient) -> OpenAlert:
    assert alert.id is not None and patient.id is not None
    return OpenAlert(id=alert.id, patient_id=patient.id, patient_name=f"{patient.first_name} {patient.last_name}",
                     reason=alert.reason, source=alert.source, value=alert.value, raised_at=alert.raised_at,
                     site=alert.site)  # fmt: skip
