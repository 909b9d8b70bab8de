"""Station QR labels and the one-tap actions a scan leads to: the label's link (a station, never a person), reading
it back from a scan, the printable label and zone sheet, and staff start/end use and problem reports recorded as
the very events a device sends, so the state, the statistics and the cleaning rules treat both alike."""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from dataclasses import asdict
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar
from urllib.parse import parse_qs, urlsplit

import pytest
from PIL import Image
from sqlalchemy import Engine, select

from kiosk.lobby.camera import read_qr
from shared.equipment import board
from shared.equipment.events import Decoded
from shared.equipment.ingest import record_batch
from shared.equipment.ingest_rows import EVENTS
from shared.equipment.labels import (
    LABEL_SIZE,
    PAGE_SIZE,
    StationRef,
    label_image,
    label_zones,
    parse_station,
    sheet_pages,
    station_label,
    station_url,
    zone_labels,
    zone_sheet,
)
from shared.equipment.payloads import decode
from shared.equipment.stations import register_equipment
from shared.equipment.usage import usage_stats
from shared.staff.audit import recent_audit
from shared.store.db import read_session, unit_of_work
from shared.store.errors import NotFound, ValidationFailed
from tests.clock import AFTER_MIDNIGHT, BEFORE_MIDNIGHT
from tests.factories import read_station
from tests.pdf_support import read_qr_codes

STAFF = "https://staff.clinic.example"
NOW = datetime.now(UTC).replace(microsecond=0)
HOSTILE = "<img src=x onerror=alert(1)> **Rower** [x](https://evil)"


T = TypeVar("T")


def act(engine: Engine, action: Callable[..., T], **kwargs: Any) -> T:
    """A board action as the staff app runs it: in a unit of work of its own."""
    with unit_of_work(engine) as session:
        return action(session=session, **kwargs)


def ago(minutes: float) -> datetime:
    return NOW - timedelta(minutes=minutes)


def device(equipment_id: str, channel: str, body: dict[str, object], at: datetime) -> Decoded:
    payload = json.dumps({**body, "ts": at.isoformat()}).encode()
    return decode(f"clinic/main/equipment/{equipment_id}/{channel}", payload, prefix="clinic", received_at=at)


def png(image: Image.Image) -> bytes:
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


@pytest.fixture
def gym(engine: Engine) -> Engine:
    """Two identical treadmills (one worked by staff taps, one by its device), bars, and a station elsewhere."""
    for equipment_id in ("tm-staff", "tm-device"):
        with unit_of_work(engine) as session:
            register_equipment(session=session, site="main", equipment_id=equipment_id, name="Treadmill", zone="Gym A")
    with unit_of_work(engine) as session:
        register_equipment(session=session, site="main", equipment_id="bars-1", name="Parallel bars", zone="Gym B")
        register_equipment(
            session=session, site="main", equipment_id="mat-1", name=HOSTILE, zone="Gym B", clean_after_use=False
        )
        register_equipment(session=session, site="north", equipment_id="bars-1", name="North bars", zone="Gym A")
    return engine


# --- the link ---------------------------------------------------------------------------------------------------


def test_the_label_links_to_the_staff_scan_page_with_the_station_and_nothing_else(gym: Engine) -> None:
    with read_session(gym) as session:
        label = station_label(session=session, site="main", equipment_id="mat-1", staff_url=STAFF + "/", tz=UTC)
    assert label.url == f"{STAFF}/scan?s=main/mat-1"
    parts = urlsplit(label.url)
    assert parse_qs(parts.query) == {"s": ["main/mat-1"]}, "no token, no name, no user, no patient"
    assert "img" not in label.url and "Rower" not in label.url
    assert station_url("http://localhost:8502", "north", "bars-1") == "http://localhost:8502/scan?s=north/bars-1"


@pytest.mark.parametrize(
    "scanned",
    [
        f"{STAFF}/scan?s=main/tm-1",
        f"{STAFF}/scan?s=main%2Ftm-1",
        f"  {STAFF}/scan?s=main/tm-1\r\n",  # a scanner types the link and Enter
        "s=main/tm-1",
        "main/tm-1",
        "tm-1",  # typed by hand: this clinic's site
    ],
)
def test_a_scan_or_typed_text_reads_back_the_station(scanned: str) -> None:
    assert parse_station(scanned, default_site="main") == StationRef("main", "tm-1")


@pytest.mark.parametrize(
    "scanned",
    ["", "   ", "tm-1/", "main/tm-1/x", "main/TM 1", "../etc/passwd", "https://lobby.example/?t=abcdefghijklmnopqrstu",
     f"{STAFF}/scan?x=main/tm-1", "main/" + "x" * 65, "s=" + "a" * 3000],
)  # fmt: skip
def test_anything_else_is_not_a_station(scanned: str) -> None:
    assert parse_station(scanned, default_site="main") is None


def test_a_bare_id_needs_a_site() -> None:
    assert parse_station("tm-1") is None
    assert str(parse_station("north/bars-1")) == "north/bars-1"


def test_round_trip_from_the_link_to_the_station(gym: Engine) -> None:
    views = [read_station(gym, "tm-staff"), read_station(gym, "bars-1", site="north")]
    for view in views:
        ref = parse_station(station_url(STAFF, view.site, view.id))
        assert ref == StationRef(view.site, view.id)


# --- the printable label and the zone sheet ----------------------------------------------------------------------


def test_the_printed_label_decodes_to_its_link(gym: Engine) -> None:
    for equipment_id in ("tm-staff", "mat-1"):
        with read_session(gym) as session:
            label = station_label(session=session, site="main", equipment_id=equipment_id, staff_url=STAFF, tz=UTC)
        assert label.image.size == LABEL_SIZE  # 50 x 30 mm at 300 dpi
        assert read_qr(png(label.image)) == label.url


def test_a_long_name_still_leaves_the_code_readable() -> None:
    url = station_url("https://a-rather-long-host-name.physio-clinic.example:8502/staff", "main", "x" * 60)
    image = label_image(url, name="W" * 300, zone="Z " * 200, site="main", equipment_id="x" * 60)
    assert image.size == LABEL_SIZE
    assert read_qr(png(image)) == url


def test_an_unknown_station_has_no_label(gym: Engine) -> None:
    with pytest.raises(NotFound, match="no equipment 'nope' at site 'main'"), read_session(gym) as session:
        station_label(session=session, site="main", equipment_id="nope", staff_url=STAFF, tz=UTC)


def test_a_zone_sheet_has_one_label_per_station_of_the_zone(gym: Engine) -> None:
    with read_session(gym) as session:
        assert label_zones(session=session, site="main", tz=UTC) == ["Gym A", "Gym B"]
        labels = zone_labels(session=session, site="main", zone="Gym B", staff_url=STAFF, tz=UTC)
    assert sorted(label.station.id for label in labels) == ["bars-1", "mat-1"]
    pages = sheet_pages([label.image for label in labels], title="Gym B")
    assert [page.size for page in pages] == [PAGE_SIZE]
    found = {r.text for r in read_qr_codes(pages[0])}
    assert found == {f"{STAFF}/scan?s=main/bars-1", f"{STAFF}/scan?s=main/mat-1"}
    with read_session(gym) as session:
        sheet = zone_sheet(session=session, site="main", zone="Gym B", staff_url=STAFF, tz=UTC)
    assert (sheet.labels, sheet.pages) == (2, 1)
    assert sheet.pdf.startswith(b"%PDF") and sheet.pdf.count(b"/Type /Page\n") == 1
    with pytest.raises(NotFound, match="no equipment in zone 'Gym Z' at site 'main'"), read_session(gym) as session:
        zone_sheet(session=session, site="main", zone="Gym Z", staff_url=STAFF, tz=UTC)


def test_a_big_zone_fills_several_pages() -> None:
    label = label_image(f"{STAFF}/scan?s=main/x", name="X", zone="Z", site="main", equipment_id="x")
    pages = sheet_pages([label] * 30, title="Z")
    assert len(pages) == 2
    assert len(read_qr_codes(pages[0])) == 24 and len(read_qr_codes(pages[1])) == 6


# --- taps recorded as a device's events -------------------------------------------------------------------------

STATE_FIELDS = ("status", "in_use_since", "needs_cleaning_since", "used_without_cleaning", "uses_today",
                "uses_total", "in_use_seconds_total", "fault_severity", "fault_message")  # fmt: skip


def same_state(engine: Engine) -> None:
    staff, dev = asdict(read_station(engine, "tm-staff")), asdict(read_station(engine, "tm-device"))
    assert {k: staff[k] for k in STATE_FIELDS} == {k: dev[k] for k in STATE_FIELDS}


@pytest.mark.parametrize(("clock", "uses_today"), [
    pytest.param(BEFORE_MIDNIGHT, 1, id="before-midnight"), pytest.param(AFTER_MIDNIGHT, 0, id="after-midnight"),
], indirect=["clock"])  # fmt: skip
def test_start_and_end_use_change_the_state_exactly_as_a_device_does(
    gym: Engine, clock: datetime, uses_today: int
) -> None:
    """A use started 50 minutes before the clock: today's just before midnight, yesterday's just after."""

    def ago(minutes: float) -> datetime:
        return clock - timedelta(minutes=minutes)

    args = {"site": "main", "equipment_id": "tm-staff", "by": "ana", "tz": UTC}
    started = act(gym, board.start_use, now=ago(50), **args)
    record_batch(
        engine=gym, items=[device("tm-device", "usage", {"event_id": "d1", "event": "start"}, ago(50))], tz=UTC
    )
    assert read_station(gym, "tm-staff").status == "in_use"
    same_state(gym)

    act(gym, board.end_use, now=ago(30), **args)
    record_batch(engine=gym, items=[device("tm-device", "usage", {"event_id": "d2", "event": "stop"}, ago(30))], tz=UTC)
    view = read_station(gym, "tm-staff")
    assert (view.status, view.uses_today, view.in_use_seconds_total) == ("needs_cleaning", uses_today, 1200.0)
    same_state(gym)

    act(gym, board.start_use, now=ago(20), **args)  # used again before a cleaning: the board's alert
    record_batch(
        engine=gym, items=[device("tm-device", "usage", {"event_id": "d3", "event": "start"}, ago(20))], tz=UTC
    )
    act(gym, board.end_use, now=ago(10), **args)
    record_batch(engine=gym, items=[device("tm-device", "usage", {"event_id": "d4", "event": "stop"}, ago(10))], tz=UTC)
    assert read_station(gym, "tm-staff").used_without_cleaning == 1
    same_state(gym)
    assert board.alerts(read_station(gym, "tm-staff"), UTC) == ("Used again without cleaning (once)",)

    with gym.connect() as conn:
        query = select(EVENTS).where(EVENTS.c.site == "main", EVENTS.c.equipment_id == "tm-staff")
        rows = conn.execute(query.order_by(EVENTS.c.event_at)).all()
    start, stop = ("usage", "start", "staff", "ana"), ("usage", "stop", "staff", "ana")
    assert [(r.channel, r.event, r.source, r.by) for r in rows] == [start, stop, start, stop]
    assert rows[0].session_id == rows[1].session_id == started and started.startswith("staff-")
    assert rows[2].session_id == rows[3].session_id != started
    with read_session(gym) as db:
        audit = [(e.actor, e.action, e.target) for e in recent_audit(session=db)][:2]
    assert audit == [("ana", "equipment.use_ended", "main/tm-staff"), ("ana", "equipment.use_started", "main/tm-staff")]

    with read_session(gym) as session:
        found = usage_stats(session=session, site="main", days=2, tz=UTC, now=clock)  # across midnight
    stats = {s.equipment_id: s for s in found}
    staff, dev = stats["tm-staff"], stats["tm-device"]
    assert (staff.uses_by_day, staff.minutes_by_day) == (dev.uses_by_day, dev.minutes_by_day)
    assert sum(staff.minutes_by_day.values()) == 30.0
    assert (staff.uses_needing_cleaning, staff.cleaned_before_next_use) == (2, 0)


def test_a_station_not_cleaned_after_use_is_available_again(gym: Engine) -> None:
    args = {"site": "main", "equipment_id": "mat-1", "by": "ana", "tz": UTC}
    act(gym, board.start_use, **args)
    act(gym, board.end_use, **args)
    assert read_station(gym, "mat-1").status == "available"


def test_a_cleaning_tap_after_a_use_makes_the_station_available(gym: Engine) -> None:
    args = {"site": "main", "equipment_id": "tm-staff", "by": "ana", "tz": UTC}
    act(gym, board.start_use, now=ago(20), **args)
    act(gym, board.end_use, now=ago(10), **args)
    act(gym, board.mark_cleaned, method="uv", now=ago(5), **args)
    view = read_station(gym, "tm-staff")
    assert (view.status, view.last_cleaned_by) == ("available", "ana")
    with read_session(gym) as session:
        found = usage_stats(session=session, site="main", days=2, tz=UTC, now=NOW)  # across midnight
    stats = {s.equipment_id: s for s in found}
    assert (stats["tm-staff"].cleaned_before_next_use, stats["tm-staff"].minutes_to_clean) == (1, [5.0])


def test_taps_that_do_not_fit_the_status_are_refused(gym: Engine) -> None:
    args = {"site": "main", "equipment_id": "tm-staff", "by": "ana", "tz": UTC}
    with pytest.raises(ValidationFailed, match="the station is not in use"):
        act(gym, board.end_use, **args)
    act(gym, board.start_use, **args)
    with pytest.raises(ValidationFailed, match="already in use"):
        act(gym, board.start_use, **args)
    act(gym, board.report_problem, severity="critical", message="Belt torn", **args)
    with pytest.raises(ValidationFailed, match="out of service"):
        act(gym, board.start_use, site="main", equipment_id="tm-staff", by="ana", tz=UTC)
    with pytest.raises(NotFound):
        act(gym, board.start_use, site="main", equipment_id="nope", by="ana", tz=UTC)
    assert read_station(gym, "tm-staff").uses_total == 1


def test_problem_reports_are_fault_events_a_critical_one_takes_the_station_out(gym: Engine) -> None:
    args = {"site": "main", "equipment_id": "tm-staff", "by": "ana", "tz": UTC}
    with pytest.raises(ValidationFailed, match="describe the problem"):
        act(gym, board.report_problem, message="  ", **args)
    with pytest.raises(ValidationFailed, match="severity must be one of warning, critical"):
        act(gym, board.report_problem, message="Squeaks", severity="info", **args)

    act(gym, board.report_problem, message="Squeaks <loudly>", now=ago(30), **args)
    fault = {"event_id": "f1", "event": "fault", "severity": "warning", "message": "Squeaks <loudly>"}
    record_batch(engine=gym, items=[device("tm-device", "fault", fault, ago(30))], tz=UTC)
    view = read_station(gym, "tm-staff")
    assert (view.status, view.fault_code, view.fault_severity) == ("available", "reported", "warning")
    same_state(gym)

    act(gym, board.report_problem, message="Belt torn", severity="critical", now=ago(20), **args)
    fault = {"event_id": "f2", "event": "fault", "severity": "critical", "message": "Belt torn"}
    record_batch(engine=gym, items=[device("tm-device", "fault", fault, ago(20))], tz=UTC)
    view = read_station(gym, "tm-staff")
    assert (view.status, view.fault_message) == ("out_of_service", "Belt torn")
    same_state(gym)
    with read_session(gym) as session:
        entry = recent_audit(session=session)[0]
    assert (entry.actor, entry.action, entry.detail) == ("ana", "equipment.problem_reported", "critical: Belt torn")

    act(gym, board.back_in_service, now=ago(10), **args)
    cleared = device("tm-device", "fault", {"event_id": "f3", "event": "cleared"}, ago(10))
    record_batch(engine=gym, items=[cleared], tz=UTC)
    assert read_station(gym, "tm-staff").status == "available"
    same_state(gym)
