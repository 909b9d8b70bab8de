"""The staff app's Maintenance page (#26): a technician reads each task's status, sees an overdue calibration that
blocks use take its station out of service, and marks it done with notes (the station is back); an admin adds
tasks and disinfectants; a front-desk account is refused."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from sqlalchemy import Engine
from streamlit.testing.v1 import AppTest

from shared.equipment.maintenance import add_task
from shared.store.db import read_session, unit_of_work
from shared.store.types import utcnow
from tests import factories as make
from tests.kiosk.staff_app import REFUSED, add_staff, errors, new_app, plain_table, sign_in, texts


def on_page(username: str) -> AppTest:
    app = sign_in(new_app(), username)
    app.switch_page("screens/maintenance.py").run()
    assert not app.exception, app.exception
    return app


def plan(engine: Engine) -> None:
    make.station(engine, "us-1", "Ultrasound 1")
    make.station(engine, "tm-1", "Treadmill 1")
    with unit_of_work(engine) as session:
        add_task(session=session, site="main", equipment_id="us-1", task="Calibration", every_days=365,
                 blocks_use=True, by="admin", now=utcnow() - timedelta(days=370))  # fmt: skip
        add_task(session=session, site="main", equipment_id="tm-1", task="Belt check", every_days=30, by="admin",
                 now=utcnow() - timedelta(days=1))  # fmt: skip


def test_a_technician_marks_an_overdue_calibration_done_and_the_station_is_back(staff_env: Path,
                                                                                engine: Engine) -> None:  # fmt: skip
    plan(engine)
    add_staff(engine, "tess", "technician")
    app = on_page("tess")
    table = plain_table(app, "Maintenance tasks")
    assert table[["Station", "Task", "Schedule", "Status", "Last done", "Blocks use"]].values.tolist() == [
        ["Ultrasound 1", "Calibration", "every 365 days", "overdue", "never", "yes"],
        ["Treadmill 1", "Belt check", "every 30 days", "ok", "never", "no"],
    ]
    station = make.read_station(engine, "us-1")
    assert (station.status, station.fault_message) == ("out_of_service", "Maintenance overdue: Calibration")
    assert "Add a task" not in texts(app)
    app.radio(key="done_task").set_value("us-1/Calibration")
    app.text_area(key="done_notes").set_value("output within 2%")
    next(b for b in app.button if b.label == "Mark done").click()
    app.run()
    assert not app.exception and errors(app) == []
    assert "Ultrasound 1: Calibration done; it is back in service." in texts(app)
    assert make.read_station(engine, "us-1").status == "available"
    done = plain_table(app, "Maintenance tasks")
    assert done["Status"].tolist()[-1] == "ok" and any(v.endswith("by tess") for v in done["Last done"])


def test_an_admin_adds_a_task_and_a_disinfectant(staff_env: Path, engine: Engine) -> None:
    make.station(engine, "us-1", "Ultrasound 1")
    add_staff(engine, "ada", "admin")
    app = on_page("ada")
    assert "No maintenance tasks are planned yet. Add one below." in texts(app)
    app.text_input(key="add_task").set_value("Electrical safety check")
    app.number_input(key="add_every").set_value(180.0)
    app.checkbox(key="add_blocks").check()
    next(b for b in app.button if b.label == "Add task").click()
    app.run()
    assert "Added Electrical safety check to Ultrasound 1's plan." in texts(app)
    assert plain_table(app, "Maintenance tasks")[["Task", "Schedule", "Status", "Blocks use"]].values.tolist() == [
        ["Electrical safety check", "every 180 days", "ok", "yes"]]  # fmt: skip
    app.text_input(key="dis_name").set_value("Quat wipes")
    app.number_input(key="dis_minutes").set_value(3.0)
    next(b for b in app.button if b.label == "Add disinfectant").click()
    app.run()
    assert "Added Quat wipes (3 min)." in texts(app)
    assert plain_table(app, "Disinfectants").values.tolist() == [["Quat wipes", "3", "no"]]
    with read_session(engine) as session:
        from shared.equipment.disinfectants import list_disinfectants

        assert [d.name for d in list_disinfectants(session=session)] == ["Quat wipes"]


def test_the_front_desk_is_refused(staff_env: Path, engine: Engine) -> None:
    add_staff(engine, "fran", "front_desk")
    app = on_page("fran")
    assert errors(app) == [REFUSED]
