"""The staff app's side of the home-exercise loop: an alert on Arrivals until someone acknowledges it (audited),
and on Patients who needs a nudge, a patient's adherence and their take-home link."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from sqlalchemy import Engine

from shared.care.home_links import link_key
from shared.outcomes.alerts import note_pain
from shared.outcomes.home_log import tick
from shared.store.db import unit_of_work
from shared.store.settings import get_settings
from tests import factories as make
from tests.kiosk.staff_app import add_staff, click, errors, open_page, successes, texts
from tests.shared.outcomes.home_support import plan_with_link


def test_an_alert_shows_once_on_arrivals_until_acknowledged(engine: Engine, care_env: None) -> None:
    add_staff(engine, "tech", "technician")
    maria = make.new_patient_id(engine, "Maria", "Gonzalez")
    for pain in (8, 9):  # the second high answer adds no second flag
        with unit_of_work(engine) as session:
            note_pain(session=session, patient_id=maria, value=pain, source="phone")
    app = open_page("tech", "arrivals.py")
    assert "Alerts for the therapist" in texts(app)
    flagged = [e for e in errors(app) if e.startswith("Maria Gonzalez:")]
    assert len(flagged) == 1 and re.fullmatch(
        r"Maria Gonzalez: Pain 8/10 on the take-home page \(\w{3} \d\d:\d\d\)\.", flagged[0]
    ), flagged  # fmt: skip
    [alert_button] = [b for b in app.button if b.label == "Acknowledge"]
    click(app, str(alert_button.key))
    assert successes(app) == ["Maria Gonzalez: alert acknowledged."]
    assert "Alerts for the therapist" not in texts(app) and not any("Pain 8/10" in e for e in errors(app))
    assert make.audit_log(engine)[-1][:3] == ("tech", "alert.acknowledge", f"patient:{maria}")


def test_patients_shows_who_needs_a_nudge_their_adherence_and_the_take_home_link(
    engine: Engine, care_env: None
) -> None:
    add_staff(engine, "desk", "front_desk")
    now = datetime.now(UTC)
    key = link_key(get_settings().data_dir)
    maria, (heel, _), token = plan_with_link(engine, active_from=now.astimezone(get_settings().tz).date(), now=now,
                                             key=key)  # fmt: skip
    app = open_page("desk", "patients.py")
    assert "Needs a nudge" in texts(app)
    assert any("Maria Gonzalez" in str(m.value) and "0 of 2 (0%)" in str(m.value) for m in app.markdown)
    with unit_of_work(engine) as session:
        tick(session=session, token=token, plan_item_id=heel, tz=get_settings().tz, limit=30)
    app.text_input(key="patients_search").set_value(f"#{maria}")
    app.run()
    adherence = [str(m.value) for m in app.markdown if "staff-adherence" in str(m.value)]
    assert len(adherence) == 1 and "This week 1 of 2 done (50%); 30 days 1 of 2 (50%); 1 of 30 days" in adherence[0]
    assert "Everyone with a take-home link did at least half" in texts(app)
    click(app, f"plan_link_{maria}")
    assert not app.exception, app.exception
    assert [c.value for c in app.code] == [f"{get_settings().resolved_kiosk_url}/?p={token}"], "the phone's link"
