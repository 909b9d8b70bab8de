"""The staff board: actions recorded as events, alerts, urgency order, unknown devices, usage statistics."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

import pytest
from sqlalchemy import Engine

from shared.equipment import board
from shared.equipment.events import Decoded
from shared.equipment.ingest import record_batch
from shared.equipment.payloads import decode
from shared.equipment.stations import get_station, register_equipment
from shared.equipment.usage import usage_stats
from shared.staff.audit import recent_audit
from shared.store.db import read_session, unit_of_work
from shared.store.errors import NotFound, ValidationFailed

NOW = datetime.now(UTC).replace(microsecond=0)


T = TypeVar("T")


def act(engine: Engine, action: Callable[..., T], **kwargs: Any) -> T:
    """A board action as the staff app runs it: in a unit of work of its own."""
    with unit_of_work(engine) as session:
        return action(session=session, **kwargs)


def device(equipment_id: str, channel: str, body: dict[str, object] | str, minutes_ago: float) -> Decoded:
    at = NOW - timedelta(minutes=minutes_ago)
    payload = body if isinstance(body, str) else json.dumps({**body, "ts": at.isoformat()})
    return decode(f"clinic/main/equipment/{equipment_id}/{channel}", payload.encode(), prefix="clinic", received_at=at)


def use(equipment_id: str, n: int, start_ago: float, minutes: float) -> list[Decoded]:
    return [
        device(equipment_id, "usage", {"event_id": f"s{n}", "event": "start"}, start_ago),
        device(
            equipment_id,
            "usage",
            {"event_id": f"e{n}", "event": "stop", "duration_s": minutes * 60},
            start_ago - minutes,
        ),
    ]


@pytest.fixture
def gym(engine: Engine) -> Engine:
    with unit_of_work(engine) as session:
        register_equipment(session=session, site="main", equipment_id="tm-1", name="Treadmill 1", zone="Gym A",
                           maintenance_interval_hours=0.5)  # fmt: skip
        register_equipment(session=session, site="main", equipment_id="bike-1", name="Bike 1", zone="Gym A")
        register_equipment(session=session, site="main", equipment_id="bars-1", name="Parallel bars", zone="Gym B")
    return engine


def test_mark_cleaned_is_an_event_by_the_signed_in_user(gym: Engine) -> None:
    record_batch(engine=gym, items=use("tm-1", 1, 30, 20), tz=UTC)
    act(gym, board.mark_cleaned, site="main", equipment_id="tm-1", by="ana", method="spray", tz=UTC)
    with read_session(gym) as session:
        view = get_station(session=session, site="main", equipment_id="tm-1", tz=UTC)
    assert (view.status, view.last_cleaned_by) == ("available", "ana")
    with read_session(gym) as session:
        newest = recent_audit(session=session)[0]
    assert (newest.actor, newest.action, newest.target) == ("ana", "equipment.cleaned", "main/tm-1")


def test_out_of_service_needs_a_reason_and_back_in_service_clears_any_fault(gym: Engine) -> None:
    with pytest.raises(ValidationFailed, match="say why"):
        act(gym, board.take_out_of_service, site="main", equipment_id="bike-1", by="ana", reason=" ", tz=UTC)
    act(gym, board.take_out_of_service, site="main", equipment_id="bike-1", by="ana", reason="Pedal loose", tz=UTC)
    with read_session(gym) as session:
        view = get_station(session=session, site="main", equipment_id="bike-1", tz=UTC)
    assert (view.status, view.fault_code, view.fault_message) == ("out_of_service", "manual", "Pedal loose")
    act(gym, board.back_in_service, site="main", equipment_id="bike-1", by="ana", tz=UTC)
    with read_session(gym) as session:
        assert get_station(session=session, site="main", equipment_id="bike-1", tz=UTC).status == "available"


def test_actions_on_unknown_equipment_are_refused(gym: Engine) -> None:
    with pytest.raises(NotFound):
        act(gym, board.mark_cleaned, site="main", equipment_id="nope", by="ana", tz=UTC)


def test_alerts_for_reuse_without_cleaning_offline_and_maintenance(gym: Engine) -> None:
    record_batch(engine=gym, items=[*use("tm-1", 1, 60, 20), *use("tm-1", 2, 35, 20),
                                    device("tm-1", "status", "offline", 1)], tz=UTC)  # fmt: skip
    with read_session(gym) as session:
        rows = {r.station.id: r for r in board.board(session=session, tz=UTC)}
    alerts = rows["tm-1"].alerts
    assert alerts[0] == "Used again without cleaning (once)"
    assert alerts[1].startswith("Offline since ")
    assert alerts[2] == "Maintenance due: 0.67 h of use (every 0.5 h)"
    act(gym, board.mark_serviced, site="main", equipment_id="tm-1", by="ana", tz=UTC)
    with read_session(gym) as session:
        assert not any(a.startswith("Maintenance") for a in board.board(session=session, tz=UTC)[0].alerts)


def test_board_keeps_zone_then_name_order_whatever_the_statuses_and_filters(gym: Engine) -> None:
    with read_session(gym) as session:
        before = [r.station.id for r in board.board(session=session, tz=UTC)]
    assert before == ["bike-1", "tm-1", "bars-1"]  # Gym A: Bike 1, Treadmill 1; then Gym B
    record_batch(
        engine=gym, items=[*use("bike-1", 1, 50, 10), *use("bars-1", 2, 30, 10), *use("tm-1", 3, 5, 1)], tz=UTC
    )
    record_batch(engine=gym, items=[device("tm-1", "usage", {"event_id": "s4", "event": "start"}, 1)], tz=UTC)
    with read_session(gym) as session:
        rows = board.board(session=session, tz=UTC)
    assert [r.station.id for r in rows] == before
    assert [r.station.effective_status for r in rows] == ["needs_cleaning", "in_use", "needs_cleaning"]
    with read_session(gym) as session:
        assert [r.station.id for r in board.board(session=session, tz=UTC, zone="Gym B")] == ["bars-1"]
        assert [r.station.id for r in board.board(session=session, tz=UTC, status="in_use")] == ["tm-1"]


def test_unknown_devices_are_listed_from_the_dead_letters(gym: Engine) -> None:
    record_batch(engine=gym, items=[device("rower-1", "usage", {"event_id": "r1", "event": "start"}, 3),
                                    device("rower-1", "usage", {"event_id": "r2", "event": "stop"}, 2)],
                 tz=UTC)  # fmt: skip
    with read_session(gym) as session:
        found = board.unknown_devices(session=session)
    assert [(d.site, d.equipment_id, d.messages) for d in found] == [("main", "rower-1", 2)]
    assert not found[0].registered
    with unit_of_work(gym) as session:  # registered without a replay, as `clinic device add` does
        register_equipment(session=session, site="main", equipment_id="rower-1", name="Rower 1")
    with read_session(gym) as session:
        [later] = board.unknown_devices(session=session)
    assert (later.messages, later.registered) == (2, True), "still listed, its messages still kept"


def test_usage_statistics_per_day_compliance_and_time_to_clean(gym: Engine) -> None:
    events = [*use("tm-1", 1, 120, 20), device("tm-1", "cleaning", {"event_id": "c1", "event": "cleaned"}, 90),
              *use("tm-1", 2, 60, 10), *use("tm-1", 3, 30, 10)]  # fmt: skip
    record_batch(engine=gym, items=events, tz=UTC)
    with read_session(gym) as session:
        stats = {s.equipment_id: s for s in usage_stats(session=session, site="main", days=7, tz=UTC, now=NOW)}
    tm = stats["tm-1"]
    assert sum(tm.uses_by_day.values()) == 3
    assert sum(tm.minutes_by_day.values()) == pytest.approx(40)
    assert (tm.uses_needing_cleaning, tm.cleaned_before_next_use, tm.compliance) == (3, 1, pytest.approx(1 / 3))
    assert tm.median_minutes_to_clean == pytest.approx(10)
    assert stats["bike-1"].compliance is None
