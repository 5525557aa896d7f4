"""A client that hangs up mid-request (a robot killed while sending) is dropped quietly by a sandbox."""

from __future__ import annotations

import anyio
from starlette.requests import ClientDisconnect, Request

from connectors.sandbox_support import FaultInjector, FaultMiddleware, FaultSpec


async def _reads_the_body(scope, receive, send) -> None:
    await Request(scope, receive).body()


async def _client_gone() -> dict:
    return {"type": "http.disconnect"}


def _http_scope() -> dict:
    return {"type": "http", "method": "POST", "path": "/v2/messages/electronic", "root_path": "", "headers": [], "query_string": b""}


def test_a_request_whose_client_hung_up_ends_without_an_answer_or_a_traceback():
    sent: list[dict] = []

    async def send(message: dict) -> None:
        sent.append(message)

    middleware = FaultMiddleware(_reads_the_body, FaultInjector(FaultSpec()))
    anyio.run(middleware, _http_scope(), _client_gone, send)
    assert sent == []


def test_without_the_middleware_the_same_request_raises_client_disconnect():
    """The case above is real: reading the body of a hung-up request raises."""

    async def send(message: dict) -> None:
        raise AssertionError("nothing is sent")

    try:
        anyio.run(_reads_the_body, _http_scope(), _client_gone, send)
    except ClientDisconnect:
        return
    raise AssertionError("ClientDisconnect was expected")
