"""A librarian signs in to the staff app through the OIDC sandbox's picker and signs out, in headless Chromium.

Real servers on local ports: the staff app on http://127.0.0.1 and the OIDC sandbox on
http://localhost (another site, as a city's provider is). The whole way is done with the keyboard;
the picker, the signed-in page and the signed-out page pass axe-core's WCAG 2.1 AA rules and reflow
at 320 px. The page behind sign-in is a probe using ``require_member``, as every Desk view does.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import ExitStack
from typing import Annotated
from urllib.parse import parse_qs, urlsplit

import pytest
from accessibility import assert_accessible, assert_reflows
from chromium_support import chromium_page
from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse
from pydantic import SecretStr

from apps.staff import create_app
from apps.staff.access import ensure_may_handle, require_member
from apps.staff.identity import Role, StaffMember
from apps.staff.pages import render
from apps.staff.settings import StaffSettings
from connectors.oidc import OidcSettings
from connectors.oidc.sandbox import create_app as create_provider
from connectors.oidc.sandbox.provider import RegisteredClient
from connectors.oidc.sandbox.staff import STAFF
from connectors.servers import free_port, serve_in_thread

pytestmark = [pytest.mark.browser, pytest.mark.slow]

SECRET = "browser-test-client-secret-0123456789"

probe = APIRouter()


@probe.get("/koe", response_class=HTMLResponse)
def signed_in_page(request: Request, member: Annotated[StaffMember, Depends(require_member)]) -> HTMLResponse:
    roles = ", ".join(sorted(role.value for role in member.roles))
    return render(request, "message.html", title=f"Hei {member.name}", text=f"roolit: {roles}")


@probe.get("/koe/{process}", response_class=HTMLResponse)
def process_page(request: Request, process: str, member: Annotated[StaffMember, Depends(require_member)]) -> HTMLResponse:
    ensure_may_handle(request, member, process)
    return render(request, "message.html", title=process, text=member.name)


class World:
    def __init__(self, staff_url: str, oidc_url: str, provider) -> None:
        self.staff_url, self.oidc_url, self.provider = staff_url, oidc_url, provider


@pytest.fixture(scope="module")
def world(tmp_path_factory) -> Iterator[World]:
    with pytest.MonkeyPatch.context() as env, ExitStack() as stack:
        data = tmp_path_factory.mktemp("staff-signin")
        env.setenv("KUNTAFLOW_DATA_DIR", str(data))
        env.setenv("KUNTAFLOW_DATABASE_URL", f"sqlite:///{data / 'queue.db'}")
        staff_port, oidc_port = free_port(), free_port()
        staff_url, oidc_url = f"http://127.0.0.1:{staff_port}", f"http://localhost:{oidc_port}"
        oidc = OidcSettings(issuer=oidc_url, client_id="desk", client_secret=SecretStr(SECRET))
        registered = RegisteredClient("desk", SecretStr(SECRET), (oidc.callback_url(staff_url),), (oidc.signed_out_url(staff_url),))
        provider_app = create_provider(issuer=oidc_url, clients=[registered])
        stack.enter_context(serve_in_thread(provider_app, host="127.0.0.1", port=oidc_port))
        app = create_app(staff_settings=StaffSettings(public_url=staff_url, port=staff_port), oidc_settings=oidc, routers=[probe])
        stack.enter_context(serve_in_thread(app, port=staff_port))
        yield World(staff_url, oidc_url, provider_app.state.provider)


@pytest.fixture
def page(request) -> Iterator:
    with chromium_page(request) as opened:
        yield opened


def _tab_to(page, selector: str, *, presses: int = 15) -> None:
    """Press Tab until ``selector`` has the focus (the keyboard alone)."""
    for _ in range(presses):
        page.keyboard.press("Tab")
        if page.evaluate("(selector) => document.activeElement === document.querySelector(selector)", selector):
            return
    raise AssertionError(f"{selector} was not reached with Tab")


def test_a_librarian_signs_in_through_the_picker_and_out_with_the_keyboard(world, page):
    from playwright.sync_api import expect

    page.goto(f"{world.staff_url}/koe")
    # At the provider: the request is code + PKCE S256 with a nonce, for the registered callback.
    expect(page).to_have_url(re.compile(rf"^{re.escape(world.oidc_url)}/protocol/openid-connect/auth\?"))
    query = parse_qs(urlsplit(page.url).query)
    assert query["code_challenge_method"] == ["S256"] and query["nonce"] and query["redirect_uri"] == [f"{world.staff_url}/kirjaudu/paluu"]
    expect(page.get_by_role("heading", level=1)).to_have_text("Kirjaudu kaupungin työntekijänä")
    assert_accessible(page)
    assert_reflows(page)

    _tab_to(page, "#person-kaisa")
    page.keyboard.press("Space")
    expect(page.locator("#person-kaisa")).to_be_checked()
    page.keyboard.press("Tab")
    expect(page.get_by_role("button", name="Kirjaudu")).to_be_focused()
    page.keyboard.press("Enter")

    # Back on the page asked for, signed in with the librarian's role from the groups claim.
    expect(page).to_have_url(f"{world.staff_url}/koe")
    expect(page.get_by_role("heading", level=1)).to_have_text("Hei Kaisa Lindholm")
    expect(page.get_by_text("roolit: librarian")).to_be_visible()
    expect(page.get_by_text("Kirjautunut: Kaisa Lindholm")).to_be_visible()
    assert_accessible(page)
    assert_reflows(page)

    # The language switch keeps the page; the choice stays.
    _tab_to(page, 'a[hreflang="sv"]')
    page.keyboard.press("Enter")
    expect(page).to_have_url(f"{world.staff_url}/koe")
    expect(page.locator("html")).to_have_attribute("lang", "sv")
    expect(page.get_by_text("Inloggad: Kaisa Lindholm")).to_be_visible()

    # Sign out: here and at the provider (RP-initiated logout), back to the signed-out page.
    _tab_to(page, "form[action='/kirjaudu-ulos'] button")
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(rf"^{re.escape(world.staff_url)}/kirjaudu/uloskirjautunut"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Du har loggat ut")
    assert_accessible(page)
    assert world.provider.signed_out[-1] == {"client_id": "desk", "subject": STAFF["kaisa"].subject}

    page.goto(f"{world.staff_url}/koe")  # signed out: sign-in again
    expect(page).to_have_url(re.compile(rf"^{re.escape(world.oidc_url)}/protocol/openid-connect/auth\?"))


def test_a_teacher_with_no_kuntaflow_group_signs_in_with_no_role_and_is_refused_a_process(world, page):
    from playwright.sync_api import expect

    page.goto(f"{world.staff_url}/kirjaudu?seuraava=/koe")
    page.locator("#person-olli").check()
    page.get_by_role("button", name="Kirjaudu").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Hei Olli Nieminen")
    expect(page.get_by_text("roolit:", exact=True)).to_be_visible()
    assert Role.LIBRARIAN.value not in page.content()
    refused = page.goto(f"{world.staff_url}/koe/library_card")
    assert refused.status == 403
    expect(page.get_by_role("heading", level=1)).to_have_text("Ei käyttöoikeutta")
    assert_accessible(page)
    assert_reflows(page)


def test_the_supervisors_confirmation_page_is_accessible_in_finnish_and_swedish_and_confirms_with_the_keyboard(world, page):
    from playwright.sync_api import expect

    from kuntaflow.settings import KuntaflowSettings
    from processes.employment_start.confirmation import ConfirmationPayload, EmploymentStartSettings, confirmation_token
    from schemas.employee import CONFIRMATION_PROCESS

    payload = ConfirmationPayload(
        employment_item_id=1, supervisor_id=100101, supervisor_name="Satu Lehtonen", supervisor_email="satu.lehtonen@kaupunki.example",
        employee_name="Aino Testinen", title="sairaanhoitaja", unit_name="Laakson sairaala", start_date="2027-01-04", escalate_after_working_days=2,
    )  # fmt: skip
    with KuntaflowSettings().work_queue() as queue:
        item = queue.add(CONFIRMATION_PROCESS, reference="browser-confirmation", payload=payload)
    link = f"{world.staff_url}/vahvistus/{confirmation_token(item.id, payload.supervisor_id, EmploymentStartSettings())}"

    page.goto(link)
    expect(page.get_by_text("aloittaa 4.1.2027")).to_be_visible()
    assert_accessible(page)
    assert_reflows(page)
    _tab_to(page, 'a[hreflang="sv"]')
    page.keyboard.press("Enter")
    expect(page.locator("html")).to_have_attribute("lang", "sv")
    expect(page.get_by_role("heading", level=1)).to_have_text("Bekräftelse av introduktionen för en ny anställd")
    assert_accessible(page)
    _tab_to(page, "input[name='plan_confirmed']")
    page.keyboard.press("Space")
    _tab_to(page, "button.primary")
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text("Tack!", timeout=60_000)  # recording looks for a waiting Prefect run first
    assert_accessible(page)
