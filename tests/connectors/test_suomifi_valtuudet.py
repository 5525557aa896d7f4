"""The Valtuudet connector against its sandbox: the HPA flow, and each refusal the sandbox must make."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import httpx
import pytest
import stamina
from pydantic import SecretStr

from connectors.sandbox_support import SyncASGITransport
from connectors.suomifi_tunnistus.sandbox.persons import PERSONS
from connectors.suomifi_valtuudet import HEADER, Principal, ValtuudetClient, ValtuudetRefusedError, ValtuudetSettings
from connectors.suomifi_valtuudet.checksum import ChecksumError, checksum, header_value, verify
from connectors.suomifi_valtuudet.sandbox import create_app
from connectors.suomifi_valtuudet.settings import SANDBOX_CLIENT_ID, SANDBOX_CLIENT_SECRET, SANDBOX_REST_API_KEY
from schemas.hetu import Hetu

BASE = "http://valtuudet.test"
CALLBACK = "https://asiointi.example.fi/apply/for/valtuudet"


def hetu(key: str) -> str:
    value = PERSONS[key].hetu
    assert value is not None
    return value


@pytest.fixture(autouse=True)
def _no_backoff():
    with stamina.set_testing(True, attempts=1):
        yield


@pytest.fixture(scope="module")
def app():
    return create_app()


@pytest.fixture
def client(app):
    with ValtuudetClient(ValtuudetSettings(base_url=BASE), transport=SyncASGITransport(app)) as valtuudet:
        yield valtuudet


def pick(app, url: str, child: str | None) -> str:
    """The guardian's browser on the authorize page: the code from the redirect back."""
    with httpx.Client(transport=SyncASGITransport(app), base_url=BASE) as browser:
        page = browser.get(url)
        assert page.status_code == 200, page.text
        fields = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', page.text))
        back = browser.post("/oauth/authorize", data={**fields, "action": "select"} | ({"principal": child} if child else {}))
    assert back.status_code == 303, back.text
    assert back.headers["location"].startswith(CALLBACK + "?")
    return re.search(r"[?&]code=([^&]+)", back.headers["location"]).group(1)


def test_a_guardian_is_allowed_for_the_child_chosen_and_an_adult_is_not_for_someone_elses(app, client):
    registration = client.register(Hetu(hetu("sanna")))
    url = client.authorize_url(registration, redirect_uri=CALLBACK, state="s1", language="sv")
    code = pick(app, url, "onni")
    token = client.exchange_code(code, redirect_uri=CALLBACK)
    [chosen] = client.principals(registration, token)
    assert (chosen.person_id, chosen.name) == (hetu("onni"), "Laine Onni Eemeli")
    assert client.authorization(registration, token, chosen).allowed
    # Sanna is an adult, but not Eetu's guardian (Mikko is): DISALLOWED, with the reason.
    refused = client.authorization(registration, token, Principal(personId=hetu("eetu")))
    assert refused.result == "DISALLOWED" and refused.reasons[0].reason_value == "false"
    assert not client.authorization(registration, token, Principal(personId=hetu("mikko"))).allowed
    client.unregister(registration)
    with pytest.raises(ValtuudetRefusedError):  # the session's token went with it
        client.principals(registration, token)


def test_the_page_offers_only_the_delegates_children_in_three_languages(app, client):
    registration = client.register(Hetu(hetu("mikko")))
    with httpx.Client(transport=SyncASGITransport(app), base_url=BASE) as browser:
        pages = {lang: browser.get(client.authorize_url(registration, redirect_uri=CALLBACK, state="x", language=lang)) for lang in ("fi", "sv", "en")}
        assert 'lang="sv"' in pages["sv"].text and "Välj för vem du uträttar ärenden" in pages["sv"].text
        assert "Choose on whose behalf you act" in pages["en"].text and "Valitse, kenen puolesta asioit" in pages["fi"].text
        assert "Eetu Matias Korhonen" in pages["fi"].text and "Onni" not in pages["fi"].text
        assert hetu("eetu") not in pages["fi"].text and hetu("mikko") not in pages["fi"].text
        fields = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', pages["fi"].text))
        forged = browser.post("/oauth/authorize", data={**fields, "principal": "onni"})  # not his child
        assert forged.status_code == 400 and "Valitse henkilö ennen jatkamista." in forged.text
        cancelled = browser.post("/oauth/authorize", data={**fields, "action": "cancel"})
        assert cancelled.status_code == 303 and cancelled.headers["location"] == f"{CALLBACK}?error=access_denied&state=x"
        stranger = browser.get(client.authorize_url(registration, redirect_uri=CALLBACK, state="x").replace(registration.user_id, "nobody"))
        assert stranger.status_code == 400


def test_a_replayed_code_a_wrong_oauth_secret_and_another_redirect_uri_are_refused(app, client):
    registration = client.register(Hetu(hetu("mikko")))
    code = pick(app, client.authorize_url(registration, redirect_uri=CALLBACK, state="s"), "eetu")
    wrong_secret = ValtuudetClient(ValtuudetSettings(base_url=BASE, oauth_secret=SecretStr("not-it")), transport=SyncASGITransport(app))
    with pytest.raises(ValtuudetRefusedError) as refused:
        wrong_secret.exchange_code(code, redirect_uri=CALLBACK)
    assert refused.value.status_code == 401
    client.exchange_code(code, redirect_uri=CALLBACK)
    with pytest.raises(ValtuudetRefusedError) as replayed:
        client.exchange_code(code, redirect_uri=CALLBACK)
    assert replayed.value.status_code == 400 and "invalid_grant" in (replayed.value.body or "")
    other = pick(app, client.authorize_url(registration, redirect_uri=CALLBACK, state="s"), "eetu")
    with pytest.raises(ValtuudetRefusedError):
        client.exchange_code(other, redirect_uri="https://elsewhere.example/cb")


def test_a_wrong_checksum_and_a_stale_timestamp_are_refused_without_echoing_the_hetu(app):
    path = f"/service/hpa/user/register/{SANDBOX_CLIENT_ID}/{hetu('sanna')}?requestId=r1"
    with httpx.Client(transport=SyncASGITransport(app), base_url=BASE) as raw:
        good = raw.get(path, headers={HEADER: header_value(SANDBOX_CLIENT_ID, SANDBOX_CLIENT_SECRET, path)})
        assert good.status_code == 200 and set(good.json()) == {"sessionId", "userId"}
        other_path = raw.get(path, headers={HEADER: header_value(SANDBOX_CLIENT_ID, SANDBOX_CLIENT_SECRET, path + "&x=1")})
        wrong_key = raw.get(path, headers={HEADER: header_value(SANDBOX_CLIENT_ID, "not-the-key", path)})
        stale = raw.get(path, headers={HEADER: header_value(SANDBOX_CLIENT_ID, SANDBOX_CLIENT_SECRET, path, now=datetime.now(UTC) - timedelta(minutes=6))})
        future = raw.get(path, headers={HEADER: header_value(SANDBOX_CLIENT_ID, SANDBOX_CLIENT_SECRET, path, now=datetime.now(UTC) + timedelta(minutes=6))})
        missing = raw.get(path)
        rest_key_on_web_api = raw.get(path, headers={HEADER: header_value(SANDBOX_CLIENT_ID, SANDBOX_REST_API_KEY, path)})
    for refused, code in (
        (other_path, "wrong_checksum"),
        (wrong_key, "wrong_checksum"),
        (stale, "stale_timestamp"),
        (future, "stale_timestamp"),
        (missing, "missing"),
    ):
        assert refused.status_code == 401 and refused.json()["error"] == code, refused.text
        assert hetu("sanna") not in refused.text
    assert rest_key_on_web_api.status_code == 401


def test_the_checker_reads_the_timestamp_forms_published_clients_send():
    path = "/service/hpa/api/delegate/abc?requestId=1"
    keys = {"c": "k"}
    now = datetime(2026, 12, 4, 21, 30, tzinfo=UTC)
    for timestamp in ("2026-12-04T23:30:00+02:00", "2026-12-04T21:30:00.12Z", "2026-12-04T21:30:00.123456+00:00"):
        assert verify(f"c {timestamp} {checksum('k', path, timestamp)}", path, keys, now=now, max_skew=timedelta(minutes=5)) == "c"
    with pytest.raises(ChecksumError) as naive:
        verify(f"c 2026-12-04T21:30:00 {checksum('k', path, '2026-12-04T21:30:00')}", path, keys, now=now, max_skew=timedelta(minutes=5))
    assert naive.value.code == "MALFORMED"


def test_the_rest_api_without_ui_answers_the_same_rule(app):
    def ask(delegate: str, principal: str, user: str | None = "kuntaflow") -> httpx.Response:
        path = f"/service/rest/hpa/authorization/{SANDBOX_CLIENT_ID}/{hetu(delegate)}/{hetu(principal)}?requestId=r2"
        headers = {HEADER: header_value(SANDBOX_CLIENT_ID, SANDBOX_REST_API_KEY, path)} | ({"X-userId": user} if user else {})
        with httpx.Client(transport=SyncASGITransport(app), base_url=BASE) as raw:
            return raw.get(path, headers=headers)

    assert ask("mikko", "eetu").json()["result"] == "ALLOWED"
    assert ask("aino", "eetu").json()["result"] == "DISALLOWED"
    assert ask("mikko", "eetu", user=None).status_code == 400
