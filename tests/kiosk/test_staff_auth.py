"""Staff sign-in through Streamlit's AppTest: good and bad credentials, lock-out, sign-out, the idle timeout,
and which pages each role reaches, also by a direct address.

The app registers only the pages a role may use, so an address of another page lands on the default page;
each page also checks the role itself (its first line), which the tests check by running a page as the entry.
"""

from __future__ import annotations

import pytest
from sqlalchemy import Engine
from streamlit.testing.v1 import AppTest

from shared.staff.accounts import update_account
from shared.staff.sign_in import REFUSED as SIGN_IN_REFUSED
from tests.kiosk.staff_app import (
    ALLOWED,
    KIOSK,
    PAGES,
    REFUSED,
    STAFF,
    add_staff,
    errors,
    go_idle,
    new_app,
    session_of,
    sign_in,
    signed_in,
    texts,
)

# Page behaviour does not depend on the backend, and the services behind these pages run on both SQLite and
# PostgreSQL in tests/shared; one backend here keeps CI short.
pytestmark = [
    pytest.mark.usefixtures("staff_env"),
    pytest.mark.parametrize("db_url", ["sqlite"], indirect=True),
]
WRONG = SIGN_IN_REFUSED


def title(app: AppTest) -> str:
    return " | ".join(t.value for t in app.title)


def sidebar_text(app: AppTest) -> str:
    return "\n".join(t.value for t in app.sidebar.text)


def as_user(engine: Engine, username: str, *, page: str, entry: str = STAFF) -> AppTest:
    """A session already signed in as `username` that opens `page` by its address (before any run, the way a
    bookmark or a typed URL does)."""
    app = AppTest.from_file(entry, default_timeout=30)
    session_of(engine, app, username)
    if entry == STAFF:
        app.switch_page(f"screens/{page}")
    return app.run()


def only_an_error(app: AppTest, message: str) -> None:
    """The page shows `message` in one error box and nothing else at all."""
    assert not app.exception
    assert errors(app) == [message]
    assert len(app.main.children) == 1, app.main
    assert not app.sidebar.children


def refused(app: AppTest) -> None:
    """A signed-in user on a page their role may not use: the main area holds the refusal and nothing else."""
    assert not app.exception
    assert errors(app) == [REFUSED]
    assert not app.title and not app.text_input and not app.dataframe
    assert [b.key for b in app.button] == ["sign_out"]


def test_the_right_password_opens_the_board(engine: Engine) -> None:
    add_staff(engine, "ana", "technician", "Ana K.")
    app = new_app()
    assert title(app) == "Staff sign-in"
    sign_in(app, "ana")
    assert not app.exception
    assert title(app) == "Equipment board"
    assert sidebar_text(app) == "Signed in as Ana K. (technician)"


@pytest.mark.parametrize(("username", "password"), [("ana", "not the password"), ("nobody", "correct horse battery")])
def test_a_wrong_password_and_an_unknown_user_get_the_same_answer(engine: Engine, username: str, password: str) -> None:
    add_staff(engine, "ana", "technician")
    app = sign_in(new_app(), username, password)
    assert title(app) == "Staff sign-in"
    assert errors(app) == [WRONG]
    assert "staff_user" not in app.session_state


def test_five_failures_pause_sign_in_from_this_browser_even_with_the_right_password(engine: Engine) -> None:
    add_staff(engine, "ana", "technician")
    app = new_app()
    for _ in range(5):
        assert errors(sign_in(app, "ana", "bad password!")) == [WRONG]
    assert errors(sign_in(app, "ana")) == ["Too many failed sign-ins from this device. Please wait 2 seconds."]
    assert title(app) == "Staff sign-in"


def test_signing_out_returns_to_the_sign_in_page_and_forgets_the_session(engine: Engine) -> None:
    add_staff(engine, "ana", "technician")
    app = signed_in("ana")
    app.session_state["board_zone"] = "All zones"
    app.sidebar.button(key="sign_out").click().run()
    assert title(app) == "Staff sign-in"
    assert [i.value for i in app.info] == ["You have signed out."]
    assert "staff_user" not in app.session_state and "board_zone" not in app.session_state
    assert not app.sidebar.text


def test_an_idle_session_is_signed_out(engine: Engine) -> None:
    add_staff(engine, "ana", "technician")
    app = signed_in("ana")
    go_idle(engine, app, 29 * 60)  # within the default 30 minutes
    app.run()
    assert title(app) == "Equipment board"
    go_idle(engine, app, 31 * 60)
    app.run()
    assert title(app) == "Staff sign-in"
    assert [i.value for i in app.info] == ["You were signed out after a period of inactivity."]
    assert "staff_user" not in app.session_state


def test_the_timeout_comes_from_the_settings(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CLINIC_STAFF_SESSION_TIMEOUT_MIN", "1")
    add_staff(engine, "ana", "technician")
    app = signed_in("ana")
    go_idle(engine, app, 61)
    app.run()
    assert title(app) == "Staff sign-in"


@pytest.mark.parametrize("role", sorted(ALLOWED))
def test_each_role_reaches_its_pages_and_no_other(engine: Engine, role: str) -> None:
    add_staff(engine, "someone", role)
    for page, page_title in PAGES.items():
        app = signed_in("someone")
        if page in ALLOWED[role]:
            app.switch_page(f"screens/{page}").run()
            assert not app.exception, (page, app.exception)
            assert title(app) == page_title
            assert REFUSED not in errors(app)
        else:  # hidden from the navigation, and the page itself refuses
            app.switch_page(f"screens/{page}").run()
            assert not app.exception, (page, app.exception)
            refused(app)


@pytest.mark.parametrize("role", ["technician", "front_desk"])
@pytest.mark.parametrize("page", ["equipment.py", "accounts.py", "audit.py"])
def test_the_address_of_a_page_the_role_may_not_use_shows_none_of_it(engine: Engine, role: str, page: str) -> None:
    add_staff(engine, "someone", role)
    app = as_user(engine, "someone", page=page)
    refused(app)
    assert PAGES[page] not in texts(app).splitlines()
    assert not [b for b in app.button if (b.key or "").startswith(("cred_", "manage-", "add_"))]


def test_the_address_of_an_admin_page_opens_it_for_an_admin(engine: Engine) -> None:
    add_staff(engine, "boss", "admin")
    assert title(as_user(engine, "boss", page="accounts.py")) == "Staff accounts"


@pytest.mark.parametrize("page", ["equipment.py", "accounts.py", "audit.py"])
def test_a_page_itself_refuses_a_role_that_may_not_use_it(engine: Engine, page: str) -> None:
    add_staff(engine, "tech", "technician")
    only_an_error(as_user(engine, "tech", page=page, entry=str(KIOSK / "screens" / page)), REFUSED)


@pytest.mark.parametrize("page", sorted(PAGES))
def test_without_signing_in_every_page_asks_to_sign_in(page: str) -> None:
    app = AppTest.from_file(STAFF, default_timeout=30)
    app.switch_page(f"screens/{page}")  # the page's address in a fresh browser
    app.run()
    assert title(app) == "Staff sign-in"
    assert not app.sidebar.children
    direct = AppTest.from_file(str(KIOSK / "screens" / page), default_timeout=30).run()
    only_an_error(direct, "Please sign in.")


def test_a_new_role_applies_to_an_open_session_at_once(engine: Engine) -> None:
    add_staff(engine, "boss", "admin")
    add_staff(engine, "kim", "admin")
    app = signed_in("kim", "accounts.py")
    update_account(engine=engine, username="kim", actor="boss", role="technician")
    app.run()
    refused(app)  # the page open when the role changed now refuses
    assert sidebar_text(app) == "Signed in as kim (technician)"


def test_disabling_an_account_signs_its_open_session_out(engine: Engine) -> None:
    add_staff(engine, "boss", "admin")
    add_staff(engine, "ana", "technician")
    app = signed_in("ana")
    update_account(engine=engine, username="ana", actor="boss", disabled=True)
    app.run()
    assert title(app) == "Staff sign-in"
    assert [i.value for i in app.info] == ["You were signed out: your account is disabled."]
