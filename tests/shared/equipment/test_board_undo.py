"""Board actions with Undo (#28): an undo puts the station back as it was and records a correction (an event
and an audit entry pointing at what it undoes), refused once the station changed, too late, or for someone else;
one rule says which actions a station offers, everywhere; a fault report has a category, notes and a photo kept
with its event (images only, size-limited, 0600, an opaque name)."""

from __future__ import annotations

import io
import stat
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from PIL import Image
from sqlalchemy import Engine, select
from sqlmodel import col

from shared.equipment import undo
from shared.equipment.cleaning_queue import cleaning_queue
from shared.equipment.fault_photos import MAX_BYTES, photo_data_uri, photo_path, photos_dir
from shared.equipment.faults import CATEGORIES, current_reports
from shared.equipment.ingest import record_batch
from shared.equipment.models import EquipmentEvent, FaultReport, StationDay
from shared.equipment.offers import ACTIONS, offered
from shared.equipment.stations import list_stations
from shared.staff.audit import recent_audit
from shared.store.db import read_session, unit_of_work
from shared.store.errors import ClinicError, NotFound, ValidationFailed
from tests import factories as make


def jpeg(size: tuple[int, int] = (640, 480)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(out, format="JPEG")
    return out.getvalue()


@pytest.fixture
def gym(engine: Engine) -> Engine:
    """A treadmill waiting to be cleaned after a use (20 min ago), a free bike."""
    make.station(engine, "tm-1", "Treadmill 1", zone="Gym A", maintenance_interval_hours=0.1)
    make.station(engine, "bike-1", "Bike 1", zone="Gym A")
    record_batch(engine=engine, items=make.use_messages("tm-1", 1, 40, 20), tz=UTC)
    return engine


def act(engine: Engine, action: undo.UndoableAction, data_dir: Path | None = None, **kwargs: object) -> undo.Done:
    with unit_of_work(engine) as session:
        return undo.act(session=session, action=action, site="main", by="ana", tz=UTC, data_dir=data_dir,
                        **kwargs)  # type: ignore[arg-type]  # fmt: skip


def take_back(engine: Engine, done: undo.Done, by: str = "ana", now: datetime | None = None) -> str:
    with unit_of_work(engine) as session:
        return undo.undo(session=session, done=done, by=by, tz=UTC, now=now)


def state(engine: Engine, equipment_id: str) -> tuple[object, ...]:
    view = make.read_station(engine, equipment_id)
    return (view.status, view.needs_cleaning_since, view.last_cleaned_at, view.last_cleaned_by, view.fault_code,
            view.fault_message, view.used_without_cleaning)  # fmt: skip


def day_figures(engine: Engine, equipment_id: str) -> tuple[int, int, int, str]:
    """The station's day figures, summed over its days (a test run near midnight spans two)."""
    with read_session(engine) as session:
        days = [r[0] for r in session.exec(select(StationDay).where(col(StationDay.equipment_id) == equipment_id))]
    return (sum(d.cleanings for d in days), sum(d.cleaned_before_next_use for d in days), sum(d.faults for d in days),
            "".join(d.clean_wait_minutes for d in days))  # fmt: skip


def test_undoing_mark_cleaned_puts_the_station_back_and_records_a_correction(gym: Engine) -> None:
    before, figures = state(gym, "tm-1"), day_figures(gym, "tm-1")
    done = act(gym, "cleaned", equipment_id="tm-1")
    assert done.sentence == "Treadmill 1: marked cleaned"
    assert make.read_station(gym, "tm-1").last_cleaned_by == "ana"
    assert day_figures(gym, "tm-1")[:2] == (figures[0] + 1, figures[1] + 1)

    assert take_back(gym, done) == "Treadmill 1: undone, it needs cleaning again"
    assert state(gym, "tm-1") == before
    assert day_figures(gym, "tm-1") == figures, "the day's figures no longer count the cleaning"
    with read_session(gym) as session:
        events = session.exec(select(EquipmentEvent).where(col(EquipmentEvent.equipment_id) == "tm-1")
                              .order_by(col(EquipmentEvent.id))).all()  # fmt: skip
    cleaned, correction = events[-2][0], events[-1][0]
    assert (cleaned.channel, cleaned.event, cleaned.event_id) == ("cleaning", "cleaned", done.event_id), "kept"
    assert (correction.channel, correction.event, correction.code, correction.by) == (
        "correction", "undo", done.event_id, "ana")
    actor, action, target, detail = make.last_audit(gym, json_detail=True)
    assert (actor, action, target) == ("ana", "equipment.undo", "main/tm-1")
    assert detail == {"undoes": done.audit_id, "action": "equipment.cleaned", "event": done.event_id,
                      "status": "it needs cleaning"}  # fmt: skip
    with read_session(gym) as session:
        newest = [e.action for e in recent_audit(session=session, limit=2)]
    assert newest == ["equipment.undo", "equipment.cleaned"], "the action's entry is kept"


def test_undo_is_refused_once_a_device_started_a_use_and_nothing_changes(gym: Engine) -> None:
    done = act(gym, "cleaned", equipment_id="tm-1")
    record_batch(engine=gym, items=[make.device_message("tm-1", "usage", {"event_id": "s9", "event": "start"}, 0)],
                 tz=UTC)  # fmt: skip
    changed = state(gym, "tm-1")
    refusal = r"^Treadmill 1 changed since it was marked cleaned \(it is in use now\): nothing was undone$"
    with pytest.raises(ValidationFailed, match=refusal):
        take_back(gym, done)
    assert state(gym, "tm-1") == changed
    with read_session(gym) as session:
        assert [e.action for e in recent_audit(session=session)] == ["equipment.cleaned"]


def test_undo_is_refused_twice_too_late_and_for_someone_else(gym: Engine) -> None:
    done = act(gym, "cleaned", equipment_id="tm-1")
    with pytest.raises(ValidationFailed, match="only ana can undo this"):
        take_back(gym, done, by="ben")
    with pytest.raises(ValidationFailed, match="too late to undo"):
        take_back(gym, done, now=done.at + undo.UNDO_WINDOW + timedelta(seconds=1))
    assert done.undoable(done.at + timedelta(seconds=119)) and not done.undoable(done.at + undo.UNDO_WINDOW)
    take_back(gym, done)
    again = r"^Treadmill 1 changed since it was marked cleaned \(it needs cleaning now\): nothing was undone$"
    with pytest.raises(ValidationFailed, match=again):  # in plain words: never "it is it needs cleaning"
        take_back(gym, done)


def test_out_of_service_back_in_service_and_serviced_are_undone_too(gym: Engine, tmp_path: Path) -> None:
    record_batch(engine=gym, items=[make.device_message("bike-1", "fault", {"event_id": "f1", "event": "fault",
                 "code": "E7", "severity": "warning", "message": "belt slips"}, 5)], tz=UTC)  # fmt: skip
    warned = state(gym, "bike-1")
    out = act(gym, "out", tmp_path, equipment_id="bike-1", category="noise_vibration", note="squeaks")
    assert make.read_station(gym, "bike-1").status == "out_of_service"
    assert take_back(gym, out) == "Bike 1: undone, available again"
    assert state(gym, "bike-1") == warned, "the device's warning is back, not wiped"
    assert day_figures(gym, "bike-1")[2] == 1, "the device's fault still counts, the undone one not"

    act(gym, "out", tmp_path, equipment_id="bike-1", category="electrical")
    down = state(gym, "bike-1")
    back = act(gym, "back", equipment_id="bike-1", note="fixed")
    assert make.read_station(gym, "bike-1").status == "available"
    assert take_back(gym, back) == "Bike 1: undone, out of service again"
    assert state(gym, "bike-1") == down

    due = make.read_station(gym, "tm-1").in_use_hours_since_service
    serviced = act(gym, "serviced", equipment_id="tm-1")
    assert serviced.event_id is None and make.read_station(gym, "tm-1").in_use_hours_since_service == 0
    take_back(gym, serviced)
    assert make.read_station(gym, "tm-1").in_use_hours_since_service == due
    assert make.last_audit(gym, json_detail=True)[3]["action"] == "equipment.serviced"


@pytest.mark.parametrize("role", ["technician", "front_desk", "admin"])
def test_one_rule_says_what_a_station_offers_wherever_it_is_shown(gym: Engine, role: str) -> None:
    act(gym, "cleaned", equipment_id="tm-1")  # in its contact time now
    make.station(gym, "bars-1", "Parallel bars")
    record_batch(engine=gym, items=make.use_messages("bars-1", 2, 30, 10), tz=UTC)
    with read_session(gym) as session:
        stations = {v.id: v for v in list_stations(session=session, tz=UTC, site="main")}
        queued = {i.station.id: i.station for i in cleaning_queue(session=session, site="main", tz=UTC,
                                                                   now=datetime.now(UTC))}  # fmt: skip
    assert set(queued) == {"tm-1", "bars-1"}
    for equipment_id, view in queued.items():  # the card and the queue row see the same answer
        assert offered(view, role=role) == offered(stations[equipment_id], role=role)
    cleaned = {k: offered(v, role=role)["cleaned"].enabled for k, v in stations.items()}
    assert cleaned == {"tm-1": False, "bars-1": True, "bike-1": True}
    assert offered(stations["tm-1"], role=role)["cleaned"].why == (
        "Cleaned already: nothing to do but wait for the disinfectant's contact time.")
    assert offered(stations["tm-1"], role="visitor")["cleaned"].why == "Your role cannot change stations."
    assert not any(o.enabled for o in offered(stations["bike-1"], role="visitor").values())
    assert set(offered(stations["bike-1"], role=role)) == set(ACTIONS)


def test_a_station_in_use_cannot_be_marked_cleaned_and_says_so_when_recording_stopped(gym: Engine) -> None:
    record_batch(engine=gym, items=[make.device_message("bike-1", "usage", {"event_id": "b1", "event": "start"}, 1)],
                 tz=UTC)  # fmt: skip
    view = make.read_station(gym, "bike-1")
    recording, stopped = offered(view, role="technician"), offered(view, role="technician", recording=False)
    assert not recording["cleaned"].enabled and recording["end"].enabled and not recording["start"].enabled
    assert recording["cleaned"].why == "The station is in use: end the use first."
    assert stopped["cleaned"].why is not None and "not being recorded" in stopped["cleaned"].why


def test_a_fault_needs_a_known_category_and_other_needs_notes(gym: Engine, tmp_path: Path) -> None:
    for category, notes, message in [(None, "", "choose what kind of fault it is"),
                                     ("smoke", "", "fault category must be one of wont_start, "),
                                     ("other", "  ", "say what is wrong in the notes when the fault is Other"),
                                     ("wont_start", "x" * 501, "notes are 501 characters; at most 500")]:  # fmt: skip
        with pytest.raises(ValidationFailed, match=f"^{message}"):
            act(gym, "out", tmp_path, equipment_id="bike-1", category=category, note=notes)
    assert make.read_station(gym, "bike-1").status == "available"
    assert not photos_dir(tmp_path).exists(), "nothing written for a refused report"
    with pytest.raises(NotFound):
        act(gym, "out", tmp_path, equipment_id="nope", category="other", note="x", photo=jpeg())
    assert not photos_dir(tmp_path).exists()


def test_a_fault_report_keeps_its_category_notes_and_photo_with_its_event(gym: Engine, tmp_path: Path) -> None:
    done = act(gym, "out", tmp_path, equipment_id="bike-1", category="damaged_surface", note=" seat  torn ",
               photo=jpeg((4000, 3000)))  # fmt: skip
    view = make.read_station(gym, "bike-1")
    assert (view.status, view.fault_code, view.fault_message) == (
        "out_of_service", "manual", "Damaged surface or upholstery: seat torn")
    with read_session(gym) as session:
        report = session.exec(select(FaultReport)).one()[0]
        shown = current_reports(session=session, site="main")
    assert (report.event_id, report.category, report.notes, report.by) == (
        done.event_id, "damaged_surface", "seat torn", "ana")
    assert report.photo is not None and len(report.photo) == 36 and "bike" not in report.photo
    stored = photo_path(tmp_path, report.photo)
    assert stat.S_IMODE(stored.stat().st_mode) == 0o600 and stat.S_IMODE(stored.parent.stat().st_mode) == 0o700
    with Image.open(stored) as image:
        assert (image.format, max(image.size)) == ("JPEG", 1600)
    assert shown[("main", "bike-1")].category == CATEGORIES["damaged_surface"]
    assert shown[("main", "bike-1")].photo == report.photo
    uri = photo_data_uri(tmp_path, report.photo, side=320)
    assert uri is not None and uri.startswith("data:image/jpeg;base64,")
    actor, action, _, detail = make.last_audit(gym, json_detail=True)
    assert (actor, action, detail) == ("ana", "equipment.out_of_service", {
        "category": "Damaged surface or upholstery", "notes": "seat torn", "photo": report.photo})

    act(gym, "back", equipment_id="bike-1")
    with read_session(gym) as session:
        assert current_reports(session=session, site="main") == {}, "back in service: the report is history"


@pytest.mark.parametrize(("data", "message"), [
    (b"<svg xmlns='http://www.w3.org/2000/svg' onload='alert(1)'/>", "that file is not a PNG or JPEG photo"),
    (b"GIF89a" + b"\x00" * 64, "that file is not a PNG or JPEG photo"),
    (b"\xff\xd8\xff" + b"\x00" * (MAX_BYTES + 1), "the photo is 10.0 MB; at most 10 MB"),
    ("bomb", "that file is not a PNG or JPEG photo"),
    ("wide", "the photo is 9500 x 10 pixels; at most 9000"),
    ("gif", "the photo is GIF; use a PNG or JPEG file"),
], ids=["svg-script", "broken-gif", "too-large", "bomb", "too-wide", "gif"])  # fmt: skip
def test_a_hostile_or_wrong_file_is_refused_and_nothing_is_recorded(
    gym: Engine, tmp_path: Path, data: bytes | str, message: str
) -> None:
    if data == "bomb":
        out = io.BytesIO()
        Image.new("1", (20000, 20000)).save(out, format="PNG")  # tiny on disk, 400 M pixels decoded
        data = out.getvalue()
    elif data == "wide":
        out = io.BytesIO()
        Image.new("1", (9500, 10)).save(out, format="PNG")
        data = out.getvalue()
    elif data == "gif":
        out = io.BytesIO()
        Image.new("RGB", (10, 10)).save(out, format="GIF")
        data = out.getvalue()
    assert isinstance(data, bytes)
    with pytest.raises(ClinicError, match=f"^{message}"):
        act(gym, "out", tmp_path, equipment_id="bike-1", category="other", note="see photo", photo=data)
    assert make.read_station(gym, "bike-1").status == "available"
    assert not photos_dir(tmp_path).exists() or not any(photos_dir(tmp_path).iterdir())
    with read_session(gym) as session:
        assert recent_audit(session=session) == [], "nothing recorded"
