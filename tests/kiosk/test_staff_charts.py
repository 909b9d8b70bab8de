"""The usage charts as drawn: the legend below the bars and never shortened, one colour per station (the least
used beyond twenty summed as one series), and the days written level."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC
from typing import Any, TypeVar

from sqlalchemy import Engine
from streamlit.testing.v1 import AppTest

from shared.equipment import board
from shared.equipment.stations import register_equipment
from shared.store.db import unit_of_work
from tests.kiosk.staff_app import add_staff, signed_in

T = TypeVar("T")


def act(engine: Engine, action: Callable[..., T], **kwargs: Any) -> T:
    """A board action as the staff app runs it: in a unit of work of its own."""
    with unit_of_work(engine) as session:
        return action(session=session, **kwargs)


def specs(app: AppTest) -> list[dict[str, Any]]:
    charts = [e for e in app.main.children.values() if getattr(e, "type", "") == "vega_lite_chart"]
    return [json.loads(c.proto.spec) for c in charts]  # type: ignore[attr-defined]


def gym(engine: Engine, stations: int) -> None:
    for n in range(stations):
        with unit_of_work(engine) as session:
            register_equipment(
                session=session, site="main", equipment_id=f"st-{n:02d}", name=f"Station with a long name {n:02d}"
            )
        for _ in range(1 + n % 3):
            act(engine, board.start_use, site="main", equipment_id=f"st-{n:02d}", by="device", tz=UTC)
            act(engine, board.end_use, site="main", equipment_id=f"st-{n:02d}", by="device", tz=UTC)


def test_each_station_has_its_own_colour_and_the_legend_is_whole(engine: Engine, staff_env: object) -> None:
    gym(engine, 5)
    add_staff(engine, "ana", "technician")
    for spec in specs(signed_in("ana", "charts.py")):
        colour, day = spec["encoding"]["color"], spec["encoding"]["x"]
        assert colour["legend"]["orient"] == "bottom" and colour["legend"]["labelLimit"] == 0
        assert len(colour["scale"]["domain"]) == 5 and len(set(colour["scale"]["range"])) == 5
        assert day["axis"]["labelAngle"] == 0


def test_beyond_twenty_stations_the_least_used_share_one_series(engine: Engine, staff_env: object) -> None:
    gym(engine, 23)
    add_staff(engine, "ana", "technician")
    spec = specs(signed_in("ana", "charts.py"))[0]
    domain, palette = spec["encoding"]["color"]["scale"]["domain"], spec["encoding"]["color"]["scale"]["range"]
    assert len(domain) == 20 and len(set(palette)) == 20
    assert domain[-1] == "Other stations"
