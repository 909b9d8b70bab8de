"""Roles and what each may do: the one table the pages and services ask (`can`)."""

from __future__ import annotations

from typing import Literal

Area = Literal[
    "board", "arrivals", "patients", "appointments", "plans", "equipment", "staff", "audit", "chain",
    "register_devices", "devices", "bind_devices", "reports", "maintenance",
]  # fmt: skip
PERMISSIONS: dict[str, frozenset[str]] = {
    # Technicians set up the gym's plugs and sensors (the Devices page: bind, calibrate); registering stations and
    # their broker passwords stays with administrators.
    # Technicians also mark maintenance done (the Maintenance page); administrators plan the tasks.
    "technician": frozenset({"board", "arrivals", "devices", "bind_devices", "maintenance"}),
    "front_desk": frozenset({"board", "arrivals", "patients", "appointments"}),
    # A manager reads how the clinic runs (the weekly report), with the board and arrivals a technician sees.
    "manager": frozenset({"board", "arrivals", "reports", "maintenance"}),
    "admin": frozenset({"board", "arrivals", "patients", "appointments", "plans", "equipment", "staff", "audit",
                       "chain", "register_devices", "devices", "bind_devices", "reports", "maintenance"}),
}


def can(role: str, area: Area) -> bool:
    """The role table: technicians see the board and arrivals; front desk adds patients and appointments."""
    return area in PERMISSIONS.get(role, frozenset())
