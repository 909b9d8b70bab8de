"""Check-in: from a scanned card to today's appointment and plan, with the birth-date check and lock-out.

One code path for every way in (scanner text, camera, a phone opening the card's link, the CLI): the scan is
parsed by `shared.care.qr.parse_scan`, then `scan_card` decides whether a birth date is needed, and
`confirm_birth_date` or `check_in_card` finish, each in the caller's one transaction (the lobby's whole scan is
`shared.care.lobby_scan`). Outcomes carry only what the lobby may show: first name and last initial.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta
from typing import Literal, TypeVar

from sqlalchemy import update
from sqlmodel import Session, col, select

from shared.care.models import Appointment, CheckIn, Patient, QrToken
from shared.care.qr import hash_token, parse_scan
from shared.care.todays_plan import PlanLine, todays_plan
from shared.store.clock import local_today
from shared.store.settings import Settings
from shared.store.types import utcnow

T = TypeVar("T")
Result = Literal[
    "checked_in", "already_checked_in", "no_appointment", "invalid", "unreadable", "revoked", "locked", "needs_dob",
    "wrong_dob",
]  # fmt: skip
REFUSED = ("invalid", "unreadable", "revoked")  # unknown card, misread scan, card no longer active
# Staff records keep "revoked" apart from "invalid"; a patient or a card's finder never sees the difference
# (`Outcome.public_result`, docs/security.md "Lost or stolen cards").
ARRIVED_STATUSES = ("arrived", "in_session", "done")


@dataclass(frozen=True, slots=True)
class Outcome:
    """What a scan led to; personal fields are filled only once the patient is verified."""

    result: Result
    token: str | None = None
    display_name: str | None = None
    appointment_at: datetime | None = None
    clinician: str | None = None
    checked_in_at: datetime | None = None
    plan: list[PlanLine] = field(default_factory=list)
    attempts_left: int | None = None
    locked_until: datetime | None = None
    patient_id: int | None = field(default=None, repr=False)  # for refreshing the plan; never displayed
    site: str | None = None
    appointment_id: int | None = field(default=None, repr=False)  # for feedback and waiting asks; never displayed
    appointment_status: str | None = None  # "arrived", "in_session" or "done" once checked in
    language: str | None = None  # the patient's preferred language for the lobby, once the card is known

    @property
    def ok(self) -> bool:
        """Checked in now or earlier: the CLI exits 0 for these."""
        return self.result in ("checked_in", "already_checked_in")

    @property
    def public_result(self) -> Result:
        """The result as the lobby, a phone opening the card's link and `clinic checkin` say it: a revoked (old,
        replaced, lost) card answers exactly as an unknown token, so a found or guessed card reveals nothing."""
        return "invalid" if self.result == "revoked" else self.result


def scan_card(
    *, session: Session, settings: Settings, scan: str, now: datetime | None = None, kiosk: str = ""
) -> Outcome:
    """First step at the kiosk, in the caller's transaction: a valid, unlocked card asks for the birth date (or
    checks in when that step is off); a refused scan is recorded."""
    now = now or utcnow()
    if not settings.confirm_dob:
        return check_in_card(session=session, settings=settings, scan=scan, now=now, kiosk=kiosk)
    token = parse_scan(scan)
    card = _usable_card(session, token, now, settings, kiosk)
    if isinstance(card, Outcome):
        return card
    patient = session.get(Patient, card.patient_id)
    return Outcome("needs_dob", token=token, language=patient.language if patient else None)


def confirm_birth_date(
    *, session: Session, settings: Settings, token: str, dob: date, now: datetime | None = None, kiosk: str = ""
) -> Outcome:
    """Second step, in the caller's transaction: the right birth date checks in and reads today's plan; wrong
    ones count, and too many lock the card."""
    now = now or utcnow()
    card = _usable_card(session, token, now, settings, kiosk)
    if isinstance(card, Outcome):
        return card
    patient = session.get(Patient, card.patient_id)
    if patient is None or patient.dob != dob:
        return _wrong_dob(session, card, now, settings)
    if card.failed_dob_attempts:
        card.failed_dob_attempts = 0
        session.add(card)
    return _with_plan(session, settings, _arrive(session, card, token, now, settings, kiosk), now)


def check_in_card(
    *, session: Session, settings: Settings, scan: str, now: datetime | None = None, kiosk: str = ""
) -> Outcome:
    """Check the card's patient in for today's appointment (idempotent) and read today's plan, in the caller's
    transaction; no birth-date step (staff, CLI)."""
    now = now or utcnow()
    token = parse_scan(scan)
    card = _usable_card(session, token, now, settings, kiosk)
    if isinstance(card, Outcome):
        return card
    assert token is not None
    return _with_plan(session, settings, _arrive(session, card, token, now, settings, kiosk), now)


def _arrive(session: Session, card: QrToken, token: str, now: datetime, settings: Settings, kiosk: str) -> Outcome:
    """Inside the caller's unit of work: mark today's appointment arrived and record the scan."""
    patient = session.get(Patient, card.patient_id)
    assert patient is not None and patient.id is not None
    card.last_used_at = now
    session.add(card)
    appointment = _todays_appointment(session, patient.id, settings, now)
    if appointment is None:
        _record(session, settings, now, "no_appointment", kiosk, patient_id=patient.id)
        return Outcome("no_appointment", token=token, display_name=patient.display_name, language=patient.language)
    result = _mark_arrived(session, appointment, now)
    _record(session, settings, now, result, kiosk, patient_id=patient.id, appointment_id=appointment.id)
    session.flush()
    session.refresh(appointment)
    return Outcome(
        result,
        token=token,
        display_name=patient.display_name,
        appointment_at=appointment.starts_at,
        clinician=appointment.clinician or None,
        checked_in_at=appointment.arrived_at,
        patient_id=patient.id,
        site=appointment.site,
        appointment_id=appointment.id,
        appointment_status=appointment.status,
        language=patient.language,
    )


def _with_plan(session: Session, settings: Settings, arrival: Outcome, now: datetime) -> Outcome:
    """Today's plan for a checked-in patient, read in the check-in's transaction."""
    if not arrival.ok or arrival.patient_id is None or arrival.site is None:
        return arrival
    plan = todays_plan(session=session, patient_id=arrival.patient_id, day=local_today(now, settings.tz),
                       site=arrival.site, tz=settings.tz, now=now,
                       contact_time_min=settings.contact_time_min)  # fmt: skip
    return replace(arrival, plan=plan)


def _usable_card(
    session: Session, token: str | None, now: datetime, settings: Settings, kiosk: str
) -> QrToken | Outcome:
    """The scanned card, or the refusal to show instead (invalid, revoked or locked)."""
    card = _card(session, token)
    refusal = _refusal(session, token, card, now, settings, kiosk)
    if refusal is not None:
        return refusal
    assert card is not None  # _refusal refuses a missing card
    return card


def _card(session: Session, token: str | None) -> QrToken | None:
    if token is None:
        return None
    return session.exec(select(QrToken).where(QrToken.token_hash == hash_token(token))).first()


def _refusal(
    session: Session, token: str | None, card: QrToken | None, now: datetime, settings: Settings, kiosk: str
) -> Outcome | None:
    """Unknown, misread, revoked or locked cards stop here, revealing nothing about anyone."""
    if card is None:
        result: Result = "unreadable" if token is None else "invalid"
        _record(session, settings, now, result, kiosk)
        return Outcome(result)
    if card.revoked_at is not None:
        _record(session, settings, now, "revoked", kiosk)
        return Outcome("revoked")
    if card.locked_until is not None and card.locked_until > now:
        return Outcome("locked", locked_until=card.locked_until)
    return None


def _wrong_dob(session: Session, card: QrToken, now: datetime, settings: Settings) -> Outcome:
    """Count a wrong birth date with an atomic increment, so parallel guesses at two kiosks all count."""
    failed = session.execute(
        update(QrToken)
        .where(col(QrToken.id) == card.id)
        .values(failed_dob_attempts=col(QrToken.failed_dob_attempts) + 1)
        .returning(col(QrToken.failed_dob_attempts))
    ).scalar_one()
    if failed >= settings.dob_max_attempts:
        locked_until = now + timedelta(minutes=settings.dob_lock_min)
        session.execute(
            update(QrToken).where(col(QrToken.id) == card.id).values(failed_dob_attempts=0, locked_until=locked_until)
        )
        return Outcome("locked", locked_until=locked_until)
    return Outcome("wrong_dob", attempts_left=settings.dob_max_attempts - failed)


def _todays_appointment(session: Session, patient_id: int, settings: Settings, now: datetime) -> Appointment | None:
    """The appointment whose check-in window contains now; the closest start wins.

    After the window has closed, an appointment of today the patient already checked in for still counts (a
    long session: they scan again on the way out to give feedback), so it is not taken for a walk-in.
    """
    earliest = now - timedelta(minutes=settings.checkin_after_min)
    latest = now + timedelta(minutes=settings.checkin_before_min)
    query = select(Appointment).where(
        Appointment.patient_id == patient_id,
        Appointment.site == settings.site,
        col(Appointment.starts_at) >= earliest,
        col(Appointment.starts_at) <= latest,
        Appointment.status != "no_show",
    )
    candidates = list(session.exec(query).all())
    if not candidates:
        day_start = datetime.combine(local_today(now, settings.tz), time.min, tzinfo=settings.tz)
        earlier_today = select(Appointment).where(
            Appointment.patient_id == patient_id,
            Appointment.site == settings.site,
            col(Appointment.starts_at) >= day_start,
            col(Appointment.starts_at) < earliest,
            col(Appointment.status).in_(ARRIVED_STATUSES),
        )
        candidates = list(session.exec(earlier_today).all())
    return min(candidates, key=lambda a: abs((a.starts_at - now).total_seconds()), default=None)


def _mark_arrived(session: Session, appointment: Appointment, now: datetime) -> Result:
    """Scheduled -> arrived, exactly once even if two kiosks race (conditional update)."""
    if appointment.status in ARRIVED_STATUSES:
        return "already_checked_in"
    changed = session.execute(
        update(Appointment)
        .where(col(Appointment.id) == appointment.id, col(Appointment.status) == "scheduled")
        .values(status="arrived", arrived_at=now)
    )
    return "checked_in" if changed.rowcount else "already_checked_in"  # type: ignore[attr-defined]


def _record(
    session: Session,
    settings: Settings,
    now: datetime,
    result: str,
    kiosk: str,
    *,
    patient_id: int | None = None,
    appointment_id: int | None = None,
) -> None:
    session.add(
        CheckIn(
            site=settings.site,
            at=now,
            result=result,
            patient_id=patient_id,
            appointment_id=appointment_id,
            kiosk=kiosk or None,
        )
    )
