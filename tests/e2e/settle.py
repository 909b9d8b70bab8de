"""When a Streamlit page is ready to be judged (axe, sizes, screenshots) as a person sees it."""

from __future__ import annotations

import contextlib

from playwright.sync_api import Page
from playwright.sync_api import TimeoutError as PlaywrightTimeout

RUN_DONE = "() => !document.querySelector('[data-testid=stStatusWidget] img, .stSpinner, [data-stale=\"true\"]')"
STEADY = """() => [...document.images].every(image => image.complete)
    && !document.getAnimations().some(running => running instanceof CSSTransition
                                                 && running.transitionProperty === 'opacity')"""
STEADY_WAIT_MS = 5_000


def settled(page: Page) -> None:
    """The run has finished (no "running" indicator, no spinner) and the last run's elements are replaced
    (Streamlit marks them stale, faded, until then); then, for a few seconds at most, until no fade is under way
    and every picture has loaded (a page may keep a transition going, e.g. the lobby's scan field taking the focus
    again, so this part is waited for, not required). Not "network idle": a page that refreshes itself may fetch
    now and then for as long as it is open, and on a loaded machine never leaves half a second without a request."""
    page.wait_for_function(RUN_DONE)
    with contextlib.suppress(PlaywrightTimeout):  # judged as it is then: the run itself is done
        page.wait_for_function(STEADY, timeout=STEADY_WAIT_MS)
