"""Exercise pictures (checked uploads, stored by content) and take-home plan links (opaque, end of day,
revocable), and where the plan sends a patient whose station is busy."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from PIL import Image
from sqlalchemy import Engine, select

from shared.care.exercise_images import MAX_BYTES, image_data_uri, save_image
from shared.care.exercises import add_exercise
from shared.care.models import PlanShare
from shared.care.patients import add_patient
from shared.care.plan_shares import create_share, open_share, revoke_shares
from shared.care.plans import add_plan_item
from shared.care.todays_plan import start_here, todays_plan
from shared.equipment.ingest import record_batch
from shared.equipment.payloads import decode
from shared.equipment.stations import register_equipment
from shared.store.db import read_session, unit_of_work
from shared.store.errors import ValidationFailed

NOW = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)


def picture(kind: str, size: tuple[int, int] = (40, 30)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, "teal").save(out, format=kind)
    return out.getvalue()


@pytest.mark.parametrize("kind", ["PNG", "JPEG"])
def test_a_png_or_jpeg_is_stored_once_as_png(tmp_path: Path, kind: str) -> None:
    name = save_image(tmp_path, picture(kind))
    assert save_image(tmp_path, picture(kind)) == name
    with Image.open(tmp_path / "exercise-images" / name) as stored:
        assert (stored.format, stored.size) == ("PNG", (40, 30))
    assert (image_data_uri(tmp_path, name) or "").startswith("data:image/png;base64,")


@pytest.mark.parametrize(
    ("data", "says"),
    [
        (b"", "the picture is empty"),
        (b"GIF89a not really", "that file is not a PNG or JPEG picture"),
        (picture("GIF"), "the picture is GIF; use a PNG or JPEG file"),
        (b"\x89PNG" + b"0" * MAX_BYTES, "at most 2 MB"),
        (picture("PNG")[:60], "that file is not a PNG or JPEG picture (or it is damaged)"),
        (picture("PNG", (7000, 10)), "the picture is 7000 x 10 pixels; at most 6000"),
    ],
)
def test_a_bad_upload_gets_a_clear_answer_and_nothing_is_stored(tmp_path: Path, data: bytes, says: str) -> None:
    with pytest.raises(ValidationFailed, match=says.replace("(", r"\(").replace(")", r"\)")):
        save_image(tmp_path, data)
    assert not (tmp_path / "exercise-images").exists() or not list((tmp_path / "exercise-images").iterdir())


def test_a_picture_name_never_reads_outside_the_folder(tmp_path: Path) -> None:
    assert image_data_uri(tmp_path, "../../etc/passwd") is None
    assert image_data_uri(tmp_path, "0" * 64 + ".png") is None  # missing


def test_a_share_link_opens_the_day_until_midnight_and_can_be_revoked(engine: Engine) -> None:
    with unit_of_work(engine) as session:
        patient = add_patient(session=session, first="Maria", last="Gonzalez", dob=date(1950, 4, 17))
    assert patient.id is not None
    with unit_of_work(engine) as session:
        token = create_share(session=session, patient_id=patient.id, site="main", tz=UTC, language="es", now=NOW)
    with engine.connect() as conn:
        stored = conn.execute(select(PlanShare.token_hash)).scalar_one()  # type: ignore[call-overload]
    assert token not in stored, "only the hash is stored"
    with read_session(engine) as session:
        opened = open_share(session=session, token=token, now=NOW + timedelta(hours=8, minutes=59))
    assert opened is not None and (opened.patient_id, opened.day, opened.language) == (patient.id, NOW.date(), "es")
    with read_session(engine) as session:
        assert open_share(session=session, token=token, now=NOW + timedelta(hours=9)) is None, "ends at midnight"
        assert open_share(session=session, token="A" * 32, now=NOW) is None
        assert open_share(session=session, token="<script>", now=NOW) is None
    with unit_of_work(engine) as session:
        assert revoke_shares(session=session, patient_id=patient.id, now=NOW) == 1
    with read_session(engine) as session:
        assert open_share(session=session, token=token, now=NOW) is None


def test_a_busy_station_offers_a_free_one_of_its_kind_and_the_first_free_exercise_is_where_to_start(
    engine: Engine,
) -> None:
    with unit_of_work(engine) as session:
        patient = add_patient(session=session, first="Maria", last="Gonzalez", dob=date(1950, 4, 17))
    assert patient.id is not None
    for station, name, kind, zone in (("tm-1", "Treadmill 1", "treadmill", "Gym A"),
                                      ("tm-2", "Treadmill 2", "treadmill", "Gym B"),
                                      ("bike-1", "Bike 1", "bike", "Gym A"), ("bike-2", "Bike 2", "bike", "Gym A"),
                                      ("bars-1", "Bars", "bars", "Gym B")):  # fmt: skip
        with unit_of_work(engine) as session:
            register_equipment(session=session, site="main", equipment_id=station, name=name, kind=kind, zone=zone)
    for exercise, station in (("Walk", "tm-1"), ("Pedal", "bike-1"), ("Bars walk", "bars-1")):
        with unit_of_work(engine) as session:
            add_exercise(session=session, name=exercise)
        with unit_of_work(engine) as session:
            add_plan_item(
                session=session, patient_id=patient.id, exercise=exercise, equipment_id=station, active_from=NOW.date()
            )
    events = [decode(f"clinic/main/equipment/{s}/usage", f'{{"event_id": "{s}", "event": "start"}}'.encode(),
                     prefix="clinic", received_at=NOW) for s in ("tm-1", "bike-1", "bike-2")]  # fmt: skip
    record_batch(engine=engine, items=events, tz=UTC)
    with read_session(engine) as session:
        lines = todays_plan(session=session, patient_id=patient.id, day=NOW.date(), site="main", tz=UTC, now=NOW)
    assert [(line.exercise, line.equipment_status, line.alternative_id) for line in lines] == [
        ("Walk", "in_use", "tm-2"),
        ("Pedal", "in_use", None),
        ("Bars walk", "available", None),
    ]
    assert start_here(lines) == 2
    assert start_here(lines[:2]) == 0, "with no free station, start where a free alternative is"
