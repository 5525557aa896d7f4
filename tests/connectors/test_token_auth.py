"""The shared bearer-token auth: one token for many threads, one refresh on 401, clear errors."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from pydantic import SecretStr

from connectors.errors import IntegrationError, TransientError
from connectors.token_auth import BearerTokenAuth, ClientCredentialsAuth


class TokenServer:
    """A token endpoint and an API that accepts only the newest token; counts what it is asked."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.issued = 0
        self.forms: list[bytes] = []
        self.entered = threading.Event()
        self.release = threading.Event()

    def __call__(self, request: httpx.Request) -> httpx.Response:
        if request.url.path == "/oauth/token":
            self.entered.set()
            self.release.wait(5)  # other threads pile up behind the lock meanwhile
            with self.lock:
                self.issued += 1
                self.forms.append(request.content)
                return httpx.Response(200, json={"access_token": f"t{self.issued}", "token_type": "bearer", "expires_in": 3600})
        with self.lock:
            current = f"Bearer t{self.issued}"
        return httpx.Response(200 if request.headers.get("authorization") == current else 401)

    def revoke(self) -> None:
        with self.lock:
            self.issued += 1  # every token handed out so far is now stale


def client_for(server: TokenServer) -> tuple[httpx.Client, ClientCredentialsAuth]:
    auth = ClientCredentialsAuth("http://api.test/oauth/token", "robot", SecretStr("s3cret"), system="demo")
    return httpx.Client(base_url="http://api.test", transport=httpx.MockTransport(server), auth=auth), auth


def test_threads_sharing_a_client_fetch_one_token_and_refresh_it_once():
    server = TokenServer()
    client, auth = client_for(server)
    with client, ThreadPoolExecutor(max_workers=6) as pool:
        server.release.set()
        assert all(status == 200 for status in pool.map(lambda _: client.get("/things").status_code, range(12)))
        assert auth.tokens_fetched == 1 and server.issued == 1
        assert server.forms[0] == b"grant_type=client_credentials&client_id=robot&client_secret=s3cret"
        server.revoke()
        server.release.clear()
        server.entered.clear()
        results = [pool.submit(lambda: client.get("/things").status_code) for _ in range(6)]
        assert server.entered.wait(5)
        server.release.set()
        assert [result.result() for result in results] == [200] * 6
    assert auth.tokens_fetched == 2  # one refresh for all six 401s


def test_a_second_401_is_final_and_token_errors_are_classified():
    always_401 = httpx.MockTransport(
        lambda request: (
            httpx.Response(200, json={"access_token": "t", "token_type": "Bearer", "expires_in": 60}) if request.url.path == "/token" else httpx.Response(401)
        )
    )
    auth = BearerTokenAuth("http://api.test/token", system="demo", json={"username": "u", "password": SecretStr("p")})
    with httpx.Client(transport=always_401, auth=auth) as client:
        assert client.get("http://api.test/x").status_code == 401 and auth.tokens_fetched == 2

    def answering(status: int, body: dict | None = None) -> httpx.Client:
        transport = httpx.MockTransport(lambda request: httpx.Response(status, json=body or {}))
        return httpx.Client(transport=transport, auth=ClientCredentialsAuth("http://api.test/t", "id", SecretStr("secret-value"), system="demo"))

    with pytest.raises(TransientError, match="demo: token endpoint answered 503") as outage:
        answering(503).get("http://api.test/x")
    assert outage.value.code == "UNAVAILABLE"
    with pytest.raises(IntegrationError, match=r"demo: client credentials refused \(400\)") as refused:
        answering(400, {"error": "invalid_client"}).get("http://api.test/x")
    assert "secret-value" not in str(refused.value)
    with pytest.raises(IntegrationError, match="is not Bearer"):
        answering(200, {"access_token": "t", "token_type": "mac", "expires_in": 60}).get("http://api.test/x")
    with pytest.raises(ValueError, match="form or a JSON body"):
        BearerTokenAuth("http://api.test/t", system="demo")
