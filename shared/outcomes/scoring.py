"""A questionnaire's score from its answers, by the rule in the Questionnaire (pure)."""

from __future__ import annotations

from collections.abc import Mapping

from shared.outcomes.instruments import Instrument, Item
from shared.store.errors import ValidationFailed


def check_answer(item: Item, value: object) -> int:
    """The answer as points, or ValidationFailed when it is not one of the item's answers."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValidationFailed(f"an answer to {item.link_id!r} must be a whole number, not {value!r}")
    allowed = {o.points for o in item.options} if item.options else set(range(item.low, item.high + 1))
    if value not in allowed:
        raise ValidationFailed(f"{value} is not an answer to {item.link_id!r} ({item.low} to {item.high})")
    return value


def score(instrument: Instrument, answers: Mapping[str, int]) -> float | None:
    """The score of these answers (None when fewer than the rule's minimum were answered), rounded to 2 places.

    `sum` adds the points, `mean` averages them (the PSFS: the activities' ratings over their number), `percent`
    is the sum over the highest possible sum of the answered items, times 100.
    """
    rule = instrument.scoring
    points = [check_answer(instrument.item(link_id), value) for link_id, value in answers.items()]
    if len(points) < rule.min_answered:
        return None
    if rule.method == "sum":
        value = float(sum(points))
    elif rule.method == "mean":
        value = sum(points) / len(points)
    else:
        top = sum(instrument.item(link_id).high for link_id in answers)
        value = 100.0 * sum(points) / top
    return round(value, 2)
