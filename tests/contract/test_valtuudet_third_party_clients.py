"""Suomi.fi Valtuudet clients nobody here wrote, replayed against our sandbox request by request.

DVV's is a Node.js app and Innofactor's a .NET library, so each runs here as a recorded sequence of its
requests: the exact paths and query strings, headers, timestamp format and HMAC computation, taken from
its source. Helsinki's is also installed and its own code run (test_valtuudet_helsinki_client.py); its
HPA-shaped requests are recorded here too:

- DVV ``vrk-kpa/roles-auths-web-api-node-client`` @ 4262a9ccb390f085e6c376a14a7760d4096f1332,
  ``WebApiClient.js`` (register, redirectToWebApiSelection, changeCodeToToken, getDelegate,
  getAuthorization, getRestAuthorization) and ``lib/HeaderUtils.js`` (moment().format() timestamp);
- ``Innofactor/SuomiFiAuthorizationClient`` @ 244ac1e2e0e7ff8007213893a5d53c59dd40b07b,
  ``SuomiFiWebApiClient.cs`` (ChangeCodeToToken, GetDelegate, GetAuthorization, UnregisterSession) and
  ``AuthorizationHeaderFactory.cs`` (UTC ``yyyy-MM-ddTHH:mm:ss.ffZ``); its register call is not in that
  commit, so its session is registered the DVV way;
- ``City-of-Helsinki/django-helsinki-suomifi-on-behalf`` @ 1e085883d24194cf9c9fc997545d366ae4150ad4,
  ``suomifi_on_behalf/client.py`` (get_checksum_header: ``timezone.now().isoformat()``) and ``views.py``
  (urlencoded authorize and token URLs, HTTPBasicAuth). It registers YPA sessions, which this sandbox does
  not serve (404); its header and OAuth requests are replayed on the HPA flow.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import uuid
from datetime import UTC, datetime
from urllib.parse import quote, urlencode
from zoneinfo import ZoneInfo

import httpx
import pytest

from connectors.sandbox_support import SyncASGITransport
from connectors.suomifi_tunnistus.sandbox.persons import PERSONS
from connectors.suomifi_valtuudet.sandbox import create_app
from connectors.suomifi_valtuudet.settings import SANDBOX_CLIENT_ID, SANDBOX_CLIENT_SECRET, SANDBOX_OAUTH_SECRET, SANDBOX_REST_API_KEY

BASE = "http://valtuudet.test"
CLIENT_BASE = "https://localhost:8904"


def hetu(key: str) -> str:
    value = PERSONS[key].hetu
    assert value is not None
    return value


def hmac_b64(key: str, message: str) -> str:
    return base64.b64encode(hmac.new(key.encode(), message.encode(), hashlib.sha256).digest()).decode()


def node_header(key: str, path: str) -> str:
    """HeaderUtils.xAuthorizationHeader: moment().format() is local time with its offset, no fraction."""
    timestamp = datetime.now(ZoneInfo("Europe/Helsinki")).isoformat(timespec="seconds")
    return f"{SANDBOX_CLIENT_ID} {timestamp} {hmac_b64(key, path + ' ' + timestamp)}"


def innofactor_header(key: str, path: str) -> str:
    """AuthorizationHeaderFactory.Create: DateTime.UtcNow as yyyy-MM-ddTHH:mm:ss.ff and a literal Z."""
    now = datetime.now(UTC)
    timestamp = now.strftime("%Y-%m-%dT%H:%M:%S.") + f"{now.microsecond // 10000:02d}Z"
    return f"{SANDBOX_CLIENT_ID} {timestamp} {hmac_b64(key, path + ' ' + timestamp)}"


def helsinki_header(key: str, path: str) -> str:
    """get_checksum_header: django.utils.timezone.now().isoformat() (UTC, microseconds)."""
    timestamp = datetime.now(UTC).isoformat()
    return f"{SANDBOX_CLIENT_ID} {timestamp} {hmac_b64(key, f'{path} {timestamp}')}"


def basic() -> str:
    return "Basic " + base64.b64encode(f"{SANDBOX_CLIENT_ID}:{SANDBOX_OAUTH_SECRET}".encode()).decode()


@pytest.fixture(scope="module")
def http():
    with httpx.Client(transport=SyncASGITransport(create_app()), base_url=BASE) as client:
        yield client


def choose(http: httpx.Client, authorize_url: str, child: str) -> str:
    """The delegate in the browser: the page, the child, the code in the redirect back."""
    page = http.get(authorize_url)
    assert page.status_code == 200, page.text
    fields = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', page.text))
    back = http.post("/oauth/authorize", data={**fields, "principal": child, "action": "select"})
    assert back.status_code == 303, back.text
    return re.search(r"[?&]code=([^&]+)", back.headers["location"]).group(1)


def node_register(http: httpx.Client, delegate: str, request_id: str) -> dict[str, str]:
    path = f"/service/hpa/user/register/{SANDBOX_CLIENT_ID}/{hetu(delegate)}?requestId={request_id}&endUserId=nodeEndUser"
    answer = http.get(path, headers={"X-AsiointivaltuudetAuthorization": node_header(SANDBOX_CLIENT_SECRET, path)})
    assert answer.status_code == 200, answer.text
    return answer.json()


def test_dvv_node_client_hpa_flow_with_an_issue_and_the_rest_check(http):
    request_id = str(uuid.uuid4())
    registered = node_register(http, "mikko", request_id)
    callback = CLIENT_BASE + "/callback/hpa"  # encodeURI leaves it as it is
    authorize = f"/oauth/authorize?client_id={SANDBOX_CLIENT_ID}&response_type=code&redirect_uri={callback}&user={registered['userId']}"
    code = choose(http, authorize, "eetu")  # no state, no lang: the page is in Finnish
    token = http.post(f"/oauth/token?code={code}&grant_type=authorization_code&redirect_uri={callback}", headers={"Authorization": basic()})
    assert token.status_code == 200 and token.json()["token_type"] == "bearer", token.text
    bearer = "Bearer " + token.json()["access_token"]
    session = registered["sessionId"]
    delegate_path = f"/service/hpa/api/delegate/{session}?requestId={request_id}&endUserId=nodeEndUser"
    principals = http.get(
        delegate_path, headers={"Authorization": bearer, "X-AsiointivaltuudetAuthorization": node_header(SANDBOX_CLIENT_SECRET, delegate_path)}
    )
    assert principals.status_code == 200 and [p["personId"] for p in principals.json()] == [hetu("eetu")]
    issue = quote("http://valtuusrekisteri.suomi.fi/terveydenhuollon_asioiden_hoito", safe="")  # encodeURIComponent
    for suffix in ("", f"&issues={issue}"):
        path = f"/service/hpa/api/authorization/{session}/{hetu('eetu')}?requestId={request_id}&endUserId=nodeEndUser{suffix}"
        answer = http.get(path, headers={"Authorization": bearer, "X-AsiointivaltuudetAuthorization": node_header(SANDBOX_CLIENT_SECRET, path)})
        assert answer.status_code == 200 and answer.json()["result"] == "ALLOWED", answer.text
    # getRestAuthorization: the REST API key signs, X-userId 'rova-demo-user'; a minor without an issue, an adult with one.
    for delegate, principal, extra, result in (("mikko", "eetu", "", "ALLOWED"), ("aino", "matti", f"&issue={issue}", "DISALLOWED")):
        path = f"/service/rest/hpa/authorization/{SANDBOX_CLIENT_ID}/{hetu(delegate)}/{hetu(principal)}?requestId={uuid.uuid4()}{extra}"
        answer = http.get(path, headers={"X-AsiointivaltuudetAuthorization": node_header(SANDBOX_REST_API_KEY, path), "X-userId": "rova-demo-user"})
        assert answer.status_code == 200 and answer.json()["result"] == result, answer.text


def test_innofactor_client_delegate_authorization_and_unregister(http):
    registered = node_register(http, "sanna", str(uuid.uuid4()))
    callback = "https://asiointi.example.fi/suomifi/callback"
    code = choose(
        http,
        f"/oauth/authorize?{urlencode({'client_id': SANDBOX_CLIENT_ID, 'response_type': 'code', 'redirect_uri': callback, 'user': registered['userId']})}",
        "onni",
    )
    token = http.post(f"/oauth/token?code={code}&grant_type=authorization_code&redirect_uri={callback}", headers={"Authorization": basic()})
    bearer = "Bearer " + token.json()["access_token"]
    session = registered["sessionId"]
    delegate_path = f"/service/hpa/api/delegate/{session}?requestId=suomiFiApiClient&endUserId=suomiFiUser"
    [principal] = http.get(
        delegate_path, headers={"Authorization": bearer, "X-AsiointivaltuudetAuthorization": innofactor_header(SANDBOX_CLIENT_SECRET, delegate_path)}
    ).json()
    assert set(principal) >= {"name", "personId"}
    path = f"/service/hpa/api/authorization/{session}/{principal['personId']}?requestId=suomiFiApiClient&endUserId=suomiFiUser"
    answer = http.get(path, headers={"Authorization": bearer, "X-AsiointivaltuudetAuthorization": innofactor_header(SANDBOX_CLIENT_SECRET, path)})
    assert answer.json()["result"] == "ALLOWED"
    unregister = f"/service/hpa/user/unregister/{session}"
    assert http.get(unregister, headers={"X-AsiointivaltuudetAuthorization": innofactor_header(SANDBOX_CLIENT_SECRET, unregister)}).status_code == 200
    gone = http.get(
        delegate_path, headers={"Authorization": bearer, "X-AsiointivaltuudetAuthorization": innofactor_header(SANDBOX_CLIENT_SECRET, delegate_path)}
    )
    assert gone.status_code == 401


def test_helsinki_client_header_and_oauth_requests(http):
    # YPA, what the library registers, is not served by this sandbox: a plain 404, not a refusal of its header.
    ypa = f"/service/ypa/user/register/{SANDBOX_CLIENT_ID}/{hetu('aino')}?requestId={uuid.uuid4()}"
    assert http.get(ypa, headers={"X-AsiointivaltuudetAuthorization": helsinki_header(SANDBOX_CLIENT_SECRET, ypa)}).status_code == 404
    path = f"/service/hpa/user/register/{SANDBOX_CLIENT_ID}/{hetu('mikko')}?requestId={uuid.uuid4()}"
    registered = http.get(path, headers={"X-AsiointivaltuudetAuthorization": helsinki_header(SANDBOX_CLIENT_SECRET, path)})
    assert registered.status_code == 200, registered.text
    callback = "https://palvelu.hel.fi/eauthorizations/callback/"
    params = {"client_id": SANDBOX_CLIENT_ID, "response_type": "code", "redirect_uri": callback, "user": registered.json()["userId"], "lang": "sv"}
    code = choose(http, f"/oauth/authorize?{urlencode(params)}", "eetu")
    token = http.post(
        f"/oauth/token?{urlencode({'code': code, 'grant_type': 'authorization_code', 'redirect_uri': callback})}",
        auth=(SANDBOX_CLIENT_ID, SANDBOX_OAUTH_SECRET),
    )
    assert token.status_code == 200 and token.json()["access_token"], token.text
