"""The scan page of the staff app through AppTest: a station label's link shows the station and its status, each
one-tap action changes the store as the signed-in user (audited under their name), a signed-out scan goes through
sign-in and back to the same station, names show as typed, and equipment managers get a zone's label sheet."""

from __future__ import annotations

import re
from datetime import UTC
from typing import Any

import pytest
from sqlalchemy import Engine, select, text
from streamlit.testing.v1 import AppTest
from streamlit.testing.v1.element_tree import Radio, TextInput

from shared.equipment.disinfectants import add_disinfectant
from shared.equipment.faults import current_reports
from shared.equipment.ingest import record_batch
from shared.equipment.ingest_rows import EVENTS
from shared.store.db import read_session, unit_of_work
from tests import factories as make
from tests.kiosk.staff_app import (
    KIOSK,
    STAFF,
    add_staff,
    errors,
    go_idle,
    sign_in,
    signed_in,
    successes,
    texts,
)

# Page behaviour does not depend on the backend; the services behind it run on both in
# tests/shared/equipment/test_labels.py.
pytestmark = [
    pytest.mark.usefixtures("staff_env"),
    pytest.mark.parametrize("db_url", ["sqlite"], indirect=True),
]
HOSTILE = "<img src=x onerror=alert(1)> **Mat** [x](https://evil)"
STATUS_RE = re.compile(r"id='scan-status'><span [^>]*>([^<]*)</span>")
SCAN = "screens/scan.py"


@pytest.fixture
def gym(engine: Engine) -> Engine:
    """A treadmill its device says is in use, free bars, a mat with a hostile name; a technician and an admin."""
    make.station(engine, "tm-1", "Treadmill 1", zone="Gym A")
    make.station(engine, "bars-1", "Parallel bars", zone="Gym B")
    make.station(engine, "mat-1", HOSTILE, zone="<b>Gym B</b>")
    record_batch(
        engine=engine, items=[make.device_message("tm-1", "usage", {"event_id": "d1", "event": "start"}, 4)], tz=UTC
    )
    add_staff(engine, "ana", "technician", "Ana K.")
    add_staff(engine, "boss", "admin", "The Boss")
    return engine


def scan_page(username: str, station: str | None) -> AppTest:
    """A session signed in as `username` that opens a label's link (`/scan?s=<station>`)."""
    app = signed_in(username)
    if station is not None:
        app.query_params["s"] = station
    app.switch_page(SCAN).run()
    assert not app.exception, app.exception
    return app


def status(app: AppTest) -> str:
    found = [m for block in app.markdown for m in STATUS_RE.findall(block.value)]
    assert len(found) == 1, texts(app)
    return found[0]


def tap(app: AppTest, key: str) -> AppTest:
    app.button(key=key).click()
    app.run()
    assert not app.exception, app.exception
    return app


def asked(app: AppTest, label: str) -> Radio[Any]:
    """One of the problem report's questions, by its label (its key changes with each report sent)."""
    (found,) = [r for r in app.radio if r.label == label]
    return found


def notes(app: AppTest) -> TextInput:
    (found,) = [t for t in app.text_input if t.label == "Notes (optional)"]
    return found


def test_the_labels_link_shows_the_station_and_its_live_status(gym: Engine) -> None:
    app = scan_page("ana", "main/tm-1")
    assert [t.value for t in app.title] == ["Scan a station"]
    page = "\n".join(m.value for m in app.markdown)
    assert "<h2>Treadmill 1</h2>" in page and "Gym A · main/tm-1" in page
    assert status(app) == "in use for 4 min"
    assert app.button(key="scan-start").disabled and app.button(key="scan-clean").disabled
    assert not app.button(key="scan-end").disabled
    assert "Print labels" not in texts(app), "only for users who manage equipment"


def test_each_tap_changes_the_store_and_is_audited_under_the_user(gym: Engine) -> None:
    app = scan_page("ana", "main/bars-1")
    assert status(app) == "available"

    tap(app, "scan-start")
    assert make.read_station(gym, "bars-1").status == "in_use"
    assert make.last_audit(gym)[:3] == ("ana", "equipment.use_started", "main/bars-1")
    assert status(app) == "in use for 0 min"
    assert successes(app) == ["Parallel bars: use started"]

    tap(app, "scan-end")
    view = make.read_station(gym, "bars-1")
    assert (view.status, view.uses_today) == ("needs_cleaning", 1)
    assert make.last_audit(gym)[:3] == ("ana", "equipment.use_ended", "main/bars-1")
    assert status(app) == "needs cleaning for 0 min"
    assert "Not cleaned since its last use: clean it before the next patient." in [w.value for w in app.warning]

    app.button_group(key="scan-method-bars-1").set_value("uv")
    tap(app, "scan-clean")
    view = make.read_station(gym, "bars-1")
    assert (view.status, view.last_cleaned_by) == ("available", "ana")
    assert make.last_audit(gym) == ("ana", "equipment.cleaned", "main/bars-1", "uv")
    assert successes(app) == ["Parallel bars: cleaned (UV)"]

    asked(app, "What is wrong?").set_value("damaged_surface")
    notes(app).set_value("Left rail <loose>")
    tap(app, "scan-report")
    said = "Damaged surface or upholstery: Left rail <loose>"  # the board's fault categories, then the notes
    view = make.read_station(gym, "bars-1")
    assert (view.status, view.fault_severity, view.fault_message) == ("available", "warning", said)
    assert make.last_audit(gym) == ("ana", "equipment.problem_reported", "main/bars-1", f"warning: {said}")
    assert f"Problem (warning): {said}" in [t.value for t in app.text]
    assert notes(app).value == "", "ready for the next report"
    assert asked(app, "What is wrong?").value is None

    asked(app, "What is wrong?").set_value("other")
    notes(app).set_value("Rail came off")
    asked(app, "How bad is it?").set_value("critical")
    tap(app, "scan-report")
    assert make.read_station(gym, "bars-1").status == "out_of_service"
    # A critical problem is the board's fault report: out of service, its category and notes in the audit (and
    # a photo when one was taken), shown in the station's card on the board.
    assert make.last_audit(gym)[1:] == ("equipment.out_of_service", "main/bars-1",
                                        '{"category": "Other", "notes": "Rail came off", "photo": null}')  # fmt: skip
    assert successes(app)[-1:] == ["Parallel bars: taken out of service"]
    with read_session(gym) as session:
        report = current_reports(session=session, site="main")[("main", "bars-1")]
    assert (report.category, report.notes, report.by) == ("Other", "Rail came off", "ana")
    assert asked(app, "What is wrong?").value is None, "the form is empty for the next report"
    assert app.button(key="scan-start").disabled

    tap(app, "scan-back")
    assert make.read_station(gym, "bars-1").status == "available"
    assert make.last_audit(gym)[:3] == ("ana", "equipment.back_in_service", "main/bars-1")

    with gym.connect() as conn:
        rows = conn.execute(select(EVENTS).where(EVENTS.c.equipment_id == "bars-1").order_by(EVENTS.c.id)).all()
    assert [(r.channel, r.event, r.source, r.by) for r in rows] == [
        ("usage", "start", "staff", "ana"),
        ("usage", "stop", "staff", "ana"),
        ("cleaning", "cleaned", "staff", "ana"),
        ("fault", "fault", "staff", "ana"),
        ("fault", "fault", "staff", "ana"),
        ("fault", "cleared", "staff", "ana"),
    ]
    assert rows[0].session_id == rows[1].session_id is not None and rows[2].method == "uv"


def test_a_problem_needs_its_kind_and_a_refusal_stays_visible(gym: Engine) -> None:
    app = tap(scan_page("ana", "main/bars-1"), "scan-report")
    assert errors(app) == ["Choose what kind of fault it is"]
    asked(app, "What is wrong?").set_value("other")
    tap(app, "scan-report")
    assert errors(app) == ["Say what is wrong in the notes when the fault is Other"]
    assert make.read_station(gym, "bars-1").fault_code is None


def test_a_signed_out_scan_goes_through_sign_in_to_the_same_station(gym: Engine) -> None:
    app = AppTest.from_file(STAFF, default_timeout=30)
    app.query_params["s"] = "main/tm-1"
    app.switch_page(SCAN)  # the label's link in a browser that is not signed in
    app.run()
    assert [t.value for t in app.title] == ["Staff sign-in"]
    assert [b.label for b in app.button] == ["Sign in"]
    assert not [m for m in app.markdown if "Treadmill" in m.value], "nothing about the station before sign-in"

    sign_in(app, "ana")
    assert not app.exception, app.exception
    assert [t.value for t in app.title] == ["Scan a station"]
    assert status(app) == "in use for 4 min"
    tap(app, "scan-end")
    assert make.read_station(gym, "tm-1").status == "needs_cleaning"
    assert make.last_audit(gym)[:3] == ("ana", "equipment.use_ended", "main/tm-1")


def test_the_page_itself_asks_to_sign_in(gym: Engine) -> None:
    direct = AppTest.from_file(str(KIOSK / "screens" / "scan.py"), default_timeout=30)
    direct.query_params["s"] = "main/tm-1"
    direct.run()
    assert errors(direct) == ["Please sign in."]
    assert not direct.button


def test_a_hostile_name_shows_as_typed(gym: Engine) -> None:
    app = scan_page("ana", "main/mat-1")
    page = "\n".join(m.value for m in app.markdown)
    assert "<h2>&lt;img src=x onerror=alert(1)&gt; **Mat** [x](https://evil)</h2>" in page
    assert "&lt;b&gt;Gym B&lt;/b&gt;" in page and "<img" not in page
    tap(app, "scan-start")
    assert successes(app) == [f"{HOSTILE}: use started"]  # Markdown-escaped, read as typed
    assert app.success[0].value.startswith("\\<img src=x onerror=alert\\(1\\)\\> \\*\\*Mat\\*\\*")


def test_a_scanner_or_typed_id_chooses_another_station(gym: Engine) -> None:
    app = scan_page("ana", "main/tm-1")
    app.text_input(key="scan_code").input("http://localhost:8502/scan?s=main/bars-1\r\n").run()
    assert not app.exception
    assert app.query_params["s"] == "main/bars-1", "kept in the address: a reload shows the same station"
    assert "<h2>Parallel bars</h2>" in "\n".join(m.value for m in app.markdown)
    assert app.text_input(key="scan_code").value == "", "ready for the next scan"

    app.text_input(key="scan_code").input("mat-1").run()
    assert "main/mat-1" in "\n".join(m.value for m in app.markdown)

    app.text_input(key="scan_code").input("https://lobby.example/?t=abcdefghijklmnopqrstuvwxyz").run()
    assert errors(app) == ["That is not a station label. Scan the QR label on the station, or type its id (e.g. tm-1)."]


def test_without_a_station_the_page_asks_for_a_scan(gym: Engine) -> None:
    app = scan_page("ana", None)
    assert [t.label for t in app.text_input] == ["Station code"]
    assert not [b for b in app.button if (b.key or "").startswith("scan-")]


@pytest.mark.parametrize(
    ("scanned", "message"),
    [
        ("main/nope", "No station main/nope is registered. Scan another label, or ask an administrator."),
        ("../../etc", "That is not a station label. Scan the QR label on the station, or type its id (e.g. tm-1)."),
    ],
)
def test_an_unknown_or_malformed_station_is_an_error_not_a_crash(gym: Engine, scanned: str, message: str) -> None:
    app = scan_page("ana", scanned)
    assert errors(app) == [message]
    assert not [b for b in app.button if (b.key or "").startswith("scan-")]


def test_a_tap_after_the_idle_timeout_is_not_recorded(gym: Engine) -> None:
    app = scan_page("ana", "main/bars-1")
    go_idle(gym, app, 31 * 60)
    app.button(key="scan-start").click()
    app.run()
    assert [t.value for t in app.title] == ["Staff sign-in"]
    assert make.read_station(gym, "bars-1").status == "available"
    assert make.last_audit(gym)[1] != "equipment.use_started"


def test_equipment_managers_download_a_zones_label_sheet(gym: Engine) -> None:
    app = scan_page("boss", "main/tm-1")
    assert "Print labels" in [s.value for s in app.header]
    assert app.selectbox(key="labels_zone").options == ["<b>Gym B</b>", "Gym A", "Gym B"]
    app.selectbox(key="labels_zone").set_value("Gym B").run()
    downloads = app.get("download_button")
    assert [d.label for d in downloads] == ["Download the zone's label sheet (PDF)"]  # made when clicked
    assert "A4, 24 labels of 50 x 30 mm a page" in app.caption[-1].value


def test_cleaned_on_the_scan_page_says_which_disinfectant_as_the_board_does(gym: Engine) -> None:
    """With several disinfectants listed, the phone at the station asks which one (the station's usual one chosen),
    and the inspector's record keeps it; with one or none it stays one tap."""
    app = scan_page("ana", "main/bars-1")
    assert not [c for c in app.get("button_group") if c.label == "Disinfectant"], "none listed: nothing to ask"
    with unit_of_work(gym) as session:
        add_disinfectant(session=session, name="Quat wipes", contact_min=2, by="cli:admin", default=True)
        add_disinfectant(session=session, name="Bleach 1:10", contact_min=10, by="cli:admin")
    app = scan_page("ana", "main/bars-1")
    choice = app.button_group(key="scan-disinfectant-bars-1")
    assert (choice.label, choice.options, choice.value) == ("Disinfectant", ["Quat wipes", "Bleach 1:10"],
                                                            "Quat wipes")  # fmt: skip
    choice.set_value("Bleach 1:10")
    tap(app, "scan-clean")
    assert successes(app) == ["Parallel bars: cleaned (Wipe, Bleach 1:10)"]
    with gym.connect() as conn:
        rows = conn.execute(text("SELECT equipment_id, by, disinfectant, contact_min FROM equipment_record")).all()
    assert [tuple(r) for r in rows] == [("bars-1", "ana", "Bleach 1:10", 10.0)]
