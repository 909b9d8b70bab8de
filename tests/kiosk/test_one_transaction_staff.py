"""One user action, one transaction (#24): staff sign-in and a board action ("Mark cleaned") each open exactly one
transaction on the store, their reads included, on SQLite and PostgreSQL.

Counted with tests/transactions.py on the engine the code under test uses: the test's for the sign-in as the page
runs it (its unit of work around the use case), the staff app's own for the kit's station action and for the
clicks in the app (where the page's redraw reads too, so there the action is the one transaction that writes).
"""

from __future__ import annotations

from datetime import UTC

import pytest
from sqlalchemy import Engine
from streamlit.testing.v1 import AppTest

from kiosk import resources
from kiosk.staff.kit import station_action
from shared.equipment.ingest import record_batch
from shared.staff.audit import recent_audit
from shared.staff.sign_in import REFUSED, sign_in
from shared.store.db import read_session, unit_of_work
from shared.store.errors import ClinicError
from tests import factories as make
from tests.kiosk.staff_app import PASSWORD, add_staff, new_app, signed_in
from tests.transactions import WRITES, Transactions, count_transactions

pytestmark = pytest.mark.usefixtures("staff_env")


@pytest.fixture
def gym(engine: Engine) -> Engine:
    """A treadmill waiting to be cleaned after a use, and a technician."""
    make.station(engine, "tm-1", "Treadmill 1", zone="Gym A")
    record_batch(engine=engine, items=make.use_messages("tm-1", 1, 30, 20), tz=UTC)
    add_staff(engine, "ana", "technician", "Ana K.")
    return engine


def the_writing_one(seen: Transactions) -> list[str]:
    """The statements of the one transaction that wrote (failing when none or several did)."""
    writing = [stmts for stmts in seen.statements if any(s.split(None, 1)[0].upper() in WRITES for s in stmts)]
    assert len(writing) == 1 == seen.writing, seen.describe()
    return writing[0]


def ran(statements: list[str], start: str, table: str) -> bool:
    """Whether a statement beginning with `start` (SELECT, INSERT INTO, UPDATE) on `table` ran."""
    return any(s.upper().startswith(start) and f" {table} " in f" {s.replace(chr(10), ' ')} " for s in statements)


@pytest.mark.parametrize(
    ("username", "password", "signed"),
    [("ana", PASSWORD, True), ("ana", "not the password", False), ("nobody", PASSWORD, False)],
    ids=["right password", "wrong password", "unknown user"],
)
def test_a_sign_in_is_one_transaction_right_or_refused(gym: Engine, username: str, password: str, signed: bool) -> None:
    with count_transactions(gym) as seen, unit_of_work(gym) as session:  # as the sign-in page runs it
        answer = sign_in(session=session, username=username, password=password, user_agent="Firefox", max_hours=12)
    assert (answer.user is not None, answer.opened is not None) == (signed, signed)
    assert answer.message == ("Signed in." if signed else REFUSED)
    assert (seen.opened, seen.writing) == (1, 1), seen.describe()


def test_signing_in_through_the_form_checks_opens_the_web_session_and_audits_in_one_transaction(gym: Engine) -> None:
    app = new_app()
    app.text_input(key="sign_in_username").set_value("ana")
    app.text_input(key="sign_in_password").set_value(PASSWORD)
    with count_transactions(resources.engine()) as seen:
        app.button[0].click()
        app.run()
    assert not app.exception, app.exception
    assert app.session_state["staff_user"].username == "ana"
    signing_in = the_writing_one(seen)  # the redraw after it only reads
    assert ran(signing_in, "SELECT", "staff_account"), "the password check's read is in it"
    assert ran(signing_in, "UPDATE", "staff_account")
    assert ran(signing_in, "INSERT INTO", "audit_entry")
    assert ran(signing_in, "INSERT INTO", "staff_web_session")


def test_the_kits_mark_cleaned_is_one_transaction_and_so_is_its_refusal(gym: Engine) -> None:
    refusals: list[ClinicError] = []
    with count_transactions(resources.engine()) as seen:
        done = station_action("cleaned", site="main", equipment_id="tm-1", by="ana", refused=refusals.append)
    assert (done, refusals) == ("cleaned", [])
    assert (seen.opened, seen.writing) == (1, 1), seen.describe()
    with count_transactions(resources.engine()) as seen:
        done = station_action("cleaned", site="main", equipment_id="nope", by="ana", refused=refusals.append)
    assert done is None and [str(r) for r in refusals] == ["no equipment 'nope' at site 'main'"]
    assert (seen.opened, seen.writing) == (1, 0), seen.describe()


def test_mark_cleaned_on_the_board_checks_the_station_and_records_the_event_and_audit_in_one_transaction(
    gym: Engine,
) -> None:
    app: AppTest = signed_in("ana")
    with count_transactions(resources.engine()) as seen:
        app.button(key="clean-tm-1").click()
        app.run()
    assert not app.exception, app.exception
    cleaning = the_writing_one(seen)  # the board's redraw only reads
    assert ran(cleaning, "SELECT", "equipment"), "the check that the station is registered is in it"
    assert ran(cleaning, "SELECT", "equipment_state"), "the status read on the locked row is in it"
    assert ran(cleaning, "INSERT INTO", "equipment_event")
    assert ran(cleaning, "INSERT INTO", "audit_entry")
    with read_session(gym) as session:
        newest = recent_audit(session=session)[0]
    assert (newest.actor, newest.action, newest.target) == ("ana", "equipment.cleaned", "main/tm-1")
