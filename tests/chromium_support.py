"""What the browser tests share: Debian's Chromium for Playwright, and a failed test's evidence."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--no-first-run", "--disable-sync"]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


def launch_chromium(playwright):
    """Headless Chromium from the Debian package (the Makefile's setup installs it)."""
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: apt-get install -y chromium (the Makefile's setup does it)")
    return playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)


def keep_evidence_of_failure(request, page) -> None:
    """A screenshot and the HTML of ``page`` in ``test-artifacts/`` when the test's call failed."""
    report = getattr(request.node, "rep_call", None)
    if report is None or report.failed:
        ARTIFACTS.mkdir(exist_ok=True)
        name = re.sub(r"[^A-Za-z0-9_.-]", "_", request.node.name)
        page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
        (ARTIFACTS / f"{name}.html").write_text(page.content(), encoding="utf-8")


@contextmanager
def chromium_page(request: Any, *, locale: str = "fi-FI") -> Iterator[Any]:
    """A page in a fresh headless Chromium (20 s timeouts); a failed test's evidence is kept, then all is closed."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        context = browser.new_context(locale=locale)
        page = context.new_page()
        page.set_default_timeout(20_000)
        try:
            yield page
        finally:
            keep_evidence_of_failure(request, page)
            context.close()
            browser.close()
