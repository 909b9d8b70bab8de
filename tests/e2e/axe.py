"""axe-core in the page: the script ships inside the `axe-playwright-python` wheel (a dev dependency), so the
tests download nothing at run time."""

from __future__ import annotations

from functools import cache
from importlib.resources import files
from typing import Any

from playwright.sync_api import Page

from tests.e2e.settle import settled

BLOCKING = ("serious", "critical")


@cache
def axe_script() -> str:
    return (files("axe_playwright_python") / "axe.min.js").read_text(encoding="utf-8")


def axe_violations(page: Page) -> list[dict[str, Any]]:
    """Run every axe rule on the page once it has settled (a rerun's faded, stale elements would fail contrast
    checks no person sees for long); the violations, each with its nodes."""
    settled(page)
    page.add_script_tag(content=axe_script())
    results: dict[str, Any] = page.evaluate("axe.run(document, {resultTypes: ['violations']})")
    return list(results["violations"])


def describe(violations: list[dict[str, Any]]) -> str:
    """One readable block per violation, for an assertion message."""
    lines = []
    for v in violations:
        lines.append(f"[{v['impact']}] {v['id']}: {v['help']} ({v['helpUrl']})")
        for node in v["nodes"][:5]:
            lines.append(f"    at {' '.join(map(str, node['target']))}: {node.get('failureSummary', '')!s}")
    return "\n".join(lines)
