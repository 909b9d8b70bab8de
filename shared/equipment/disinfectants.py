"""The short list of disinfectants a clinic keeps, each with its contact time (how long a surface stays wet).

A cleaning is recorded with the disinfectant chosen ("Mark cleaned" asks), else the one the station was last
cleaned with, else the clinic's default; when the clinic keeps none, its contact time is CLINIC_CONTACT_TIME_MIN's
for the station's kind, as before.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection, Table, update
from sqlmodel import Session, col, select

from shared.equipment.record_chain import RECORDS
from shared.equipment.record_models import Disinfectant
from shared.staff.audit import audit
from shared.store.errors import NotFound, ValidationFailed
from shared.store.settings import MAX_CONTACT_TIME_MIN

TABLE: Table = Disinfectant.__table__  # type: ignore[attr-defined]


@dataclass(frozen=True, slots=True)
class Choice:
    """A disinfectant as a cleaning record names it."""

    name: str
    contact_min: float


def add_disinfectant(
    *, session: Session, name: str, contact_min: float, by: str, default: bool = False
) -> Disinfectant:
    """Add a disinfectant to the list, or change the contact time of one listed; `default` makes it the clinic's
    default (the only one)."""
    name = " ".join(name.split())
    if not name or len(name) > 100:
        raise ValidationFailed("give the disinfectant a name of 1 to 100 characters")
    if not 0 <= contact_min <= MAX_CONTACT_TIME_MIN:
        raise ValidationFailed(f"contact time must be 0 to {MAX_CONTACT_TIME_MIN:g} minutes")
    row = session.exec(select(Disinfectant).where(col(Disinfectant.name) == name)).first()
    row = row or Disinfectant(name=name, contact_min=contact_min, created_by=by)
    row.contact_min = float(contact_min)
    if default:
        session.connection().execute(update(TABLE).values(is_default=False))
        row.is_default = True
    session.add(row)
    audit(session, actor=by, action="disinfectant.add", target=name,
          detail={"contact_min": float(contact_min), "default": default})  # fmt: skip
    session.flush()
    return row


def list_disinfectants(*, session: Session) -> list[Disinfectant]:
    """The clinic's disinfectants, the default first, then by name."""
    query = select(Disinfectant).order_by(col(Disinfectant.is_default).desc(), col(Disinfectant.name))
    return list(session.exec(query).all())


def find_disinfectant(conn: Connection, name: str) -> Choice:
    """The listed disinfectant called `name` (`NotFound` otherwise, naming those listed)."""
    row = conn.execute(select(TABLE.c.name, TABLE.c.contact_min).where(TABLE.c.name == " ".join(name.split()))).first()
    if row is None:
        listed = [str(n) for n in conn.execute(select(TABLE.c.name).order_by(TABLE.c.name)).scalars()]
        raise NotFound(f"no disinfectant {name!r}" + (f" (listed: {', '.join(listed)})" if listed else
                       " (none listed: clinic disinfectant add NAME --contact-min N)"))  # fmt: skip
    return Choice(str(row.name), float(row.contact_min))


def usual_disinfectant(conn: Connection, *, site: str, equipment_id: str) -> Choice | None:
    """What a cleaning at this station is taken to use when no one says: the station's last, else the default."""
    last = conn.execute(
        select(RECORDS.c.disinfectant, RECORDS.c.contact_min)
        .where((RECORDS.c.site == site) & (RECORDS.c.equipment_id == equipment_id) & (RECORDS.c.kind == "cleaning")
               & RECORDS.c.disinfectant.is_not(None))
        .order_by(RECORDS.c.at.desc()).limit(1)
    ).first()  # fmt: skip
    if last is not None:
        return Choice(str(last.disinfectant), float(last.contact_min or 0.0))
    default = conn.execute(select(TABLE.c.name, TABLE.c.contact_min).where(TABLE.c.is_default)).first()
    return Choice(str(default.name), float(default.contact_min)) if default is not None else None


def usual_names(*, session: Session, site: str, equipment_ids: list[str]) -> dict[str, str]:
    """For "Mark cleaned": the disinfectant each station is usually cleaned with (its last, else the default)."""
    conn = session.connection()
    found = {eid: usual_disinfectant(conn, site=site, equipment_id=eid) for eid in equipment_ids}
    return {eid: choice.name for eid, choice in found.items() if choice is not None}
