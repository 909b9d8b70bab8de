"""The lobby kiosk driven through Streamlit's AppTest: every way in, every outcome, and the reset."""

from __future__ import annotations

import io
import json
import time
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import Engine
from streamlit.testing.v1 import AppTest

from kiosk import resources
from kiosk.lobby.text import DIFFICULTY_QUESTION, EXERCISES_QUESTION, PAIN_QUESTION, WAITING_TOLD
from shared.care.appointments import add_appointment, appointments_between, set_appointment_status, update_appointment
from shared.care.arrivals import todays_arrivals
from shared.care.cards import issue_card, revoke_cards
from shared.care.feedback import latest_feedback
from shared.care.patient_language import set_language
from shared.care.patients import add_patient
from shared.care.qr import new_token, parse_scan, qr_image
from shared.equipment.ingest import record_batch
from shared.equipment.payloads import decode
from shared.store.db import read_session, unit_of_work
from shared.store.settings import Settings
from tests import lobby_steps
from tests.factories import DOB
from tests.kiosk.lobby_app import LOBBY, enter_dob, new_app, scan, shown, soon, texts, type_dob


def test_welcome_screen_asks_for_a_scan_and_shows_no_patient(patient_id: int) -> None:
    app = new_app()
    assert not app.exception
    assert app.title[0].value == "Riverside Physical Therapy"
    assert app.text_input(key="scan").label == "Scan your card"
    assert "Maria" not in texts(app)


def test_scanner_text_then_birth_date_checks_in_and_shows_the_plan(card_url: str) -> None:
    app = new_app()
    scan(app, card_url)
    assert app.title[0].value == "Please confirm it's you"
    assert "Maria" not in texts(app), "nothing personal before the birth date"
    enter_dob(app, DOB)
    assert app.title[0].value == "You're checked in"
    assert shown(app.success[0].value).startswith("Welcome, Maria G. You're checked in for ")
    assert shown(app.success[0].value).endswith(" with Alex.")
    page = texts(app)
    assert "Treadmill walk" in page and "10 min" in page and "Treadmill 1 (Gym A)" in page and "In use" in page
    assert "Gonzalez" not in page and "1950" not in page


def test_the_bare_token_works_like_the_link(card_url: str) -> None:
    app = new_app()
    scan(app, parse_scan(card_url) or "")
    assert app.title[0].value == "Please confirm it's you"


def test_a_phone_opening_the_link_gets_the_same_flow_and_the_token_leaves_the_url(card_url: str) -> None:
    app = AppTest.from_file(LOBBY, default_timeout=30)
    app.query_params["t"] = parse_scan(card_url) or ""
    app.run()
    assert app.title[0].value == "Please confirm it's you"
    # The browser replaces the address (tests/e2e/test_lobby_history.py); until its next rerun says so, the
    # link stays in the query and is not scanned again.
    app.run()
    assert app.title[0].value == "Please confirm it's you"
    assert app.session_state["link_scanned"] == "t=" + (parse_scan(card_url) or "")


def test_the_camera_reads_the_card(card_url: str) -> None:
    picture = io.BytesIO()
    qr_image(card_url).save(picture, "JPEG", quality=90)
    app = new_app()
    app.camera_input(key="camera").set_value(("card.jpg", picture.getvalue(), "image/jpeg"))
    app.run()
    assert app.title[0].value == "Please confirm it's you"


def test_a_picture_without_a_code_asks_to_hold_the_card_closer(card_url: str) -> None:
    blank = io.BytesIO()
    qr_image("x").crop((0, 0, 30, 30)).save(blank, "JPEG")
    app = new_app()
    app.camera_input(key="camera").set_value(("card.jpg", blank.getvalue(), "image/jpeg"))
    app.run()
    assert shown(app.error[0].value) == "We couldn't see a code in that picture. Please hold the card closer."


def test_wrong_birth_dates_count_down_then_lock(card_url: str) -> None:
    app = new_app()
    scan(app, card_url)
    for left in (4, 3, 2, 1):
        enter_dob(app, date(1961, 2, 3))
        expected = f"That date of birth doesn't match our records. Please try again. {left} tr"
        assert shown(app.error[0].value).startswith(expected)
    enter_dob(app, date(1961, 2, 3))
    assert app.title[0].value == "Please see the front desk"
    assert shown(app.warning[0].value).startswith("For your security, this card is paused")
    again = new_app()
    scan(again, card_url)
    assert again.title[0].value == "Please see the front desk", "the lock holds for a new session too"


def test_no_appointment_today_sends_the_patient_to_the_front_desk(engine: Engine, lobby_env: None) -> None:
    with unit_of_work(engine) as session:
        patient = add_patient(session=session, first="Sam", last="Whitfield", dob=date(1988, 6, 11))
    assert patient.id is not None
    with unit_of_work(engine) as session:
        url = issue_card(session=session, patient_id=patient.id, base_url="https://lobby.example").url
    app = new_app()
    scan(app, url)
    enter_dob(app, date(1988, 6, 11))
    assert app.title[0].value == "Please see the front desk"
    assert shown(app.warning[0].value).startswith("Hello, Sam W. We can't find an appointment for you today.")


CARD_REFUSED = {
    "en": "We can't use this card. Please see the front desk.",
    "es": "No podemos usar esta tarjeta. Acuda a la recepción.",
}


@pytest.mark.parametrize("lang", ["en", "es"])
def test_a_revoked_card_and_an_unknown_one_get_the_same_answer(
    engine: Engine, card_url: str, patient_id: int, lang: str
) -> None:
    """An old card's patient is sent to the desk; a found or guessed card learns nothing, not even the
    patient's language (docs/security.md "Lost or stolen cards")."""
    with unit_of_work(engine) as session:
        set_language(session=session, patient_id=patient_id, code="es" if lang == "en" else "en")
    with unit_of_work(engine) as session:
        revoke_cards(session=session, patient_id=patient_id)
    seen = {}
    for name, url in (("revoked", card_url), ("unknown", "https://lobby.example/?t=" + new_token())):
        resources.scan_throttle.clear()  # each card's own answer, not the throttle's
        app = new_app()
        if lang != "en":
            click(app, f"lang_{lang}")
        scan(app, url)
        phone = AppTest.from_file(LOBBY, default_timeout=30)  # a phone opening the card's link
        phone.query_params["t"] = parse_scan(url) or ""
        phone.run()
        seen[name] = [(a.title[0].value, [shown(e.value) for e in a.error], texts(a)) for a in (app, phone)]
    assert seen["revoked"] == seen["unknown"]
    (title, errors, _), (phone_title, phone_errors, _) = seen["revoked"]
    assert (title, errors) == ("Riverside Physical Therapy", [CARD_REFUSED[lang]])
    assert (phone_title, phone_errors) == ("Riverside Physical Therapy", [CARD_REFUSED["en"]])


def test_revoked_cards_count_as_failed_guesses_like_unknown_ones(
    engine: Engine, card_url: str, patient_id: int
) -> None:
    with unit_of_work(engine) as session:
        revoke_cards(session=session, patient_id=patient_id)
    app = new_app()
    for n in range(4):
        scan(app, card_url if n % 2 else f"https://lobby.example/?t={'Z' * 30}{n}")
        if n < 3:
            assert [shown(e.value) for e in app.error] == [CARD_REFUSED["en"]]
    scan(app, card_url)
    assert shown(app.error[0].value).startswith("Please wait ")


def test_already_checked_in_shows_the_first_time(card_url: str) -> None:
    first = new_app()
    scan(first, card_url)
    enter_dob(first, DOB)
    second = new_app()
    scan(second, card_url)
    enter_dob(second, DOB)
    assert shown(second.success[0].value).startswith("Welcome back, Maria G. You're already checked in for ")
    assert "(since " in shown(second.success[0].value)


def test_done_returns_to_the_welcome_screen_with_nothing_left(card_url: str) -> None:
    app = new_app()
    scan(app, card_url)
    enter_dob(app, DOB)
    app.button(key="done").click()
    app.run()
    assert app.title[0].value == "Riverside Physical Therapy"
    assert "Maria" not in texts(app)
    assert app.session_state["outcome"] is None if "outcome" in app.session_state else True
    assert app.text_input(key="scan").value == ""


def test_repeated_invalid_scans_slow_down(lobby_env: None) -> None:
    app = new_app()
    for n in range(4):
        scan(app, f"https://lobby.example/?t={'Z' * 30}{n}")
    scan(app, "https://lobby.example/?t=" + "Y" * 32)
    assert shown(app.error[0].value).startswith("Please wait ")


def test_a_hostile_first_name_is_shown_exactly_as_typed(engine: Engine, lobby_env: None) -> None:
    hostile = "<b>*Ma*</b>[x](javascript:alert(1))"
    with unit_of_work(engine) as session:
        patient = add_patient(session=session, first=hostile, last="Zed", dob=DOB)
    assert patient.id is not None
    starts = soon(10)
    with unit_of_work(engine) as session:
        add_appointment(session=session, patient_id=patient.id, starts_at=starts, site="main")
    app = new_app()
    with unit_of_work(engine) as session:
        scanned = issue_card(session=session, patient_id=patient.id, base_url="https://lobby.example").url
    scan(app, scanned)
    enter_dob(app, DOB)
    message = app.success[0].value
    assert shown(message).startswith(f"Welcome, {hostile} Z. You're checked in")
    assert "<b>" not in message and "](" not in message, "every Markdown/HTML character is escaped"


# --- after the session: feedback, waiting alerts, contact time -------------------------------------------------


def booked_at(engine: Engine) -> datetime:
    """When the one appointment starts: the arrivals of its day list it (which need not be today's date)."""
    now = datetime.now(UTC)
    with read_session(engine) as session:
        [booked] = appointments_between(
            session=session, site="main", start=now - timedelta(days=1), end=now + timedelta(days=1)
        )
    return booked.starts_at


def appointment_id(engine: Engine) -> int:
    """The one appointment booked (found by time: within a day either side of the clock)."""
    now = datetime.now(UTC)
    with read_session(engine) as session:
        [booked] = appointments_between(
            session=session, site="main", start=now - timedelta(days=1), end=now + timedelta(days=1)
        )
    assert booked.id is not None
    return booked.id


def checked_in(card_url: str) -> AppTest:
    app = new_app()
    scan(app, card_url)
    enter_dob(app, DOB)
    assert not app.exception, app.exception
    return app


def click(app: AppTest, key: str) -> AppTest:
    app.button(key=key).click()
    app.run()
    assert not app.exception, app.exception
    return app


def test_im_done_asks_pain_and_difficulty_then_each_exercise_then_thanks_and_resets(
    engine: Engine, card_url: str
) -> None:
    app = checked_in(card_url)
    assert app.title[0].value == "You're checked in"
    assert [b.label for b in app.button if b.key in ("done", "im_done")] == ["Done", "I'm done with my session"]
    click(app, "im_done")
    assert app.title[0].value == PAIN_QUESTION
    assert [b.label for b in app.button if (b.key or "").startswith("fb_pain_")] == [str(n) for n in range(11)]
    assert "Maria" not in texts(app) and "Gonzalez" not in texts(app)
    click(app, "fb_pain_8")
    assert app.title[0].value == DIFFICULTY_QUESTION
    assert [b.label for b in app.button if (b.key or "").startswith("fb_diff_")] == ["Easy", "About right", "Too hard"]
    click(app, "fb_diff_too_hard")
    with read_session(engine) as session:
        saved = latest_feedback(session=session, appointment_ids=[appointment_id(engine)])
    assert [(f.pain, f.difficulty, f.exercises) for f in saved.values()] == [(8, "too_hard", {})], "saved at once"
    assert app.title[0].value == EXERCISES_QUESTION
    assert [g.label for g in app.button_group] == ["Treadmill walk"]
    app.button_group(key="fb_ex_0").set_value("easy")
    click(app, "fb_exercises_send")
    assert app.title[0].value == "Thank you!"
    assert shown(app.success[0].value) == (
        "Thank you, Maria G. Your answers help your therapist plan your next visit. "
        "If the pain is bad, please tell the front desk before you leave."
    )
    with read_session(engine) as session:
        saved = latest_feedback(session=session, appointment_ids=[appointment_id(engine)])
    assert [(f.pain, f.difficulty, f.exercises) for f in saved.values()] == [
        (8, "too_hard", {"Treadmill walk": "easy"})
    ]
    click(app, "thanks_done")
    assert app.title[0].value == "Riverside Physical Therapy"
    assert "Maria" not in texts(app)
    assert app.session_state["outcome"] is None
    assert not [key for key in ("feedback_pain", "feedback_id", "fb_ex_0") if key in app.session_state]


def test_the_thank_you_returns_to_the_welcome_screen_by_itself(engine: Engine, card_url: str) -> None:
    app = checked_in(card_url)
    for key in ("im_done", "fb_pain_2", "fb_diff_about_right", "fb_exercises_skip"):
        click(app, key)
    assert app.title[0].value == "Thank you!"
    assert shown(app.success[0].value).endswith("plan your next visit."), "no front-desk line for low pain"
    with read_session(engine) as session:
        assert [
            (f.pain, f.difficulty)
            for f in latest_feedback(session=session, appointment_ids=[appointment_id(engine)]).values()
        ] == [(2, "about_right")]
    app.session_state["thanks_at"] = time.time() - 60
    app.run()
    assert app.title[0].value == "Riverside Physical Therapy"


def test_scanning_again_after_the_session_goes_straight_to_the_questions(engine: Engine, card_url: str) -> None:
    checked_in(card_url)
    with unit_of_work(engine) as session:
        set_appointment_status(session=session, appointment_id=appointment_id(engine), status="in_session")
    again = new_app()
    scan(again, card_url)
    assert again.title[0].value == "Please confirm it's you", "the birth date first, as for a check-in"
    enter_dob(again, DOB)
    assert again.title[0].value == PAIN_QUESTION
    click(again, "fb_skip")
    assert again.title[0].value == "Riverside Physical Therapy"
    with read_session(engine) as session:
        assert latest_feedback(session=session, appointment_ids=[appointment_id(engine)]) == {}, (
            "no thanks stores nothing"
        )


def test_a_waiting_patient_who_scans_again_is_told_the_team_knows(engine: Engine, card_url: str) -> None:
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    # Arrived 40 min ago for the appointment 20 min from now, which is moved to 20 min ago: waiting 20 min.
    lobby_steps.check_in(engine=engine, settings=settings, scan=card_url, now=datetime.now(UTC) - timedelta(minutes=40))
    with unit_of_work(engine) as session:
        update_appointment(
            session=session, appointment_id=appointment_id(engine), starts_at=booked_at(engine) - timedelta(minutes=40)
        )
    app = checked_in(card_url)
    assert shown(app.success[0].value).startswith("Welcome back, Maria G. You're already checked in for ")
    assert [shown(i.value) for i in app.info] == [WAITING_TOLD]
    assert WAITING_TOLD == "You've been waiting a while — we've let the team know."
    with read_session(engine) as session:
        row = todays_arrivals(session=session, site="main", tz=UTC, now=booked_at(engine))[0]
    assert row.asked_at is not None and datetime.now(UTC) - row.asked_at < timedelta(minutes=1)
    assert "im_done" in [b.key for b in app.button], "a patient whose session was never started can still answer"


def test_a_patient_who_just_checked_in_and_scans_again_is_not_told_so(engine: Engine, card_url: str) -> None:
    checked_in(card_url)
    again = checked_in(card_url)
    assert shown(again.success[0].value).startswith("Welcome back, Maria G.")
    assert not again.info
    with read_session(engine) as session:
        assert todays_arrivals(session=session, site="main", tz=UTC, now=booked_at(engine))[0].asked_at is None


def test_the_plan_says_being_cleaned_during_the_contact_time(engine: Engine, card_url: str) -> None:
    stop = decode("clinic/main/equipment/tm-1/usage", b'{"event_id": "u2", "event": "stop"}', prefix="clinic",
                  received_at=datetime.now(UTC))  # fmt: skip
    record_batch(engine=engine, items=[stop], tz=UTC)
    cleaned = json.dumps({"event_id": "c1", "event": "cleaned"}).encode()
    record_batch(engine=engine, items=[decode("clinic/main/equipment/tm-1/cleaning", cleaned, prefix="clinic",
                                              received_at=datetime.now(UTC))], tz=UTC)  # fmt: skip
    page = texts(checked_in(card_url))
    assert "Treadmill 1 (Gym A)" in page and "Being cleaned" in page and "In use" not in page


def test_without_a_plan_the_two_answers_go_straight_to_the_thanks(engine: Engine, lobby_env: None) -> None:
    with unit_of_work(engine) as session:
        patient = add_patient(session=session, first="Sam", last="Whitfield", dob=DOB)
    assert patient.id is not None
    starts = soon(10)
    with unit_of_work(engine) as session:
        booked = add_appointment(session=session, patient_id=patient.id, starts_at=starts, site="main")
    with unit_of_work(engine) as session:
        scanned = issue_card(session=session, patient_id=patient.id, base_url="https://lobby.example").url
    app = checked_in(scanned)
    for key in ("im_done", "fb_pain_10", "fb_diff_easy"):
        click(app, key)
    assert app.title[0].value == "Thank you!"
    with read_session(engine) as session:
        assert [
            (f.pain, f.difficulty) for f in latest_feedback(session=session, appointment_ids=[booked.id or 0]).values()
        ] == [(10, "easy")]


# --- typed birth dates, languages, messages that clear themselves, the take-home link ---------------------------


@pytest.mark.parametrize(
    ("typed", "said"),
    [(("", "17", "1950"), "Please type the month."),
     (("O4", "17", "1950"), "Please use numbers only."),
     (("13", "17", "1950"), "The month is a number from 1 to 12."),
     (("02", "30", "1950"), "February 1950 has only 28 days. Please check the day."),
     (("04", "17", "50"), "Please type the year with four digits, like 1950.")],
)  # fmt: skip
def test_a_date_that_is_not_one_is_explained_and_what_was_typed_stays(
    card_url: str, typed: tuple[str, str, str], said: str
) -> None:
    app = new_app()
    scan(app, card_url)
    type_dob(app, *typed)
    assert [shown(w.value) for w in app.warning] == [said]
    assert [app.text_input(key=k).value for k in ("dob_month", "dob_day", "dob_year")] == list(typed)


def test_a_wrong_birth_date_keeps_the_fields_for_correcting(card_url: str) -> None:
    app = new_app()
    scan(app, card_url)
    type_dob(app, "04", "18", "1950")
    assert shown(app.error[0].value).startswith("That date of birth doesn't match")
    assert [app.text_input(key=k).value for k in ("dob_month", "dob_day", "dob_year")] == ["04", "18", "1950"]
    app.text_input(key="dob_day").input("17")
    app.button(key="dob_continue").click()
    app.run()
    assert app.title[0].value == "You're checked in"


def test_the_patients_stored_language_applies_after_the_scan(engine: Engine, card_url: str, patient_id: int) -> None:
    with unit_of_work(engine) as session:
        set_language(session=session, patient_id=patient_id, code="es")
    app = new_app()
    assert app.title[0].value == "Riverside Physical Therapy"
    assert [b.label for b in app.button if b.key == "lang_es"] == ["Español"]
    scan(app, card_url)
    assert app.title[0].value == "Confirme que es usted"
    assert [app.text_input(key=k).label for k in ("dob_day", "dob_month", "dob_year")] == ["Día", "Mes", "Año"]
    enter_dob(app, DOB)
    assert app.title[0].value == "Ya está registrado"
    assert shown(app.success[0].value).startswith("Bienvenido, Maria G. Su llegada está registrada para las ")
    assert "En uso" in texts(app) and [h.value for h in app.header] == ["Ejercicios de hoy"]
    click(app, "done")
    assert app.button(key="lang_es").label == "Español", "the next patient starts in English"


def test_the_welcome_message_clears_itself(card_url: str, engine: Engine, patient_id: int) -> None:
    with unit_of_work(engine) as session:
        revoke_cards(session=session, patient_id=patient_id)
    app = new_app()
    scan(app, card_url)
    assert [shown(e.value) for e in app.error] == [CARD_REFUSED["en"]]
    app.session_state["notice_at"] = time.time() - 60
    app.run()
    assert not app.error


def test_the_plan_has_a_take_home_code_that_opens_it_read_only(card_url: str) -> None:
    app = checked_in(card_url)
    share = app.session_state["share_url"]
    assert share.startswith("https://lobby.example/?p=")
    assert any('class="kiosk-qr"' in str(m.value) for m in app.markdown)
    phone = AppTest.from_file(LOBBY, default_timeout=30)
    phone.query_params["p"] = share.split("p=", 1)[1]
    phone.run()
    page = texts(phone)
    assert "Treadmill walk" in page and "Walk at an easy pace." in page
    assert "Maria" not in page and "Gonzalez" not in page and "1950" not in page
    assert "p" in phone.query_params, "the phone keeps its link (a reload shows the plan again)"
    gone = AppTest.from_file(LOBBY, default_timeout=30)
    gone.query_params["p"] = "B" * 32
    gone.run()
    assert "This link has ended." in texts(gone)
