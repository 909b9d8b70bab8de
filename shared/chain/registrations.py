"""Equipment registrations between a site and the center: what a site publishes, what the center applies.

A site's registry publisher (`clinic chain publish`) sends each station's details as a retained message; the
bridge carries it to the center, whose registry sync (`clinic chain sync`) upserts the station there. Retained,
so a center (or a sync) that starts later still receives every station; idempotent, so receiving one twice
changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlmodel import Session

from shared.chain.models import ChainSite
from shared.equipment.models import Equipment
from shared.equipment.stations import register_equipment
from shared.store.errors import ClinicError


class UnknownSite(ClinicError):
    """A registration from a site the center has not registered (`clinic chain add-site`)."""


@dataclass(frozen=True, slots=True)
class Registration:
    """A station's details as its site registered them."""

    site: str
    equipment_id: str
    name: str
    kind: str
    zone: str
    clean_after_use: bool
    maintenance_interval_hours: float | None


def site_registrations(*, session: Session, site: str) -> list[Registration]:
    """Every station registered at `site` in this (the site's) store."""
    query = select(Equipment).where(Equipment.site == site).order_by(Equipment.id)  # type: ignore[arg-type]
    return [
        Registration(e.site, e.id, e.name, e.kind, e.zone, e.clean_after_use, e.maintenance_interval_hours)
        for e in session.execute(query).scalars()
    ]


def apply_registration(*, session: Session, registration: Registration) -> None:
    """At the center: create or update the station, if its site belongs to the chain (else `UnknownSite`)."""
    if session.get(ChainSite, registration.site) is None:
        raise UnknownSite(f"site {registration.site!r} is not registered at the center (clinic chain add-site)")
    register_equipment(
        session=session,
        site=registration.site,
        equipment_id=registration.equipment_id,
        name=registration.name,
        kind=registration.kind,
        zone=registration.zone,
        clean_after_use=registration.clean_after_use,
        maintenance_interval_hours=registration.maintenance_interval_hours,
    )
