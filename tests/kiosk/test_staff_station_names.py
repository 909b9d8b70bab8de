"""Staff give a station its name for Spanish-speaking patients on the Equipment page (AppTest)."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine

from shared.equipment.station_names import given_names
from shared.store.db import read_session
from tests import factories as make
from tests.kiosk.staff_app import add_staff, signed_in, successes

pytestmark = [
    pytest.mark.usefixtures("staff_env"),
    pytest.mark.parametrize("db_url", ["sqlite"], indirect=True),
]


def test_staff_set_and_clear_a_stations_spanish_name(engine: Engine) -> None:
    make.station(engine, "tm-1", "Treadmill 1", zone="Gym A", kind="treadmill")
    add_staff(engine, "boss", "admin", "The Boss")
    app = signed_in("boss", "equipment.py")
    app.selectbox(key="edit_station").set_value("tm-1").run()
    assert app.text_input(key="edit-name-es-tm-1").value == ""
    app.text_input(key="edit-name-es-tm-1").set_value("Cinta de la ventana")
    next(b for b in app.button if b.label == "Save changes").click()
    app.run()
    assert not app.exception, app.exception
    assert successes(app) == ["Saved the changes to Treadmill 1 (tm-1)."]
    with read_session(engine) as session:
        assert given_names(session=session, site="main", lang="es") == {"tm-1": "Cinta de la ventana"}
    assert app.text_input(key="edit-name-es-tm-1").value == "Cinta de la ventana"
    assert make.last_audit(engine)[:3] == ("boss", "equipment.name", "main/tm-1")

    app.text_input(key="edit-name-es-tm-1").set_value("  ")
    next(b for b in app.button if b.label == "Save changes").click()
    app.run()
    with read_session(engine) as session:
        assert given_names(session=session, site="main", lang="es") == {}, "cleared: the kind's word is used again"
