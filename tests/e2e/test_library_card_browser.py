"""A citizen applies for a library card in headless Chromium, start to decision.

Everything runs on real local ports: the e-service on http://127.0.0.1, the sandbox Suomi.fi IdP
on http://localhost (another *site*, so the IdP's POST to the ACS is cross-site and the
``SameSite=Lax`` cookie really stays behind), Koha, Suomi.fi Messages and SMTP sandboxes. The
e-service's trigger runs the real ``library-card`` flow in the background (robot subprocess,
Prefect test server), and the status page, reloading itself, reaches the decision.

Screenshots and the page's HTML of a failure go to ``test-artifacts/``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import ExitStack

import pytest
from chromium_support import chromium_page
from cryptography.fernet import Fernet
from pydantic import SecretStr

from apps.eservice.app import create_app
from apps.eservice.login import SuomiFiLogin, ValtuudetGuardianship
from apps.eservice.settings import EserviceSettings
from apps.eservice.trigger import BackgroundFlowTrigger
from connectors.email.sandbox import SmtpSandbox
from connectors.koha.sandbox import create_app as create_koha
from connectors.servers import free_port, serve_in_thread
from connectors.suomifi_tunnistus import ServiceProvider, SuomiFiSettings
from connectors.suomifi_tunnistus.sandbox import create_app as create_idp
from connectors.suomifi_tunnistus.sandbox.persons import PERSONS
from connectors.suomifi_valtuudet import ValtuudetClient, ValtuudetSettings
from connectors.suomifi_valtuudet.sandbox import create_app as create_valtuudet
from connectors.suomifi_viestit.sandbox import create_app as create_viestit
from flows.library_card import library_card
from kuntaflow.settings import KuntaflowSettings
from schemas.hetu import hetu_key
from schemas.library_card import PROCESS
from schemas.redaction import HETU_PATTERN

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.shared_queue]

APPLICANT = "matti"  # an adult with a Finnish address, not yet a Koha patron
SALT = "eservice-browser-test-salt-1"


class World:
    def __init__(self, eservice_url: str, idp_url: str, smtp: SmtpSandbox, trigger: BackgroundFlowTrigger, app, valtuudet_url: str) -> None:
        self.eservice_url = eservice_url
        self.valtuudet_url = valtuudet_url
        self.idp_url = idp_url
        self.smtp = smtp
        self.trigger = trigger
        self.app = app


@pytest.fixture(scope="module")
def world(prefect_harness, tmp_path_factory) -> Iterator[World]:
    hetu = PERSONS[APPLICANT].hetu
    # The robot refuses a Koha key holding a henkilötunnus-shaped run (reported to the schema owner);
    # this salt keeps the applicant's key clear of it, and says so loudly if that ever changes.
    assert not HETU_PATTERN.search(hetu_key(hetu, SecretStr(SALT)))
    with pytest.MonkeyPatch.context() as env, ExitStack() as stack:
        data = tmp_path_factory.mktemp("browser")
        env.setenv("KUNTAFLOW_DATA_DIR", str(data))
        env.setenv("KUNTAFLOW_DATABASE_URL", f"sqlite:///{data / 'queue.db'}")
        env.setenv("KUNTAFLOW_PAYLOAD_KEY", Fernet.generate_key().decode())
        env.setenv("KUNTAFLOW_HETU_SALT", SALT)
        env.setenv("KUNTAFLOW_RETRY_BACKOFF_SECONDS", "0")
        env.setenv("KUNTAFLOW_KOHA_RETRY_ATTEMPTS", "2")
        env.setenv("KUNTAFLOW_VIESTIT_RETRY_ATTEMPTS", "2")
        env.setenv("KUNTAFLOW_EMAIL_RETRY_ATTEMPTS", "1")
        eservice_port, idp_port = free_port(), free_port()
        eservice_url, idp_url = f"http://127.0.0.1:{eservice_port}", f"http://localhost:{idp_port}"
        env.setenv("KUNTAFLOW_SUOMIFI_SANDBOX_IDP_URL", idp_url)

        koha_url = stack.enter_context(serve_in_thread(create_koha(salt=SecretStr(SALT))))
        viestit_url = stack.enter_context(serve_in_thread(create_viestit()))
        smtp = stack.enter_context(SmtpSandbox())
        env.setenv("KUNTAFLOW_KOHA_BASE_URL", f"{koha_url}/api/v1")
        env.setenv("KUNTAFLOW_VIESTIT_BASE_URL", viestit_url)
        env.setenv("KUNTAFLOW_EMAIL_HOST", smtp.host)
        env.setenv("KUNTAFLOW_EMAIL_PORT", str(smtp.port))

        sp = ServiceProvider(SuomiFiSettings(base_url=eservice_url))
        stack.enter_context(serve_in_thread(create_idp(sp_metadata=[sp.metadata_xml()], base_url=idp_url), host="127.0.0.1", port=idp_port))
        trigger = BackgroundFlowTrigger(lambda: library_card(batch_size=5))
        settings = EserviceSettings(base_url=eservice_url, status_poll_seconds=1)
        valtuudet_url = stack.enter_context(serve_in_thread(create_valtuudet()))
        valtuudet = ValtuudetGuardianship(ValtuudetClient(ValtuudetSettings(base_url=valtuudet_url)))
        app = create_app(settings, login=SuomiFiLogin(sp, valtuudet), trigger=trigger)
        stack.enter_context(serve_in_thread(app, port=eservice_port))
        try:
            yield World(eservice_url, idp_url, smtp, trigger, app, valtuudet_url)
        finally:
            trigger.wait_idle(120)


@pytest.fixture
def page(request) -> Iterator:
    with chromium_page(request) as opened:
        yield opened


def test_a_citizen_logs_in_with_suomifi_applies_and_sees_the_card_ready(world, page):
    from playwright.sync_api import expect

    hetu = PERSONS[APPLICANT].hetu
    urls: list[str] = []
    page.on("request", lambda request: urls.append(request.url))

    page.goto(world.eservice_url)
    expect(page.get_by_role("heading", level=1)).to_have_text("Hae kirjastokorttia")
    expect(page.locator("html")).to_have_attribute("lang", "fi")
    page.keyboard.press("Tab")
    expect(page.get_by_role("link", name="Siirry sisältöön")).to_be_focused()
    page.get_by_role("button", name="Tunnistaudu Suomi.fi:llä").click()

    # The sandbox IdP on another site: choose the test person.
    expect(page).to_have_url(re.compile(rf"^{re.escape(world.idp_url)}/idp/profile/SAML2/Redirect/SSO\?.*&locale=fi$"))
    page.locator(f"#person-{APPLICANT}").check()
    page.get_by_role("button", name=re.compile("^Tunnistaudu")).click()

    # Back in the e-service (cross-site POST to the ACS, then the cookie-bound return).
    expect(page).to_have_url(f"{world.eservice_url}/apply")
    expect(page.get_by_role("heading", level=1)).to_have_text("Kirjastokorttihakemus")
    expect(page.get_by_text("Matti Olavi Nieminen").first).to_be_visible()
    expect(page.get_by_text(f"{hetu[:7]}****")).to_be_visible()

    # A missing acceptance: the error summary takes focus and links to the checkbox.
    page.get_by_label("Kotikirjasto").select_option(label="Vaajakosken kirjasto")
    page.get_by_label("Sähköposti (vapaaehtoinen)").fill("matti.nieminen@example.org")
    page.get_by_label("Sähköpostilla").check()
    page.get_by_role("button", name="Lähetä hakemus").click()
    summary = page.get_by_role("alert")
    expect(summary).to_contain_text("Kirjastokortin saa, kun hyväksyt kirjaston käyttösäännöt.")
    expect(summary).to_be_focused()  # without JavaScript: autofocus
    expect(page).to_have_title(re.compile("^Virhe: "))
    summary.get_by_role("link", name="Kirjastokortin saa, kun hyväksyt kirjaston käyttösäännöt.").click()
    expect(page.locator("#rules_accepted")).to_be_focused()
    expect(page.get_by_label("Sähköposti (vapaaehtoinen)")).to_have_value("matti.nieminen@example.org")

    page.get_by_label("Olen lukenut kirjaston käyttösäännöt ja sitoudun noudattamaan niitä.").check()
    page.get_by_role("button", name="Lähetä hakemus").click()
    expect(page).to_have_url(f"{world.eservice_url}/status")
    expect(page.get_by_role("status")).to_have_text("Hakemus on lähetetty.")

    # The flow decides in the background; the page's script shows the decision in place.
    expect(page.get_by_role("heading", name="Kirjastokorttisi on valmis")).to_be_visible(timeout=180_000)
    expect(page.get_by_text("Voit noutaa kortin kirjastosta Vaajakosken kirjasto")).to_be_visible()
    expect(page.get_by_text("PIN-koodin")).to_be_visible()

    queue = world.app.state.services.queue
    [item] = queue.list(process=PROCESS)
    assert item.state.value == "DONE" and item.reference == hetu_key(hetu, KuntaflowSettings().salt())
    assert world.smtp.mailbox.to("matti.nieminen@example.org"), "the decision was e-mailed"
    assert not [url for url in urls if hetu in url]

    # Suomi.fi single logout: local session first, then the IdP and back.
    page.get_by_role("button", name="Kirjaudu ulos").click()
    expect(page).to_have_url(f"{world.eservice_url}/logged-out")
    expect(page.get_by_role("heading", level=1)).to_have_text("Olet kirjautunut ulos")
    page.goto(f"{world.eservice_url}/status")
    expect(page.get_by_role("heading", level=1)).to_have_text("Et ole tunnistautunut")


WCAG_21_AA = {"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]}}


def test_a_guardian_picks_the_child_in_suomifi_valtuudet_with_the_keyboard_alone(world, page):
    """The guardian path end to end: e-service → Valtuudet's page (axe WCAG 2.1 AA, keyboard only) → the child's form."""
    from axe_playwright_python.sync_playwright import Axe
    from playwright.sync_api import expect

    hetus = [PERSONS[key].hetu for key in ("sanna", "onni")]
    urls: list[str] = []
    page.on("request", lambda request: urls.append(request.url))
    page.goto(world.eservice_url)
    page.get_by_role("button", name="Tunnistaudu Suomi.fi:llä").click()
    page.locator("#person-sanna").check()
    page.get_by_role("button", name=re.compile("^Tunnistaudu")).click()
    expect(page).to_have_url(f"{world.eservice_url}/apply")
    page.get_by_role("link", name="Vaihda hakija").click()
    page.get_by_label(re.compile("^Lapselle, jonka huoltaja olen")).check()
    page.get_by_role("button", name="Jatka").click()

    # Suomi.fi Valtuudet's page, on its own site: the guardian's children, in Finnish.
    expect(page).to_have_url(re.compile(rf"^{re.escape(world.valtuudet_url)}/oauth/authorize\?.*lang=fi"))
    expect(page.locator("html")).to_have_attribute("lang", "fi")
    expect(page.get_by_role("heading", level=1)).to_have_text("Valitse, kenen puolesta asioit")
    results = Axe().run(page, options=WCAG_21_AA)
    assert results.violations_count == 0, results.generate_report()

    # Keyboard alone: into the radio group, down to Onni, on to the button.
    page.locator("body").focus()
    page.keyboard.press("Tab")
    expect(page.get_by_label(re.compile("^Ella Sofia Laine"))).to_be_focused()
    page.keyboard.press("ArrowDown")
    expect(page.get_by_label(re.compile("^Onni Eemeli Laine"))).to_be_checked()
    page.keyboard.press("Tab")
    expect(page.get_by_role("button", name="Valitse")).to_be_focused()
    page.keyboard.press("Enter")

    # Back in the e-service: the form is for Onni, Sanna as guarantor, Valtuudet having said ALLOWED.
    expect(page).to_have_url(f"{world.eservice_url}/apply")
    expect(page.get_by_role("heading", level=1)).to_have_text("Kirjastokorttihakemus lapselle")
    expect(page.get_by_text("Onni Eemeli Laine").first).to_be_visible()
    assert not [url for url in urls for hetu in hetus if hetu and hetu in url]
