"""Reading the board (`list_stations`): every field from its column, on both backends, and the all-sites board
is every site's board in order (it is read by position, without SQLAlchemy's type processing: issue #23)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from sqlalchemy import Engine, make_url, text

from shared.equipment.models import EquipmentState
from shared.equipment.stations import StationView, get_station, list_stations, register_equipment
from shared.store.db import init_db, make_engine, read_session, unit_of_work

T = datetime(2026, 11, 23, 9, 0, 0, 123456, tzinfo=UTC)
DAY = date(2026, 11, 23)


def board(engine: Engine, **kwargs: object) -> list[StationView]:
    with read_session(engine) as session:
        return list_stations(session=session, tz=UTC, **kwargs)  # type: ignore[arg-type]


def set_state(engine: Engine, equipment_id: str, site: str = "main", **columns: object) -> None:
    with unit_of_work(engine) as session:
        state = session.get(EquipmentState, (site, equipment_id))
        assert state is not None
        for name, value in columns.items():
            setattr(state, name, value)
        session.add(state)


def test_every_field_of_the_view_comes_from_its_own_column(engine: Engine) -> None:
    with unit_of_work(engine) as session:
        register_equipment(session=session, site="main", equipment_id="tm-1", name="Treadmill 1", kind="treadmill",
                           zone="Gym A", clean_after_use=True, maintenance_interval_hours=250.0)  # fmt: skip
    set_state(engine, "tm-1", usage_status="needs_cleaning", out_of_service=True, online=False,
              online_changed_at=T - timedelta(hours=5), last_seen=T - timedelta(hours=4),
              last_event_at=T - timedelta(hours=3, minutes=30), in_use_since=T - timedelta(hours=3),
              needs_cleaning_since=T - timedelta(hours=2), last_cleaned_at=T - timedelta(hours=1),
              last_cleaned_by="ana", used_without_cleaning=3, fault_code="E42", fault_severity="critical",
              fault_message="belt slips", uses_total=17, uses_today=5, uses_today_date=DAY,
              in_use_seconds_total=7262.26, serviced_in_use_seconds=3600.0)  # fmt: skip

    [view] = board(engine, today=DAY, now=T)

    assert view == StationView(
        site="main", id="tm-1", name="Treadmill 1", kind="treadmill", zone="Gym A", clean_after_use=True,
        status="out_of_service", online=False, online_changed_at=T - timedelta(hours=5),
        last_seen=T - timedelta(hours=4), in_use_since=T - timedelta(hours=3),
        needs_cleaning_since=T - timedelta(hours=2), last_cleaned_at=T - timedelta(hours=1), last_cleaned_by="ana",
        used_without_cleaning=3, uses_today=5, uses_total=17, in_use_seconds_total=7262.3, fault_code="E42",
        fault_severity="critical", fault_message="belt slips", maintenance_interval_hours=250.0,
        in_use_hours_since_service=1.02, ready_at=None,
    )  # fmt: skip
    # equality alone would take 0 for False and a naive time for an aware one
    assert view.online is False and view.clean_after_use is True
    times = [view.online_changed_at, view.last_seen, view.in_use_since, view.needs_cleaning_since,
             view.last_cleaned_at]  # fmt: skip
    assert all(t is not None and t.tzinfo is UTC for t in times)
    assert board(engine, today=DAY + timedelta(days=1), now=T)[0].uses_today == 0, "yesterday's count"


def test_a_station_without_a_state_row_is_listed_as_new(engine: Engine) -> None:
    with unit_of_work(engine) as session:
        register_equipment(session=session, site="main", equipment_id="bike-1", name="Bike 1", clean_after_use=False)
    with unit_of_work(engine) as session:
        session.execute(text("DELETE FROM equipment_state"))

    [view] = board(engine)

    assert view == StationView(
        site="main", id="bike-1", name="Bike 1", kind="other", zone="", clean_after_use=False, status="available",
        online=None, online_changed_at=None, last_seen=None, in_use_since=None, needs_cleaning_since=None,
        last_cleaned_at=None, last_cleaned_by=None, used_without_cleaning=0, uses_today=0, uses_total=0,
        in_use_seconds_total=0.0, fault_code=None, fault_severity=None, fault_message=None,
        maintenance_interval_hours=None, in_use_hours_since_service=0.0,
    )  # fmt: skip
    assert view.clean_after_use is False


def test_the_all_sites_board_is_every_sites_board_in_site_zone_and_name_order(engine: Engine) -> None:
    stations = [  # site, id, name, zone: registered out of order
        ("west", "tm-2", "Treadmill 2", "Gym A"), ("east", "rower-1", "Rower", "Gym B"),
        ("west", "bars-1", "Bars", "Gym B"), ("east", "tm-1", "Treadmill 1", "Gym A"),
        ("west", "tm-1", "Treadmill 1", "Gym A"), ("east", "bike-1", "Bike", "Gym A"),
        ("north", "plinth-1", "Plinth", ""),
    ]  # fmt: skip
    with unit_of_work(engine) as session:
        for site, equipment_id, name, zone in stations:
            register_equipment(session=session, site=site, equipment_id=equipment_id, name=name, zone=zone)
    set_state(engine, "tm-1", site="west", usage_status="in_use", in_use_since=T, uses_total=2)
    set_state(engine, "rower-1", site="east", last_cleaned_at=T, last_event_at=T, last_cleaned_by="jo")

    everything = board(engine, now=T + timedelta(minutes=1), contact_time_min={"default": 5})
    by_site = [view for site in ("east", "north", "west")
               for view in board(engine, site=site, now=T + timedelta(minutes=1), contact_time_min={"default": 5})]

    assert everything == by_site
    assert [(v.site, v.id) for v in everything] == [
        ("east", "bike-1"), ("east", "tm-1"), ("east", "rower-1"), ("north", "plinth-1"),
        ("west", "tm-1"), ("west", "tm-2"), ("west", "bars-1"),
    ]  # fmt: skip
    assert everything[2].ready_at == T + timedelta(minutes=5), "the rower's contact time runs"
    assert (everything[4].status, everything[4].in_use_since) == ("in_use", T)
    with read_session(engine) as session:
        assert get_station(session=session, site="west", equipment_id="tm-1", tz=UTC) == board(engine, site="west")[0]


def test_a_stored_time_with_an_offset_of_its_own_is_read_as_utc(tmp_path: Path) -> None:
    # UTCDateTime writes naive UTC text on SQLite; text from elsewhere with an offset still reads as UTC
    engine = make_engine(f"sqlite:///{tmp_path / 'clinic.db'}")
    init_db(engine)
    with unit_of_work(engine) as session:
        register_equipment(session=session, site="main", equipment_id="tm-1", name="Treadmill 1")
        session.execute(text(
            "UPDATE equipment_state SET last_seen = '2026-11-23 10:30:00+01:00', "
            "online_changed_at = '2026-11-23T08:00:00Z', in_use_since = '2026-11-23 07:00:00'"
        ))  # fmt: skip
    [view] = board(engine)
    engine.dispose()

    assert view.last_seen == datetime(2026, 11, 23, 9, 30, tzinfo=UTC) and view.last_seen.tzinfo is UTC
    assert view.online_changed_at == datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
    assert view.in_use_since == datetime(2026, 11, 23, 7, 0, tzinfo=UTC)


def test_a_postgresql_server_in_another_zone_shows_the_same_times(pg_database: str) -> None:
    """Sessions are set to UTC (shared/store/db.py), so a clinic whose server defaults to its local zone reads the
    board's times as the same instants, in UTC."""
    name = make_url(pg_database).database
    admin = make_engine(pg_database)
    with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text(f"ALTER DATABASE \"{name}\" SET timezone TO 'America/New_York'"))
    admin.dispose()
    engine = make_engine(pg_database)
    try:
        with engine.begin() as conn:
            conn.execute(text("TRUNCATE equipment, equipment_state CASCADE"))
        with unit_of_work(engine) as session:
            register_equipment(session=session, site="main", equipment_id="tm-1", name="Treadmill 1",
                               kind="treadmill", zone="Gym A", clean_after_use=True)  # fmt: skip
        set_state(engine, "tm-1", last_seen=T, last_cleaned_at=T - timedelta(hours=1))
        with engine.connect() as conn:
            assert conn.execute(text("SHOW timezone")).scalar() == "UTC"
        [view] = board(engine, today=DAY, now=T)
        assert view.last_seen == T and view.last_cleaned_at == T - timedelta(hours=1)
        assert view.last_seen.tzinfo is UTC and view.last_cleaned_at.tzinfo is UTC
    finally:
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text(f'ALTER DATABASE "{name}" RESET timezone'))
        engine.dispose()
