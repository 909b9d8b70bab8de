"""Fault reports: a person takes a station out of service saying what kind of fault it is (a category from one
list), with optional notes and an optional photo, kept with the fault event (`FaultReport`) and shown with the
station while that fault stands.

The station's fault message (what the scan page, the CLI and the lobby's status read) is the category's words and
the notes ("Won't start: display stays dark"); the audit entry keeps the same as JSON, with the photo's name.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, tzinfo
from pathlib import Path

from sqlalchemy import Table, and_, select
from sqlmodel import Session

from shared.equipment import board
from shared.equipment.fault_photos import save_photo
from shared.equipment.models import EquipmentState, FaultReport
from shared.store.errors import ValidationFailed
from shared.store.types import utcnow

CATEGORIES: Mapping[str, str] = {
    "wont_start": "Won't start",
    "display_controls": "Display or controls",
    "noise_vibration": "Noise or vibration",
    "damaged_surface": "Damaged surface or upholstery",
    "electrical": "Electrical",
    "cleaning_problem": "Cleaning problem",
    "other": "Other",
}
MAX_NOTES = 500
REPORTS: Table = FaultReport.__table__  # type: ignore[attr-defined]
STATES: Table = EquipmentState.__table__  # type: ignore[attr-defined]


@dataclass(frozen=True, slots=True)
class ShownReport:
    """The report behind a station's current fault, as the board shows it."""

    category: str  # in words
    notes: str
    photo: str | None
    by: str
    at: datetime


def fault_message(category: str, notes: str) -> str:
    """The station's fault message: the category's words, then the notes."""
    words = CATEGORIES[category]
    return f"{words}: {notes}" if notes else words


def problem_words(category: str | None, notes: str) -> str:
    """A reported problem (the Scan page's "Report a problem") in the same words as a fault report: its category,
    then the notes; a refusal when the category is missing or Other has no notes."""
    return fault_message(*checked_report(category, notes))


def checked_report(category: str | None, notes: str) -> tuple[str, str]:
    """The category and the notes as kept, or a refusal that says what is missing."""
    if not category:
        raise ValidationFailed("choose what kind of fault it is")
    if category not in CATEGORIES:
        raise ValidationFailed(f"fault category must be one of {', '.join(CATEGORIES)}")
    text = " ".join(notes.split())
    if len(text) > MAX_NOTES:
        raise ValidationFailed(f"notes are {len(text)} characters; at most {MAX_NOTES}")
    if category == "other" and not text:
        raise ValidationFailed("say what is wrong in the notes when the fault is Other")
    return category, text


def report_fault(
    *,
    session: Session,
    site: str,
    equipment_id: str,
    by: str,
    category: str | None,
    notes: str = "",
    photo: bytes | None = None,
    data_dir: Path,
    tz: tzinfo,
    now: datetime | None = None,
) -> str:
    """Take a station out of service with a fault report, in the caller's unit of work: the fault event (code
    `manual`, as "Out of service" always was), its audit entry and the report with the photo's name; returns the
    event's id. Everything is checked before the photo is written (0600, `fault_photos`)."""
    category, text = checked_report(category, notes)
    board.require_station(session=session, site=site, equipment_id=equipment_id)  # before the photo is written
    name = save_photo(data_dir, photo) if photo else None
    at = now or utcnow()
    message = fault_message(category, text)
    detail = json.dumps({"category": CATEGORIES[category], "notes": text, "photo": name})
    event_id = board.take_out_of_service(session=session, site=site, equipment_id=equipment_id, by=by,
                                         reason=message, tz=tz, now=at, detail=detail)  # fmt: skip
    session.connection().execute(REPORTS.insert().values(site=site, equipment_id=equipment_id, event_id=event_id,
                                                         category=category, notes=text, photo=name, by=by, at=at))
    return event_id


def current_reports(*, session: Session, site: str | None = None) -> dict[tuple[str, str], ShownReport]:
    """The report behind each out-of-service station's current fault, by (site, station id): the one made with the
    fault event the station's fault dates from (a device's later critical fault replaces it; back in service ends
    it)."""
    joined = REPORTS.join(STATES, and_(STATES.c.site == REPORTS.c.site, STATES.c.equipment_id == REPORTS.c.equipment_id,
                                       STATES.c.fault_since == REPORTS.c.at))  # fmt: skip
    query = select(REPORTS).select_from(joined).where(STATES.c.out_of_service.is_(True))
    if site is not None:
        query = query.where(REPORTS.c.site == site)
    found: dict[tuple[str, str], ShownReport] = {}
    for row in session.connection().execute(query.order_by(REPORTS.c.id)):
        found[(row.site, row.equipment_id)] = ShownReport(CATEGORIES.get(row.category, row.category), row.notes,
                                                          row.photo, row.by, row.at)  # fmt: skip
    return found
