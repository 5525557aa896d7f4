"""A client that hangs up mid-request (a robot killed while sending) is dropped quietly by the sandboxes' server."""

from __future__ import annotations

import anyio
import pytest
from fastapi import FastAPI, Request

from connectors.sandbox_server import DropHungUpRequests, create_app


async def _client_gone() -> dict:
    return {"type": "http.disconnect"}


def _post() -> dict:
    return {"type": "http", "method": "POST", "path": "/v2/messages/electronic", "root_path": "", "headers": [], "query_string": b""}


async def _no_answer(message: dict) -> None:
    raise AssertionError(f"nothing is sent to a client that hung up: {message['type']}")


def _sandbox_like() -> FastAPI:
    """A route that reads the body behind an ``@app.middleware("http")``, as the Messages sandbox has."""
    app = FastAPI()

    @app.middleware("http")
    async def trace_id(request: Request, call_next):
        response = await call_next(request)
        response.headers["traceId"] = "x"
        return response

    @app.post("/v2/messages/electronic")
    async def electronic(request: Request) -> dict:
        await request.body()
        return {}

    return app


def test_without_the_guard_a_hung_up_request_raises_out_of_the_sandbox():
    """What uvicorn would log as a traceback: the case is real."""

    async def send(message: dict) -> None:
        pass

    with pytest.raises(Exception) as raised:
        anyio.run(_sandbox_like(), _post(), _client_gone, send)
    assert "No response returned" in str(raised.value) or type(raised.value).__name__ == "ClientDisconnect"


def test_the_guard_ends_a_hung_up_request_without_an_answer_or_an_error():
    anyio.run(DropHungUpRequests(_sandbox_like()), _post(), _client_gone, _no_answer)


def test_the_guard_lets_a_real_error_through_while_the_client_is_still_there():
    async def broken(scope, receive, send) -> None:
        raise ValueError("a sandbox bug")

    async def body() -> dict:
        return {"type": "http.request", "body": b"{}", "more_body": False}

    with pytest.raises(ValueError, match="a sandbox bug"):
        anyio.run(DropHungUpRequests(broken), _post(), body, _no_answer)


def test_the_sandboxes_server_has_the_guard_outermost():
    assert create_app(only=["valvira"]).user_middleware[0].cls is DropHungUpRequests
