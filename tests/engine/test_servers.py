"""ASGI apps served on a real local port from a background thread."""

import httpx
from fastapi import FastAPI

from connectors.servers import serve_in_thread


def test_an_app_is_served_on_a_free_port_and_stopped_afterwards():
    app = FastAPI()

    @app.get("/ping")
    def ping() -> dict:
        return {"pong": True}

    with serve_in_thread(app) as base_url:
        assert httpx.get(f"{base_url}/ping").json() == {"pong": True}
    try:
        httpx.get(f"{base_url}/ping", timeout=1)
        raise AssertionError("the server still answers after the block")
    except httpx.TransportError:
        pass
