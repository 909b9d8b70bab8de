"""The take-home link on the patient's phone (the lobby app with `?p=`): "Done" per exercise and "Undo", the
pain answer, reminders, a clear message when tapping too fast or when the link has ended; and the lobby's own
after-session answers flagging the therapist."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import streamlit as st
from sqlalchemy import Engine
from streamlit.testing.v1 import AppTest

from shared.care.home_links import link_key
from shared.care.plan_shares import revoke_shares
from shared.outcomes.alerts import open_alerts
from shared.store.db import read_session, unit_of_work
from shared.store.settings import get_settings
from tests.factories import DOB
from tests.kiosk.lobby_app import LOBBY, enter_dob, new_app, scan, texts
from tests.shared.outcomes.home_support import plan_with_link

pytestmark = pytest.mark.usefixtures("lobby_env")


def phone(token: str) -> AppTest:
    """The take-home page as the patient's phone opens it."""
    app = AppTest.from_file(LOBBY, default_timeout=30)
    app.query_params["p"] = token
    app.run()
    assert not app.exception, app.exception
    return app


def tap(app: AppTest, key: str) -> AppTest:
    app.button(key=key).click()
    app.run()
    assert not app.exception, app.exception
    return app


def labels(app: AppTest, prefix: str) -> list[str]:
    return [b.label for b in app.button if (b.key or "").startswith(prefix)]


def linked(engine: Engine, language: str | None = None) -> tuple[int, list[int], str]:
    """Maria with two exercises today and her lasting link (in `language`)."""
    now = datetime.now(UTC)
    return plan_with_link(engine, active_from=now.date(), now=now, key=link_key(get_settings().data_dir),
                          language=language)


def test_the_phone_ticks_an_exercise_done_undoes_it_and_answers_pain(engine: Engine) -> None:
    maria, (heel, squat), token = linked(engine)
    app = phone(token)
    assert labels(app, "home_done_") == ["Done", "Done"]
    assert "Heel raises" in texts(app) and "Maria" not in texts(app) and "Gonzalez" not in texts(app)
    tap(app, f"home_done_{heel}")
    assert labels(app, "home_done_") == ["Done"] and labels(app, "home_undo_") == ["Undo"]
    assert "Done today" in texts(app)
    tap(app, f"home_undo_{heel}")
    assert labels(app, "home_done_") == ["Done", "Done"] and "Done today" not in texts(app)
    assert labels(app, "home_pain_") == [str(n) for n in range(11)]
    tap(app, "home_pain_8")
    assert "Thank you. Your answer today: 8 of 10." in texts(app)
    with read_session(engine) as session:
        assert [(a.patient_id, a.words) for a in open_alerts(session=session, site="main")] == [
            (maria, "Pain 8/10 on the take-home page")
        ]
    [download] = [d for d in app.get("download_button") if d.proto.label == "Add reminders to my phone"]
    assert download is not None and squat


def test_the_phone_page_in_spanish_says_hecho(engine: Engine) -> None:
    _, (heel, _), token = linked(engine, "es")
    app = phone(token)
    assert labels(app, "home_done_") == ["Hecho", "Hecho"]
    tap(app, f"home_done_{heel}")
    assert "Hecho hoy" in texts(app) and labels(app, "home_undo_") == ["Deshacer"]


def test_the_phone_page_offers_the_other_language_and_keeps_the_patients_choice(engine: Engine) -> None:
    """As on every lobby screen (issue #28): a link made in Spanish, read by someone who prefers English."""
    _, (heel, _), token = linked(engine, "es")
    app = phone(token)
    assert labels(app, "home_done_") == ["Hecho", "Hecho"]
    tap(app, "lang_en")
    assert labels(app, "home_done_") == ["Done", "Done"]
    tap(app, f"home_done_{heel}")  # the choice holds through the next tap
    assert "Done today" in texts(app) and labels(app, "home_undo_") == ["Undo"]
    assert app.button(key="lang_es").label == "Español" and app.button(key="large_text_toggle").label == "Larger text"


def test_tapping_too_fast_and_an_ended_link_say_so_in_plain_words(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CLINIC_PLAN_LINK_WRITES_PER_MIN", "2")
    get_settings.cache_clear()
    st.cache_resource.clear()
    maria, (heel, squat), token = linked(engine)
    app = phone(token)
    tap(app, f"home_done_{heel}")
    tap(app, f"home_undo_{heel}")
    tap(app, f"home_done_{squat}")
    assert "That was a lot of taps at once. Wait a minute, then try again." in texts(app)
    assert labels(app, "home_done_") == ["Done", "Done"], "the third tap in a minute wrote nothing"
    with unit_of_work(engine) as session:
        revoke_shares(session=session, patient_id=maria)
    tap(app, f"home_done_{squat}")
    assert "This link has ended. Ask for a new one at your next visit." in texts(app)
    assert labels(app, "home_done_") == []


def test_a_high_pain_or_too_hard_at_the_lobby_flags_the_therapist_once(engine: Engine, card_url: str) -> None:
    app = new_app()
    scan(app, card_url)
    enter_dob(app, DOB)
    for key in ("im_done", "fb_pain_8", "fb_diff_too_hard"):
        tap(app, key)
    with read_session(engine) as session:
        assert [a.words for a in open_alerts(session=session, site="main")] == ["Pain 8/10 at the lobby"]
