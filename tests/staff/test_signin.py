"""Sign-in's refusals, through the real client (Authlib) against the OIDC sandbox on a local port.

The staff app runs in-process (TestClient at http://testserver); the provider is served for real,
because Authlib fetches discovery, JWKS and tokens over HTTP. Every way a callback can be wrong ends
on a page saying so, with nobody signed in.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack
from typing import Annotated
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import pytest
from fastapi import APIRouter, Depends, Request
from fastapi.testclient import TestClient
from pydantic import SecretStr

from apps.staff import create_app
from apps.staff.access import require_member
from apps.staff.identity import Role, StaffMember
from apps.staff.settings import StaffSettings
from connectors.oidc import OidcSettings
from connectors.oidc.sandbox import create_app as create_provider
from connectors.oidc.sandbox.provider import RegisteredClient
from connectors.servers import free_port, serve_in_thread

SECRET = "signin-test-client-secret-0123456789"
STAFF_URL = "http://testserver"

probe = APIRouter()


@probe.get("/koe")
def who(member: Annotated[StaffMember, Depends(require_member)]) -> dict:
    return {"subject": member.subject, "roles": sorted(member.roles)}


@probe.get("/")
def start(request: Request) -> dict:
    return {"start": True}


@pytest.fixture(scope="module")
def provider_url(tmp_path_factory) -> Iterator[str]:
    with pytest.MonkeyPatch.context() as env, ExitStack() as stack:
        env.setenv("KUNTAFLOW_DATA_DIR", str(tmp_path_factory.mktemp("signin")))
        url = f"http://127.0.0.1:{free_port()}"
        oidc = OidcSettings(issuer=url)
        registered = RegisteredClient("desk", SecretStr(SECRET), (oidc.callback_url(STAFF_URL),), (oidc.signed_out_url(STAFF_URL),))
        stack.enter_context(serve_in_thread(create_provider(issuer=url, clients=[registered]), port=int(url.rsplit(":", 1)[1])))
        yield url


def _staff(issuer: str) -> TestClient:
    oidc = OidcSettings(issuer=issuer, client_id="desk", client_secret=SecretStr(SECRET))
    return TestClient(create_app(staff_settings=StaffSettings(public_url=STAFF_URL), oidc_settings=oidc, routers=[probe]))


def _authorize(staff: TestClient, target: str = "/koe") -> dict[str, str]:
    """Start sign-in; the authorization request's parameters as the browser would carry them."""
    answer = staff.get(f"/kirjaudu?{urlencode({'seuraava': target})}", follow_redirects=False)
    assert answer.status_code == 302, answer.text
    return {name: values[0] for name, values in parse_qs(urlsplit(answer.headers["location"]).query).items()}


def _pick(provider_url: str, params: dict[str, str], person: str) -> str:
    """The picker's answer: the callback path with code and state."""
    answer = httpx.post(f"{provider_url}/protocol/openid-connect/auth", data={**params, "person": person, "action": "sign_in"})
    assert answer.status_code == 302, answer.text
    location = urlsplit(answer.headers["location"])
    return f"{location.path}?{location.query}"


def test_the_callback_signs_in_with_the_roles_of_the_groups_and_goes_where_the_person_was_going(provider_url):
    staff = _staff(provider_url)
    assert staff.get("/koe", follow_redirects=False).headers["location"] == "/kirjaudu?seuraava=/koe"
    callback = _pick(provider_url, _authorize(staff), "harri")
    landed = staff.get(callback, follow_redirects=False)
    assert landed.status_code == 303 and landed.headers["location"] == "/koe"
    assert staff.get("/koe").json() == {"subject": "7c1e0f52-3b7a-4c55-9a1d-2f6e8b1c0a02", "roles": [Role.HR.value]}
    again = staff.get(callback)  # the same answer a second time: its state is spent
    assert again.status_code == 400 and "Kirjautuminen ei onnistunut" in again.text


def test_an_id_token_for_another_sign_in_nonce_is_refused(provider_url):
    staff = _staff(provider_url)
    params = _authorize(staff)
    callback = _pick(provider_url, {**params, "nonce": "someone-elses-nonce"}, "kaisa")
    refused = staff.get(callback)
    assert refused.status_code == 400 and "Kirjautuminen ei onnistunut" in refused.text
    assert staff.get("/koe", follow_redirects=False).status_code == 303  # still not signed in


def test_a_callback_this_browser_did_not_start_is_refused(provider_url):
    started, other = _staff(provider_url), _staff(provider_url)
    callback = _pick(provider_url, _authorize(started), "kaisa")
    assert other.get(callback).status_code == 400
    assert other.get("/koe", follow_redirects=False).status_code == 303


def test_a_cancelled_sign_in_says_so(provider_url):
    staff = _staff(provider_url)
    params = _authorize(staff)
    answer = httpx.post(f"{provider_url}/protocol/openid-connect/auth", data={**params, "action": "cancel"})
    location = urlsplit(answer.headers["location"])
    refused = staff.get(f"{location.path}?{location.query}")
    assert refused.status_code == 400 and "Tunnistuspalvelu ei kirjannut sinua sisään" in refused.text


def test_sign_in_never_returns_off_site(provider_url):
    staff = _staff(provider_url)
    callback = _pick(provider_url, _authorize(staff, target="https://evil.example/"), "kaisa")
    assert staff.get(callback, follow_redirects=False).headers["location"] == "/"


def test_an_unreachable_provider_gives_a_page_not_a_crash():
    staff = _staff(f"http://127.0.0.1:{free_port()}")
    answer = staff.get("/kirjaudu")
    assert answer.status_code == 503 and "Kirjautuminen ei juuri nyt onnistu" in answer.text


def test_sign_out_needs_the_forms_token_and_sends_the_browser_to_end_session(provider_url):
    staff = _staff(provider_url)
    staff.get(_pick(provider_url, _authorize(staff), "kaisa"), follow_redirects=False)
    assert staff.post("/kirjaudu-ulos", data={"csrf_token": "forged"}).status_code == 403
    assert staff.get("/koe").status_code == 200  # a forged sign-out changed nothing
    page = staff.get("/vahvistus/x")  # any page renders the sign-out form with this session's token
    token = page.text.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
    out = staff.post("/kirjaudu-ulos", data={"csrf_token": token}, follow_redirects=False)
    assert out.status_code == 302 and out.headers["location"].startswith(f"{provider_url}/protocol/openid-connect/logout?")
    query = parse_qs(urlsplit(out.headers["location"]).query)
    assert query["post_logout_redirect_uri"] == [f"{STAFF_URL}/kirjaudu/uloskirjautunut"] and query["id_token_hint"]
    assert staff.get("/koe", follow_redirects=False).status_code == 303
