"""Every page of the citizen e-service passes axe-core's WCAG 2.1 AA rules (no serious or critical violation)
and reflows at 320 px wide without sideways scrolling, in headless Chromium.

The e-service runs on a real port beside the Suomi.fi IdP and Koha sandboxes; the flow is not
started (the trigger only records), so the status page shows the application as received.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import ExitStack

import pytest
from accessibility import accessibility_violations, assert_reflows

from apps.eservice.app import create_app
from apps.eservice.login import SuomiFiLogin, ValtuudetGuardianship
from apps.eservice.settings import EserviceSettings
from connectors.koha.sandbox import create_app as create_koha
from connectors.servers import free_port, serve_in_thread
from connectors.suomifi_tunnistus import ServiceProvider, SuomiFiSettings
from connectors.suomifi_tunnistus.sandbox import create_app as create_idp
from connectors.suomifi_valtuudet import ValtuudetClient, ValtuudetSettings
from connectors.suomifi_valtuudet.sandbox import create_app as create_valtuudet
from kuntaflow.settings import KuntaflowSettings

pytestmark = [pytest.mark.browser, pytest.mark.slow]

CHROMIUM_PATH = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--no-first-run", "--disable-sync"]


@pytest.fixture(scope="module")
def eservice_url(tmp_path_factory) -> Iterator[str]:
    with pytest.MonkeyPatch.context() as env, ExitStack() as stack:
        data = tmp_path_factory.mktemp("eservice-a11y")
        env.setenv("KUNTAFLOW_DATA_DIR", str(data))
        env.setenv("KUNTAFLOW_DATABASE_URL", f"sqlite:///{data / 'queue.db'}")
        eservice_port, idp_port = free_port(), free_port()
        eservice_url, idp_url = f"http://127.0.0.1:{eservice_port}", f"http://localhost:{idp_port}"
        env.setenv("KUNTAFLOW_SUOMIFI_SANDBOX_IDP_URL", idp_url)
        koha_url = stack.enter_context(serve_in_thread(create_koha(salt=KuntaflowSettings().salt())))
        env.setenv("KUNTAFLOW_KOHA_BASE_URL", f"{koha_url}/api/v1")
        sp = ServiceProvider(SuomiFiSettings(base_url=eservice_url))
        stack.enter_context(serve_in_thread(create_idp(sp_metadata=[sp.metadata_xml()], base_url=idp_url), host="127.0.0.1", port=idp_port))
        valtuudet_url = stack.enter_context(serve_in_thread(create_valtuudet()))
        valtuudet = ValtuudetGuardianship(ValtuudetClient(ValtuudetSettings(base_url=valtuudet_url)))
        app = create_app(EserviceSettings(base_url=eservice_url, trigger="none"), login=SuomiFiLogin(sp, valtuudet), trigger=lambda item: None)
        stack.enter_context(serve_in_thread(app, port=eservice_port))
        yield eservice_url


def test_every_eservice_page_passes_axe_and_reflows_at_320_px(eservice_url):
    from playwright.sync_api import expect, sync_playwright

    problems: list[str] = []

    def check(page, name: str, *, known: frozenset[str] = frozenset()) -> None:
        page.set_viewport_size({"width": 1280, "height": 800})
        problems.extend(f"{name}: {v['id']}" for v in accessibility_violations(page) if v["id"] not in known)
        try:
            assert_reflows(page)
        except AssertionError as error:
            problems.append(f"{name}: {error}")

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM_PATH, args=CHROMIUM_ARGS, headless=True)
        page = browser.new_context(locale="fi-FI").new_page()
        page.set_default_timeout(20_000)
        try:
            page.goto(eservice_url)
            check(page, "start")
            page.goto(f"{eservice_url}/no-such-page")
            check(page, "not found")
            page.goto(f"{eservice_url}/status")
            check(page, "status without login")
            page.goto(eservice_url)
            page.get_by_role("button", name="Tunnistaudu Suomi.fi:llä").click()
            page.locator("#person-matti").check()
            page.get_by_role("button", name=re.compile("^Tunnistaudu")).click()
            expect(page.get_by_role("heading", level=1)).to_have_text("Kirjastokorttihakemus")
            check(page, "form")
            page.get_by_role("button", name="Lähetä hakemus").click()
            expect(page.get_by_role("alert")).to_be_visible()
            check(page, "form with errors")
            page.get_by_label("Kotikirjasto").select_option(label="Vaajakosken kirjasto")
            page.get_by_label("Olen lukenut kirjaston käyttösäännöt ja sitoudun noudattamaan niitä.").check()
            page.get_by_role("button", name="Lähetä hakemus").click()
            expect(page.get_by_role("status")).to_have_text("Hakemus on lähetetty.")
            check(page, "status")
            page.get_by_role("button", name="Kirjaudu ulos").click()
            expect(page.get_by_role("heading", level=1)).to_have_text("Olet kirjautunut ulos")
            check(page, "logged out")
        finally:
            browser.close()
    assert not problems, "\n".join(problems)
