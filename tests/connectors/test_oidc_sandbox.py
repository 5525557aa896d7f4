"""The OIDC sandbox behaves like a real provider: discovery, PKCE required, one-time codes, JWKS-verifiable
ID tokens with groups and nonce, client authentication, userinfo and RP-initiated logout."""

from __future__ import annotations

import base64
import hashlib
import secrets
from urllib.parse import parse_qs, urlsplit

import pytest
from fastapi.testclient import TestClient
from joserfc import jwt
from joserfc.jwk import KeySet
from pydantic import SecretStr

from apps.staff.settings import StaffSettings
from connectors.oidc.sandbox import create_app
from connectors.oidc.sandbox.provider import RegisteredClient
from connectors.oidc.sandbox.staff import STAFF

ISSUER = "http://testserver"
CALLBACK = "http://desk.test/kirjaudu/paluu"
SIGNED_OUT = "http://desk.test/kirjaudu/uloskirjautunut"
SECRET = "desk-client-secret-" + "x" * 20
DESK = RegisteredClient("desk", SecretStr(SECRET), (CALLBACK,), (SIGNED_OUT,))
OTHER = RegisteredClient("other", SecretStr("other-secret-" + "y" * 20), ("http://other.test/cb",), ())


@pytest.fixture(scope="module")
def client(tmp_path_factory) -> TestClient:
    with pytest.MonkeyPatch.context() as env:
        env.setenv("KUNTAFLOW_DATA_DIR", str(tmp_path_factory.mktemp("oidc")))
        app = create_app(issuer=ISSUER, clients=[DESK, OTHER])
    return TestClient(app)


def _pkce() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    return verifier, challenge


def _request(challenge: str, **extra: str) -> dict[str, str]:
    return {
        "client_id": "desk",
        "redirect_uri": CALLBACK,
        "response_type": "code",
        "scope": "openid profile email groups",
        "state": "st-1",
        "nonce": "n-1",
        "code_challenge": challenge,
        "code_challenge_method": "S256",
        **extra,
    }


def _code(client: TestClient, challenge: str, person: str = "kaisa", **extra: str) -> str:
    answer = client.post("/protocol/openid-connect/auth", data={**_request(challenge, **extra), "person": person, "action": "sign_in"}, follow_redirects=False)
    assert answer.status_code == 302, answer.text
    location = urlsplit(answer.headers["location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == CALLBACK
    query = parse_qs(location.query)
    assert query["state"] == ["st-1"]
    return query["code"][0]


def _exchange(client: TestClient, code: str, verifier: str, *, auth=("desk", SECRET), redirect_uri: str = CALLBACK):
    return client.post(
        "/protocol/openid-connect/token",
        data={"grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri, "code_verifier": verifier},
        auth=auth,
    )


def test_discovery_names_the_endpoints_under_the_issuer(client):
    document = client.get("/.well-known/openid-configuration").json()
    assert document["issuer"] == ISSUER
    for name in ("authorization_endpoint", "token_endpoint", "userinfo_endpoint", "jwks_uri", "end_session_endpoint"):
        assert document[name].startswith(f"{ISSUER}/protocol/openid-connect/")
    assert document["code_challenge_methods_supported"] == ["S256"]
    assert document["id_token_signing_alg_values_supported"] == ["RS256"]


def test_the_seeded_staff_have_the_groups_of_the_staff_apps_roles():
    role_groups = {group for groups in StaffSettings().role_groups.values() for group in groups}
    seeded = {group for person in STAFF.values() for group in person.groups}
    assert role_groups <= seeded
    assert {person.title["en"] for person in STAFF.values()} >= {"librarian", "HR officer", "recruiter", "Kuntaflow administrator"}


def test_a_signed_in_librarian_gets_an_id_token_verified_against_the_jwks(client):
    verifier, challenge = _pkce()
    picker = client.get("/protocol/openid-connect/auth", params=_request(challenge, ui_locales="sv"))
    assert picker.status_code == 200 and '<html lang="sv">' in picker.text and "Kaisa Lindholm, bibliotekarie" in picker.text
    tokens = _exchange(client, _code(client, challenge), verifier)
    assert tokens.status_code == 200, tokens.text
    assert tokens.headers["cache-control"] == "no-store"
    body = tokens.json()
    keys = KeySet.import_key_set(client.get("/protocol/openid-connect/certs").json())
    claims = jwt.decode(body["id_token"], keys).claims
    assert claims["iss"] == ISSUER and claims["aud"] == "desk" and claims["nonce"] == "n-1"
    assert claims["sub"] == STAFF["kaisa"].subject and claims["groups"] == ["kirjasto"] and claims["name"] == "Kaisa Lindholm"
    userinfo = client.get("/protocol/openid-connect/userinfo", headers={"Authorization": f"Bearer {body['access_token']}"})
    assert userinfo.json()["email"] == "kaisa.lindholm@kaupunki.example"


def test_a_wrong_code_verifier_is_refused(client):
    _, challenge = _pkce()
    other_verifier, _ = _pkce()
    refused = _exchange(client, _code(client, challenge), other_verifier)
    assert refused.status_code == 400 and refused.json()["error"] == "invalid_grant"
    assert "code_verifier" in refused.json()["error_description"]


def test_a_replayed_code_is_refused_and_revokes_its_access_token(client):
    verifier, challenge = _pkce()
    code = _code(client, challenge)
    first = _exchange(client, code, verifier).json()
    replay = _exchange(client, code, verifier)
    assert replay.status_code == 400 and replay.json() == {"error": "invalid_grant", "error_description": "the code was already used"}
    revoked = client.get("/protocol/openid-connect/userinfo", headers={"Authorization": f"Bearer {first['access_token']}"})
    assert revoked.status_code == 401 and 'error="invalid_token"' in revoked.headers["www-authenticate"]


def test_the_token_request_must_come_from_the_same_client_with_the_same_redirect_uri(client):
    verifier, challenge = _pkce()
    code = _code(client, challenge)
    assert _exchange(client, code, verifier, auth=("desk", "wrong-secret")).status_code == 401
    assert _exchange(client, code, verifier, auth=("other", OTHER.secret.get_secret_value())).json()["error"] == "invalid_grant"
    assert _exchange(client, code, verifier, redirect_uri="http://desk.test/elsewhere").json()["error"] == "invalid_grant"
    assert _exchange(client, code, verifier).status_code == 200  # the refusals above did not spend the code


@pytest.mark.parametrize(
    "change",
    [{"redirect_uri": "http://evil.example/kirjaudu/paluu"}, {"client_id": "nobody"}],
    ids=["unregistered-redirect-uri", "unknown-client"],
)
def test_a_wrong_client_or_redirect_uri_is_shown_to_the_person_never_redirected(client, change):
    _, challenge = _pkce()
    answer = client.get("/protocol/openid-connect/auth", params=_request(challenge, **change), follow_redirects=False)
    assert answer.status_code == 400 and "location" not in answer.headers
    posted = client.post("/protocol/openid-connect/auth", data={**_request(challenge, **change), "person": "kaisa"}, follow_redirects=False)
    assert posted.status_code == 400 and "location" not in posted.headers


def test_pkce_is_required_and_cancel_returns_access_denied(client):
    answer = client.get("/protocol/openid-connect/auth", params=_request("", code_challenge_method="plain"), follow_redirects=False)
    assert answer.status_code == 302
    assert parse_qs(urlsplit(answer.headers["location"]).query)["error"] == ["invalid_request"]
    _, challenge = _pkce()
    cancelled = client.post("/protocol/openid-connect/auth", data={**_request(challenge), "action": "cancel"}, follow_redirects=False)
    assert parse_qs(urlsplit(cancelled.headers["location"]).query)["error"] == ["access_denied"]
    unchosen = client.post("/protocol/openid-connect/auth", data={**_request(challenge), "action": "sign_in"})
    assert unchosen.status_code == 422 and 'role="alert"' in unchosen.text


def test_end_session_returns_to_the_registered_address_and_ends_the_tokens(client):
    verifier, challenge = _pkce()
    tokens = _exchange(client, _code(client, challenge, person="harri"), verifier).json()
    back = client.get(
        "/protocol/openid-connect/logout",
        params={"id_token_hint": tokens["id_token"], "post_logout_redirect_uri": SIGNED_OUT, "state": "bye"},
        follow_redirects=False,
    )
    assert back.status_code == 302 and back.headers["location"] == f"{SIGNED_OUT}?state=bye"
    assert client.get("/protocol/openid-connect/userinfo", headers={"Authorization": f"Bearer {tokens['access_token']}"}).status_code == 401
    elsewhere = client.get(
        "/protocol/openid-connect/logout",
        params={"id_token_hint": tokens["id_token"], "post_logout_redirect_uri": "http://evil.example/"},
        follow_redirects=False,
    )
    assert elsewhere.status_code == 200 and "location" not in elsewhere.headers
    forged = client.get("/protocol/openid-connect/logout", params={"id_token_hint": tokens["id_token"][:-4] + "AAAA"}, follow_redirects=False)
    assert forged.status_code == 400
