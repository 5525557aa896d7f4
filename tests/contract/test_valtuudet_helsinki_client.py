"""City of Helsinki's Suomi.fi Valtuudet library, installed (dev dependency) and run against our sandbox.

``django-helsinki-suomifi-on-behalf`` 2.x is a Django app for YPA (acting for a company). Its own code
runs here where it is independent of YPA: ``client.get_checksum_header`` signs our HPA requests, and
``EauthAuthenticationCallbackView.get_token_info`` exchanges a code over real HTTP. Its registration
(``EauthAuthenticationRequestView.register_user``) asks for a YPA session, which the sandbox does not
serve: that call gets a 404, asserted so that serving YPA one day shows up here.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import django
import httpx
import pytest
from django.conf import settings
from django.test import RequestFactory

from connectors.servers import serve_in_thread
from connectors.suomifi_tunnistus.sandbox.persons import PERSONS
from connectors.suomifi_valtuudet.sandbox import create_app
from connectors.suomifi_valtuudet.settings import SANDBOX_CLIENT_ID, SANDBOX_CLIENT_SECRET, SANDBOX_OAUTH_SECRET

HOST = "palvelu.example.fi"


@pytest.fixture(scope="module")
def valtuudet_url() -> Iterator[str]:
    with serve_in_thread(create_app()) as url:
        yield url


@pytest.fixture(scope="module")
def helsinki(valtuudet_url):
    """The library, configured as a city's Django project would (settings are per process, set once)."""
    values = {
        "SUOMIFI_ON_BEHALF_EAUTHORIZATIONS_BASE_URL": valtuudet_url,
        "SUOMIFI_ON_BEHALF_EAUTHORIZATIONS_CLIENT_ID": SANDBOX_CLIENT_ID,
        "SUOMIFI_ON_BEHALF_EAUTHORIZATIONS_CLIENT_SECRET": SANDBOX_CLIENT_SECRET,
        "SUOMIFI_ON_BEHALF_EAUTHORIZATIONS_API_OAUTH_SECRET": SANDBOX_OAUTH_SECRET,
    }
    if not settings.configured:
        settings.configure(
            SECRET_KEY="kuntaflow-test",
            USE_TZ=True,
            ALLOWED_HOSTS=[HOST],
            ROOT_URLCONF="suomifi_on_behalf.urls",
            INSTALLED_APPS=["django.contrib.contenttypes", "django.contrib.auth", "django.contrib.sessions"],
            **values,
        )
        django.setup()
    else:
        for name, value in values.items():
            setattr(settings, name, value)
    from suomifi_on_behalf import client, views  # importable only once Django is configured

    return client, views


def hetu(key: str) -> str:
    value = PERSONS[key].hetu
    assert value is not None
    return value


def test_helsinkis_checksum_header_signs_our_hpa_requests(helsinki, valtuudet_url):
    client, _ = helsinki
    path = f"/service/hpa/user/register/{SANDBOX_CLIENT_ID}/{hetu('sanna')}?requestId=helsinki-1"
    answer = httpx.get(valtuudet_url + path, headers={"X-AsiointivaltuudetAuthorization": client.get_checksum_header(path)})
    assert answer.status_code == 200 and set(answer.json()) == {"sessionId", "userId"}, answer.text


def test_helsinkis_token_exchange_redeems_a_code_once(helsinki, valtuudet_url):
    client, views = helsinki
    path = f"/service/hpa/user/register/{SANDBOX_CLIENT_ID}/{hetu('mikko')}?requestId=helsinki-2"
    registered = httpx.get(valtuudet_url + path, headers={"X-AsiointivaltuudetAuthorization": client.get_checksum_header(path)}).json()
    callback = f"https://{HOST}/eauthorizations/callback/"  # what the view builds: build_absolute_uri, then https
    with httpx.Client(base_url=valtuudet_url) as browser:
        page = browser.get(
            "/oauth/authorize", params={"client_id": SANDBOX_CLIENT_ID, "response_type": "code", "redirect_uri": callback, "user": registered["userId"]}
        )
        fields = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', page.text))
        back = browser.post("/oauth/authorize", data={**fields, "principal": "eetu", "action": "select"})
    code = re.search(r"[?&]code=([^&]+)", back.headers["location"]).group(1)

    view = views.EauthAuthenticationCallbackView()
    view.request = RequestFactory().get("/eauthorizations/callback/", {"code": code}, HTTP_HOST=HOST)
    token = view.get_token_info(code)
    assert token["access_token"] and token["token_type"] == "bearer"
    with pytest.raises(views.HTTPError):  # the same code again: 400 invalid_grant
        view.get_token_info(code)


def test_helsinkis_ypa_registration_is_not_served(helsinki):
    _, views = helsinki
    with pytest.raises(views.HTTPError) as refused:
        views.EauthAuthenticationRequestView().register_user(hetu("aino"))
    assert refused.value.response.status_code == 404
