"""The Desk behind the real sign-in: a librarian signs in through the OIDC sandbox's picker and handles a case.

Real servers on local ports: the staff app (with the Desk) on http://127.0.0.1 and the OIDC sandbox
on http://localhost, as in tests/e2e/test_staff_signin_browser.py. Nothing is put into the session
by the test: the member is the one the provider's ID token names.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack

import pytest
from chromium_support import launch_chromium
from desk_browser import seed
from pydantic import SecretStr

from apps.staff import create_app
from apps.staff.settings import StaffSettings
from connectors.oidc import OidcSettings
from connectors.oidc.sandbox import create_app as create_provider
from connectors.oidc.sandbox.provider import RegisteredClient
from connectors.servers import free_port, serve_in_thread
from kuntaflow.workitems import ItemState, WorkQueue

pytestmark = [pytest.mark.browser, pytest.mark.slow]

SECRET = "desk-signin-client-secret-0123456789"


@pytest.fixture(scope="module")
def world(tmp_path_factory) -> Iterator[tuple[str, WorkQueue]]:
    with pytest.MonkeyPatch.context() as env, ExitStack() as stack:
        data = tmp_path_factory.mktemp("desk-signin")
        queue_url = f"sqlite:///{data / 'queue.db'}"
        env.setenv("KUNTAFLOW_DATA_DIR", str(data))
        staff_port, oidc_port = free_port(), free_port()
        staff_url, oidc_url = f"http://127.0.0.1:{staff_port}", f"http://localhost:{oidc_port}"
        oidc = OidcSettings(issuer=oidc_url, client_id="desk", client_secret=SecretStr(SECRET))
        registered = RegisteredClient("desk", SecretStr(SECRET), (oidc.callback_url(staff_url),), (oidc.signed_out_url(staff_url),))
        stack.enter_context(serve_in_thread(create_provider(issuer=oidc_url, clients=[registered]), host="127.0.0.1", port=oidc_port))
        # The queue by URL: each test's own environment drops KUNTAFLOW_DATABASE_URL (tests/conftest.py).
        desk = create_app(staff_settings=StaffSettings(public_url=staff_url, port=staff_port), oidc_settings=oidc, queue_factory=lambda: WorkQueue(queue_url))
        stack.enter_context(serve_in_thread(desk, port=staff_port))
        queue = stack.enter_context(WorkQueue(queue_url))
        yield staff_url, queue


def test_a_librarian_signs_in_through_the_provider_and_retries_a_refused_application(world):
    from playwright.sync_api import expect, sync_playwright

    staff_url, queue = world
    cases = seed(queue)
    with sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        page = browser.new_context(locale="fi-FI").new_page()
        page.set_default_timeout(20_000)
        try:
            page.goto(f"{staff_url}/tapaukset/{cases['refused']}")
            page.locator("#person-kaisa").check()  # the sandbox's librarian (group "kirjasto")
            page.get_by_role("button", name="Kirjaudu").click()
            expect(page).to_have_url(f"{staff_url}/tapaukset/{cases['refused']}")
            expect(page.get_by_text("valittua kotikirjastoa ei ole kirjastojärjestelmässä")).to_be_visible()
            page.get_by_role("button", name="Käsittelen").click()
            expect(page.locator("dl.facts")).to_contain_text("Kaisa Lindholm")
            page.get_by_label("Perustelu: Yritä uudelleen").fill("kotikirjasto korjattu")
            page.get_by_role("button", name="Yritä uudelleen").click()
            expect(page.get_by_role("status")).to_contain_text("lähetettiin takaisin roboteille")
            page.get_by_role("link", name="På svenska").click()
            expect(page.get_by_role("heading", level=1)).to_have_text(f"Ärende {cases['refused']}: Ansökan om lånekort")
            expect(page.get_by_text("Handläggare")).to_be_visible()
        finally:
            browser.close()
    item = queue.get(cases["refused"])
    assert item.state is ItemState.NEW
    assert [entry.actor for entry in queue.audit(item.id)][-2:] == [item.assignee, item.assignee]
    assert item.assignee.startswith("Kaisa Lindholm (")
