"""The short list of disinfectants a clinic keeps, each with its contact time (how long a surface stays wet).

A cleaning is recorded with the disinfectant chosen ("Mark cleaned" asks), else the one the station was last
cleaned with, else the clinic's default; when the clinic keeps none, its contact time is CLINIC_CONTACT_TIME_MIN's
for the station's kind, as before.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import Connection, Table, update
from sqlmodel import Session, col, select

from shared.equipment.ingest_rows import EQUIPMENT
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


def usual_disinfectants(conn: Connection, keys: Iterable[tuple[str, str]]) -> dict[tuple[str, str], Choice]:
    """What a cleaning at each of these (site, station)s is taken to use when no one says: the disinfectant of the
    station's last cleaning (at today's contact time), else the clinic's default; none while the clinic lists none.
    One read of the (short) list, then one statement per site whose subquery is an index seek per station."""
    listed = {str(name): (Choice(str(name), float(minutes)), bool(default))
              for name, minutes, default in conn.execute(select(TABLE.c.name, TABLE.c.contact_min, TABLE.c.is_default))}
    if not listed:
        return {}
    fallback = next((choice for choice, default in listed.values() if default), None)
    last: dict[tuple[str, str], str | None] = {}
    by_site: dict[str, list[str]] = {}
    for site, equipment_id in set(keys):
        by_site.setdefault(site, []).append(equipment_id)
    for site, ids in by_site.items():
        latest = (select(RECORDS.c.disinfectant)
                  .where((RECORDS.c.site == EQUIPMENT.c.site) & (RECORDS.c.equipment_id == EQUIPMENT.c.id)
                         & (RECORDS.c.kind == "cleaning"))
                  .order_by(RECORDS.c.at.desc()).limit(1).scalar_subquery())  # fmt: skip
        for start in range(0, len(ids), 400):
            query = select(EQUIPMENT.c.id, latest).where((EQUIPMENT.c.site == site)
                                                         & EQUIPMENT.c.id.in_(ids[start : start + 400]))  # fmt: skip
            last.update({(site, str(eid)): name for eid, name in conn.execute(query)})
    found = {}
    for key, name in last.items():
        choice = listed[name][0] if name in listed else fallback
        if choice is not None:
            found[key] = choice
    return found


def usual_disinfectant(conn: Connection, *, site: str, equipment_id: str) -> Choice | None:
    """`usual_disinfectants` for one station."""
    return usual_disinfectants(conn, [(site, equipment_id)]).get((site, equipment_id))


def usual_names(*, session: Session, site: str, equipment_ids: list[str]) -> dict[str, str]:
    """For "Mark cleaned": the disinfectant each station is usually cleaned with (its last, else the default)."""
    found = usual_disinfectants(session.connection(), [(site, eid) for eid in equipment_ids])
    return {eid: choice.name for (_site, eid), choice in found.items()}
