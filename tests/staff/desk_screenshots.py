"""Screenshots of the Desk for its README: the dashboard, a list and a case's page, as a librarian sees them.

    .venv/bin/python tests/staff/desk_screenshots.py [docs]

Serves the Desk on a throwaway SQLite queue with sample cases (tests/staff/desk_browser.py) and
signs in the TEST-ONLY way the browser tests do.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from chromium_support import launch_chromium
from desk_browser import seed, served_desk, signed_in_context
from desk_support import LIBRARIAN, OTHER_LIBRARIAN

from kuntaflow.workitems import WorkQueue


def main(folder: Path) -> None:
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory(prefix="desk-shots-") as tmp:
        import os

        os.environ["KUNTAFLOW_DATA_DIR"] = tmp
        url = f"sqlite:///{tmp}/queue.db"
        with WorkQueue(url) as queue, served_desk(url) as base, sync_playwright() as playwright:
            cases = seed(queue)
            seed(queue)
            queue.assign(cases["duplicate"], assignee=OTHER_LIBRARIAN.actor, actor=OTHER_LIBRARIAN.actor)
            queue.record(cases["refused"], actor=OTHER_LIBRARIAN.actor, action="note", reason="Hakija soitti: valitsi Vaajakosken kirjaston")
            browser = launch_chromium(playwright)
            page = signed_in_context(browser, base, LIBRARIAN, viewport={"width": 1100, "height": 900}).new_page()
            for name, path in (
                ("desk-dashboard.png", "/"),
                ("desk-list.png", "/tapaukset?process=library_card&state=BUSINESS_FAILED"),
                ("desk-item.png", f"/tapaukset/{cases['refused']}"),
            ):
                page.goto(f"{base}{path}")
                page.screenshot(path=str(folder / name), full_page=True)
                print(folder / name)
            browser.close()


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "docs"))
