"""TEST-ONLY: the Desk served on a real port with sample cases, and headless Chromium pages signed in as a member.

Shared by the browser tests and the screenshot script (tests/staff/desk_screenshots.py).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from desk_support import COOKIE, claim_only, desk_app, failed, refused, session_cookie

from apps.staff.identity import StaffMember
from connectors.servers import serve_in_thread
from kuntaflow.workitems import WorkQueue


def seed(queue: WorkQueue) -> dict[str, int]:
    """A librarian's morning: refused applications, an outage's failures, one case already handled."""
    tag = uuid.uuid4().hex[:8]  # references are unique per process: each call seeds new cases
    cases = {"refused": refused(queue, f"a{tag}", "UNKNOWN_HOME_LIBRARY"), "duplicate": refused(queue, f"b{tag}", "POSSIBLE_DUPLICATE_STAFF_REVIEW")}
    cases |= {f"koha{n}": failed(queue, f"c{tag}{n}") for n in range(3)}
    done = queue.add("library_card", reference=f"d{tag}", payload={})
    claim_only(queue, "library_card", done.id)
    queue.complete(done.id, owner="robot-1")
    cases["done"] = done.id
    hire = {"first_names": "Aino", "last_name": "Testinen", "date_of_birth": "1990-05-17", "start_date": "2027-01-04", "title": "sairaanhoitaja"}
    cases["hire"] = refused(queue, f"e{tag}", "HIRE_DETAILS_MISSING", process="employment_start", payload={**hire, "missing": ["hetu", "unit_id"]})
    return cases


@contextmanager
def served_desk(queue_url: str) -> Iterator[str]:
    """The staff app on a free port; yields its base URL."""
    with serve_in_thread(desk_app(queue_url)) as url:
        yield url


def signed_in_context(browser: Any, base_url: str, member: StaffMember, **options: Any):
    """A browser context whose session cookie holds ``member`` (TEST-ONLY: the real sign-in is OpenID Connect)."""
    context = browser.new_context(locale="fi-FI", **options)
    context.add_cookies([{"name": COOKIE, "value": session_cookie(member), "url": base_url}])
    return context
