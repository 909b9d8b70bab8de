"""Which address a station label opens: the configured public address, else the one the staff member's browser
reached the staff app at, else this computer's staff port (which phones cannot open, and is said so)."""

from __future__ import annotations

import pytest

from shared.equipment.label_address import label_base_url, only_this_computer

HERE = "http://localhost:8502"


@pytest.mark.parametrize(
    ("configured", "browser", "expected"),
    [("https://staff.clinic.example", "http://192.168.1.20:9000/scan", "https://staff.clinic.example"),
     (None, "http://192.168.1.20:9000/scan?s=main/tm-1", "http://192.168.1.20:9000"),
     (None, "https://desk.clinic.example/", "https://desk.clinic.example"),
     (None, None, HERE), (None, "", HERE), (None, "about:blank", HERE), ("", None, HERE)],
)  # fmt: skip
def test_the_configured_address_wins_then_the_browsers(
    configured: str | None, browser: str | None, expected: str
) -> None:
    assert label_base_url(configured=configured, browser_url=browser, default=HERE) == expected


@pytest.mark.parametrize(
    ("url", "expected"),
    [(HERE, True), ("https://127.0.0.1:8502", True), ("http://[::1]:8502", True), ("http://LOCALHOST", True),
     ("http://192.168.1.20:8502", False), ("https://staff.clinic.example/staff", False)],
)  # fmt: skip
def test_only_this_computer(url: str, expected: bool) -> None:
    assert only_this_computer(url) is expected
