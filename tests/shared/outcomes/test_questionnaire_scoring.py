"""Questionnaires as data: the shipped instruments are valid R4 and score as their authors publish; a bad
Questionnaire is refused with a message naming what is wrong; the MCID verdict (all pure)."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from shared.outcomes.instruments import SCORING_URL, parse_instrument, shipped_instruments
from shared.outcomes.progress import IMPROVED, NOT_IMPROVED, TOO_FEW, ScorePoint, verdict
from shared.outcomes.schedule import Rule, is_due, questions
from shared.outcomes.scoring import score
from shared.store.errors import ValidationFailed
from tests.fhir_support import validate_r4

T0 = datetime(2026, 11, 2, 10, 0, tzinfo=UTC)


def _shipped(code: str) -> Any:
    return next(i for i in shipped_instruments() if i.code == code)


@pytest.mark.parametrize("code", ["nprs", "psfs"])
def test_shipped_questionnaires_are_r4_with_spanish_texts(code: str) -> None:
    instrument = _shipped(code)
    validate_r4(instrument.resource)
    assert instrument.name("es") != instrument.name("en")
    assert all(item.words("es") != item.words("en") for item in instrument.items)
    assert instrument.scoring.licence and instrument.scoring.source


def test_pain_rating_is_the_answer_itself_and_lower_is_better() -> None:
    nprs = _shipped("nprs")
    assert (nprs.scoring.low, nprs.scoring.high, nprs.scoring.mcid, nprs.scoring.better) == (0, 10, 2, "lower")
    assert score(nprs, {"pain": 7}) == 7
    assert score(nprs, {}) is None
    with pytest.raises(ValidationFailed, match="11 is not an answer"):
        score(nprs, {"pain": 11})


def test_psfs_scores_the_mean_of_the_rated_activities() -> None:
    # Stratford et al. 1995's form: "Total score = sum of the activity scores / number of activities". Three
    # activities rated 3, 5 and 6 score 14/3 = 4.67; five rated 10 score 10; the MCID is 2 points (Horn 2012).
    psfs = _shipped("psfs")
    assert score(psfs, {"activity-1": 3, "activity-2": 5, "activity-3": 6}) == 4.67
    assert score(psfs, {f"activity-{n}": 10 for n in range(1, 6)}) == 10
    assert (psfs.scoring.mcid, psfs.scoring.better) == (2, "higher")


def test_psfs_asks_only_the_activities_the_patient_named() -> None:
    asked = questions(_shipped("psfs"), ("Climbing stairs", "Gardening"))
    assert [(q.item.link_id, q.activity) for q in asked] == [("activity-1", "Climbing stairs"),
                                                             ("activity-2", "Gardening")]  # fmt: skip


def _lefs_like(**changes: Any) -> dict[str, Any]:
    """A 20-item questionnaire scored like the LEFS (0-4 each, sum 0-80, MCID 9), without the LEFS's texts."""
    options = [{"valueCoding": {"code": str(n), "display": f"level {n}"}} for n in range(5)]
    resource: dict[str, Any] = {
        "resourceType": "Questionnaire", "id": "lower-limb", "status": "active", "title": "Lower limb",
        "extension": [{"url": SCORING_URL, "extension": [
            {"url": "method", "valueCode": "sum"}, {"url": "minScore", "valueDecimal": 0},
            {"url": "maxScore", "valueDecimal": 80}, {"url": "mcid", "valueDecimal": 9},
            {"url": "better", "valueCode": "higher"}, {"url": "minAnswered", "valueInteger": 20}]}],
        "item": [{"linkId": f"q{n}", "type": "choice", "text": f"Activity {n}", "answerOption": options}
                 for n in range(1, 21)],
    }  # fmt: skip
    resource.update(changes)
    return resource


def test_a_sum_scored_choice_questionnaire_loads_and_scores() -> None:
    # The LEFS's published rule (Binkley et al. 1999): 20 items 0-4 summed, 0 to 80; all "no difficulty" is 80.
    loaded = parse_instrument(_lefs_like())
    validate_r4(loaded.resource)
    assert score(loaded, {f"q{n}": 4 for n in range(1, 21)}) == 80
    assert score(loaded, {f"q{n}": n % 5 for n in range(1, 21)}) == 40
    assert score(loaded, {"q1": 4}) is None  # fewer than minAnswered


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"resourceType": "Patient"}, "not a FHIR Questionnaire"),
        ({"id": "Has Spaces"}, "'id' names it"),
        ({"extension": []}, "no scoring rule"),
        ({"item": []}, "needs 1 to 100 items"),
        ({"title": ""}, "'title' must be a non-empty text"),
    ],
)
def test_a_bad_questionnaire_is_refused_with_what_is_wrong(change: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationFailed, match=message):
        parse_instrument(_lefs_like(**change))


def test_a_bad_scoring_rule_or_item_is_refused() -> None:
    bad_method = _lefs_like()
    bad_method["extension"][0]["extension"][0]["valueCode"] = "median"
    with pytest.raises(ValidationFailed, match="'method' must be one of sum, mean, percent"):
        parse_instrument(bad_method)
    bad_item = copy.deepcopy(_lefs_like())
    bad_item["item"][3]["type"] = "string"
    with pytest.raises(ValidationFailed, match="item 'q4': type must be 'integer' or 'choice'"):
        parse_instrument(json.loads(json.dumps(bad_item)))


@pytest.mark.parametrize(
    ("scores", "better", "improved", "words"),
    [
        ([7, 6, 4], "lower", True, IMPROVED),  # pain 7 -> 4: down 3, more than the MCID of 2
        ([7, 5], "lower", False, NOT_IMPROVED),  # down exactly 2: not MORE than the MCID
        ([3, 7], "lower", False, NOT_IMPROVED),  # worse
        ([2.0, 4.33], "higher", True, IMPROVED),  # PSFS 2 -> 4.33
        ([5], "higher", None, TOO_FEW),
    ],
)
def test_mcid_verdict(scores: list[float], better: str, improved: bool | None, words: str) -> None:
    rule = _shipped("nprs").scoring if better == "lower" else _shipped("psfs").scoring
    points = [ScorePoint(T0 + timedelta(days=7 * n), value) for n, value in enumerate(scores)]
    result = verdict(list(reversed(points)), rule)  # order given does not matter: intake is the earliest
    assert (result.improved, result.words) == (improved, words)


@pytest.mark.parametrize(
    ("rule", "last_done", "visits", "days", "due"),
    [
        (Rule(at_intake=True), None, 1, 0, True),
        (Rule(at_intake=True), T0, 5, 30, False),
        (Rule(every_visits=1), T0, 1, 2, True),
        (Rule(every_visits=3), T0, 2, 9, False),
        (Rule(every_visits=3), T0, 3, 9, True),
        (Rule(every_days=14), T0, 4, 13, False),
        (Rule(every_days=14), T0, 4, 14, True),
        (Rule(discharge_from=T0 + timedelta(days=1)), T0, 1, 3, True),
        (Rule(discharge_from=T0 - timedelta(days=1)), T0, 1, 3, False),
    ],
)
def test_when_a_questionnaire_is_due(rule: Rule, last_done: datetime | None, visits: int, days: int, due: bool) -> None:
    now = T0 + timedelta(days=days, hours=1)
    assert is_due(rule, last_done=last_done, visits_since=visits, now=now, tz=UTC) is due


def test_percent_scores_the_sum_over_the_highest_possible_sum() -> None:
    # The Oswestry Disability Index's formula: total / (5 x items answered) x 100; 10 items summing 20 is 40%,
    # and with one item unanswered, 18 of a possible 45 is still 40%.
    scoring = _lefs_like()["extension"]
    scoring[0]["extension"][0]["valueCode"] = "percent"
    scoring[0]["extension"][2]["valueDecimal"] = 100
    scoring[0]["extension"][5]["valueInteger"] = 9
    options = [{"valueCoding": {"code": str(n), "display": f"{n}"}} for n in range(6)]
    items = [{"linkId": f"s{n}", "type": "choice", "text": f"Section {n}", "answerOption": options} for n in range(10)]
    disability = parse_instrument(_lefs_like(id="disability", extension=scoring, item=items))
    assert score(disability, {f"s{n}": 2 for n in range(10)}) == 40
    assert score(disability, {f"s{n}": 2 for n in range(9)}) == 40
    assert score(disability, {f"s{n}": 2 for n in range(8)}) is None  # fewer than minAnswered (9)
    with pytest.raises(ValidationFailed, match="6 is not an answer to 's0'"):
        score(disability, {"s0": 6})
