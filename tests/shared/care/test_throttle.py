"""The lobby's invalid-scan throttle: token guessing stays under the documented rate however it is interleaved."""

from __future__ import annotations

from collections import deque

from hypothesis import given, settings
from hypothesis import strategies as st

from shared.care.scan_throttle import MAX_GUESSES_PER_MIN, ScanThrottle

KIOSK = "10.0.0.7"
HOUR_S = 3600.0


def most_in_a_minute(times: list[float]) -> int:
    """The largest number of `times` inside any 60-second window."""
    window: deque[float] = deque()
    best = 0
    for t in times:
        window.append(t)
        while window[0] <= t - 60:
            window.popleft()
        best = max(best, len(window))
    return best


def attack(plan: list[tuple[str, float]]) -> list[float]:
    """Replay a scan plan against the throttle, each scan as soon as it is allowed; the guesses looked at."""
    throttle, now, guesses = ScanThrottle(), 0.0, []
    for step in range(4000):
        action, pause = plan[step % len(plan)]
        now += pause + throttle.wait_s(KIOSK, now)  # a kiosk that must wait gets nothing looked at meanwhile
        if now > HOUR_S:
            break
        if action == "guess":
            throttle.failed(KIOSK, now)
            guesses.append(now)
        else:
            throttle.succeeded(KIOSK)  # one's own valid card
    return guesses


def test_guessing_as_fast_as_allowed_stays_under_the_bound() -> None:
    guesses = attack([("guess", 0.0)])
    assert most_in_a_minute(guesses) <= 8 <= MAX_GUESSES_PER_MIN
    assert len(guesses) <= 4 * 60, "about 3.5 a minute over an hour"


def test_a_valid_card_every_three_guesses_does_not_reset_the_throttle() -> None:
    """Before the fix this went on at ~0.4 tokens/s (24 a minute) indefinitely."""
    guesses = attack([("guess", 0.0), ("guess", 0.0), ("guess", 0.0), ("card", 0.0)])
    assert most_in_a_minute(guesses) <= MAX_GUESSES_PER_MIN
    assert len(guesses) <= 4 * 60


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["guess", "card"]), st.floats(0, 30)), min_size=1, max_size=12))
def test_no_interleaving_of_guesses_cards_and_pauses_beats_the_bound(plan: list[tuple[str, float]]) -> None:
    assert most_in_a_minute(attack(plan)) <= MAX_GUESSES_PER_MIN


def test_the_first_mistakes_are_free_and_old_ones_expire() -> None:
    throttle = ScanThrottle()
    for t in (0.0, 1.0, 2.0):
        assert throttle.wait_s(KIOSK, t) == 0
        throttle.failed(KIOSK, t)
    assert throttle.wait_s(KIOSK, 2.5) > 0, "the fourth in a row waits"
    assert throttle.wait_s(KIOSK, 200.0) == 0, "two minutes later the record has expired"
    assert throttle.wait_s("10.0.0.8", 2.5) == 0, "another kiosk is not slowed down"
