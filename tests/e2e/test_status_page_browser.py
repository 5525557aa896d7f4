"""The status page in headless Chromium while a decision lands, with and without JavaScript.

A citizen logs in through the sandbox Suomi.fi IdP (on another site, as in production), applies,
and waits on the status page. The test then decides the application in the queue the way the
robot does (checkpoint, complete or business failure), so the page's behaviour is what is tested:

- with JavaScript, the page shows the decision in place (no reload: a marker set on the window
  survives) and announces it in the polite live region; focus stays where the citizen left it;
- without JavaScript, the "check again" button (reached with the keyboard alone) shows it.

Each state is checked with axe-core (WCAG 2.0/2.1 A and AA rules) in Chromium: a page that
reloads itself (``<meta http-equiv="refresh">``) fails its ``meta-refresh`` rule.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass

import pytest
from chromium_support import keep_evidence_of_failure, launch_chromium
from cryptography.fernet import Fernet

from apps.eservice.app import create_app
from apps.eservice.login import SuomiFiLogin
from apps.eservice.settings import EserviceSettings
from connectors.koha.sandbox import create_app as create_koha
from connectors.servers import free_port, serve_in_thread
from connectors.suomifi_tunnistus import ServiceProvider, SuomiFiSettings
from connectors.suomifi_tunnistus.sandbox import create_app as create_idp
from schemas.library_card import PROCESS

pytestmark = [pytest.mark.browser]

WCAG_AA = {"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]}, "resultTypes": ["violations"]}


@dataclass
class Site:
    eservice_url: str
    idp_url: str
    app: object

    @property
    def queue(self):
        return self.app.state.services.queue


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Iterator[Site]:
    with pytest.MonkeyPatch.context() as env, ExitStack() as stack:
        data = tmp_path_factory.mktemp("status-page")
        env.setenv("KUNTAFLOW_DATA_DIR", str(data))
        env.setenv("KUNTAFLOW_DATABASE_URL", f"sqlite:///{data / 'queue.db'}")
        env.setenv("KUNTAFLOW_PAYLOAD_KEY", Fernet.generate_key().decode())
        eservice_port, idp_port = free_port(), free_port()
        eservice_url, idp_url = f"http://127.0.0.1:{eservice_port}", f"http://localhost:{idp_port}"
        env.setenv("KUNTAFLOW_SUOMIFI_SANDBOX_IDP_URL", idp_url)
        koha_url = stack.enter_context(serve_in_thread(create_koha()))
        env.setenv("KUNTAFLOW_KOHA_BASE_URL", f"{koha_url}/api/v1")
        sp = ServiceProvider(SuomiFiSettings(base_url=eservice_url))
        stack.enter_context(serve_in_thread(create_idp(sp_metadata=[sp.metadata_xml()], base_url=idp_url), host="127.0.0.1", port=idp_port))
        # No trigger: the test itself decides, so what is tested is the page, not the robot's speed.
        settings = EserviceSettings(base_url=eservice_url, status_poll_seconds=0.5, trigger="none")
        app = create_app(settings, login=SuomiFiLogin(sp))  # the page under test needs no guardian check
        stack.enter_context(serve_in_thread(app, port=eservice_port))
        yield Site(eservice_url, idp_url, app)


@pytest.fixture(scope="module")
def browser() -> Iterator:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = launch_chromium(playwright)
        try:
            yield chromium
        finally:
            chromium.close()


def new_page(browser, request, *, javascript: bool):
    context = browser.new_context(locale="fi-FI", java_script_enabled=javascript)
    page = context.new_page()
    page.set_default_timeout(20_000)

    def keep_evidence() -> None:
        keep_evidence_of_failure(request, page)
        context.close()

    request.addfinalizer(keep_evidence)
    return page


def apply_and_wait_on_status(site: Site, page, person: str, *, javascript: bool = True) -> int:
    """Log in as ``person`` on the sandbox IdP, send the form and land on the status page; the item's id."""
    from playwright.sync_api import expect

    page.goto(site.eservice_url)
    page.get_by_role("button", name="Tunnistaudu Suomi.fi:llä").click()
    page.locator(f"#person-{person}").check()
    page.get_by_role("button", name=re.compile("^Tunnistaudu")).click()
    if not javascript:  # the IdP's answer is a form the browser would post by itself with JavaScript
        page.get_by_role("button", name=re.compile("^Jatka")).click()
    expect(page).to_have_url(f"{site.eservice_url}/apply")
    page.get_by_label("Kotikirjasto").select_option(label="Vaajakosken kirjasto")
    page.get_by_label("Olen lukenut kirjaston käyttösäännöt ja sitoudun noudattamaan niitä.").check()
    earlier = {item.id for item in site.queue.list(process=PROCESS)}  # another test's application may still wait
    page.get_by_role("button", name="Lähetä hakemus").click()
    expect(page).to_have_url(f"{site.eservice_url}/status")
    expect(page.get_by_role("heading", name="Hakemus on vastaanotettu")).to_be_visible()
    expect(page.locator("meta[http-equiv]")).to_have_count(0)
    [item] = [item for item in site.queue.list(process=PROCESS) if item.id not in earlier]
    assert item.state.value == "NEW"
    return item.id


def grant(site: Site, item_id: int) -> None:
    """What the robot leaves behind for a granted card."""
    site.queue.claim(PROCESS, owner="status-page-test")
    site.queue.checkpoint(item_id, "rules_checked", {"reason": "CARD_GRANTED", "decided_on": "2026-11-25", "library_name": "Vaajakosken kirjasto"})
    site.queue.complete(item_id, output={"reason": "CARD_GRANTED", "library_id": "JYVVAA", "expiry_date": "2031-11-25"}, owner="status-page-test")


def assert_accessible(page) -> None:
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page, options=WCAG_AA)
    assert results.violations_count == 0, results.generate_report()


def assert_accessible_without_script(browser, page) -> None:
    """axe needs JavaScript to run: check what a browser without it shows (the same session and
    address, the page's own script blocked) in a context where it may run."""
    context = browser.new_context(locale="fi-FI", storage_state=page.context.storage_state())
    try:
        context.route("**/static/status.js", lambda route: route.abort())
        twin = context.new_page()
        twin.goto(page.url)
        assert twin.content().count("<section") == page.content().count("<section")
        assert_accessible(twin)
    finally:
        context.close()


def test_with_javascript_the_decision_appears_in_place_and_is_announced_politely(site, browser, request):
    from playwright.sync_api import expect

    page = new_page(browser, request, javascript=True)
    item_id = apply_and_wait_on_status(site, page, "matti")
    assert_accessible(page)
    page.evaluate("window.stillTheSamePage = true")
    live = page.locator("#status-announcement")
    expect(live).to_have_attribute("aria-live", "polite")

    # The button asks at once; with nothing decided yet it says so, politely.
    button = page.get_by_role("button", name="Tarkista tilanne uudelleen")
    button.focus()
    page.keyboard.press("Enter")
    expect(live).to_have_text("Hakemusta käsitellään yhä.")
    expect(button).to_be_focused()

    # Pressed while the page's own scheduled ask is on its way, the button still gets its answer.
    held, hold = [], [True]
    page.route(f"{site.eservice_url}/status", lambda route: held.append(route) if hold[0] and route.request.resource_type == "fetch" else route.continue_())
    page.evaluate("document.getElementById('status-announcement').textContent = ''")
    for _ in range(100):
        if held:
            break
        page.wait_for_timeout(100)
    assert held, "the page did not ask again on its own"
    page.keyboard.press("Enter")
    hold[0] = False
    for route in held:
        route.continue_()
    page.unroute(f"{site.eservice_url}/status")
    expect(live).to_have_text("Hakemusta käsitellään yhä.")

    grant(site, item_id)
    expect(page.get_by_role("heading", name="Kirjastokorttisi on valmis")).to_be_visible()
    expect(live).to_have_text("Päätös on tehty: Kirjastokorttisi on valmis")
    assert page.evaluate("window.stillTheSamePage") is True, "the page was reloaded instead of updated in place"
    expect(page.get_by_text("Voit noutaa kortin kirjastosta Vaajakosken kirjasto")).to_be_visible()
    expect(page.locator("#check-again")).to_be_hidden()  # nothing left to wait for
    assert_accessible(page)

    # The texts the script announces come from the page, in the page's language.
    page.get_by_role("link", name="Svenska").click()
    expect(page.locator("#applications")).to_have_attribute("data-announce", "Beslutet är fattat: {title}")
    page.get_by_role("link", name="English").click()
    expect(page.locator("#applications")).to_have_attribute("data-still", "The application is still being processed.")
    assert_accessible(page)


def test_without_javascript_check_again_shows_the_decision_with_the_keyboard_alone(site, browser, request):
    from playwright.sync_api import expect

    page = new_page(browser, request, javascript=False)
    item_id = apply_and_wait_on_status(site, page, "aino", javascript=False)
    assert_accessible_without_script(browser, page)

    # Tab from the top of the page to the button, as a keyboard user would.
    button = page.get_by_role("button", name="Tarkista tilanne uudelleen")
    page.locator("body").focus()
    for _ in range(40):
        page.keyboard.press("Tab")
        if button.evaluate("element => element === document.activeElement"):
            break
    expect(button).to_be_focused()
    grant(site, item_id)
    page.keyboard.press("Enter")

    expect(page.get_by_role("heading", name="Kirjastokorttisi on valmis")).to_be_visible()
    expect(page.get_by_role("button", name="Tarkista tilanne uudelleen")).to_have_count(0)
    assert_accessible_without_script(browser, page)
