"""Accessibility checks for browser tests: axe-core (WCAG 2.1 A and AA rules) and reflow at 320 px.

``assert_accessible(page)`` runs axe-core, as ``axe-playwright-python`` ships it, on the page as it
is now and fails on any *serious* or *critical* violation, listing each rule with the elements it
found; ``assert_reflows(page)`` fails when the page scrolls sideways at 320 CSS pixels wide
(WCAG 1.4.10). A test of any staff or e-service page can use both::

    from accessibility import assert_accessible, assert_reflows  # tests/ is on sys.path
    page.goto(url); assert_accessible(page); assert_reflows(page)
"""

from __future__ import annotations

from typing import Any

#: The WCAG 2.1 A and AA rule tags of axe-core.
WCAG_21_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
BLOCKING = ("serious", "critical")


def accessibility_violations(page: Any, *, impacts: tuple[str, ...] = BLOCKING) -> list[dict[str, Any]]:
    """axe-core's WCAG 2.1 AA violations on ``page`` with one of ``impacts``."""
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page, options={"runOnly": {"type": "tag", "values": WCAG_21_AA}, "resultTypes": ["violations"]})
    return [violation for violation in results.response["violations"] if violation.get("impact") in impacts]


def assert_accessible(page: Any) -> None:
    """Fail on any serious or critical WCAG 2.1 AA violation axe-core finds on the page as it is now."""
    found = accessibility_violations(page)
    assert not found, f"{page.url}: " + "; ".join(
        f"{violation['id']} ({violation['impact']}): {violation['help']} at {[node['target'] for node in violation['nodes']]}" for violation in found
    )


def assert_reflows(page: Any, *, width: int = 320) -> None:
    """Fail when the page, ``width`` CSS pixels wide, is wider than the window (sideways scrolling)."""
    original = page.viewport_size
    page.set_viewport_size({"width": width, "height": 640})
    try:
        overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    finally:
        if original:
            page.set_viewport_size(original)
    assert overflow <= 0, f"{page.url} scrolls {overflow} px sideways at {width} px wide"
