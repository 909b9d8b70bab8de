"""When a Streamlit page is ready to be judged (axe, sizes, screenshots) as a person sees it."""

from __future__ import annotations

from playwright.sync_api import Page

SETTLED = """() => !document.querySelector('[data-testid=stStatusWidget] img, .stSpinner, [data-stale="true"]')
    && [...document.images].every(image => image.complete)
    && !document.getAnimations().some(running => running instanceof CSSTransition)"""


def settled(page: Page) -> None:
    """The run has finished (no "running" indicator, no spinner), the last run's elements are replaced
    (Streamlit marks them stale until then, faded), no fade is under way and every picture has loaded. Not
    "network idle": a page that refreshes itself (the board, the arrivals) may fetch now and then for as long as
    it is open, and on a loaded machine never leaves half a second without a request."""
    page.wait_for_function(SETTLED)
