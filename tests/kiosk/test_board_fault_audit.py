"""A fault report's photo in the audit log (#28): the admin's audit page shows the photo kept with the report
(a text alternative naming the station), and the entry's detail in words (category, notes, photo's name)."""

from __future__ import annotations

import io
from datetime import UTC
from pathlib import Path

from PIL import Image
from sqlalchemy import Engine

from shared.equipment import undo
from shared.store.db import unit_of_work
from tests import factories as make
from tests.kiosk.staff_app import add_staff, signed_in


def test_the_audit_page_shows_a_fault_reports_photo(engine: Engine, staff_env: Path) -> None:
    make.station(engine, "bike-1", "Bike 1", zone="Gym A")
    add_staff(engine, "boss", "admin")
    picture = io.BytesIO()
    Image.new("RGB", (400, 300), (10, 120, 60)).save(picture, format="PNG")
    with unit_of_work(engine) as session:
        undo.act(session=session, action="out", site="main", equipment_id="bike-1", by="boss", tz=UTC,
                 category="electrical", note="sparks at the plug", photo=picture.getvalue(),
                 data_dir=staff_env)  # fmt: skip
    photo = make.last_audit(engine, json_detail=True)[3]["photo"]
    app = signed_in("boss", "audit.py")
    assert not app.exception, app.exception
    assert [h.value for h in app.header] == ["Fault photos"]
    words = [t.value for t in app.text]
    assert any(w.startswith("main/bike-1, reported by boss at ") and w.endswith(
        f": category: Electrical, notes: sparks at the plug, photo: {photo}") for w in words), words  # fmt: skip
    images = [m.value for m in app.markdown if "<img" in m.value]
    assert len(images) == 1 and "alt='Photo of the fault at main/bike-1'" in images[0]
    assert "src='data:image/jpeg;base64," in images[0]
