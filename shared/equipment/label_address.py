"""Which address a station label links to, so that scanning it opens the staff app wherever it runs.

`CLINIC_STAFF_URL` (the staff app's public address) always wins. Without it, the staff app prints labels for the
address the browser reached it at (a tablet on the clinic's network reaches it the way phones will), and the
command line, which cannot know, falls back to this computer's staff port and says that phones cannot open that.
The link carries only the station's id (`<address>/scan?s=<site>/<id>`), never anything about a patient.
"""

from __future__ import annotations

from urllib.parse import urlsplit

THIS_COMPUTER = {"localhost", "127.0.0.1", "::1", "0.0.0.0", "::"}


def label_base_url(*, configured: str | None, browser_url: str | None, default: str) -> str:
    """The staff app's address for labels: `configured` (CLINIC_STAFF_URL), else the scheme and host the browser
    used (`browser_url`, any page of the app), else `default` (this computer's staff port)."""
    if configured:
        return configured
    if browser_url:
        parts = urlsplit(browser_url)
        if parts.scheme in ("http", "https") and parts.netloc:
            return f"{parts.scheme}://{parts.netloc}"
    return default


def only_this_computer(url: str) -> bool:
    """Whether `url` names this computer (localhost), which a phone scanning the label cannot open."""
    return (urlsplit(url).hostname or "").lower() in THIS_COMPUTER
