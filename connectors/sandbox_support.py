"""What every sandbox shares: fault injection, and a sync in-process transport for tests.

**Faults.** :func:`install_faults` puts :class:`FaultMiddleware` in front of a FastAPI/Starlette
app. Each request may be delayed (``latency_ms``), answered with a 5xx (``error_rate``,
``error_status``), with 429 + ``Retry-After`` (``rate_limit``, ``retry_after``), left hanging past
any sane client timeout (``timeout``, bounded by ``hang_seconds``) or cut off mid-response
(``drop``). ``lost_response`` (forced only) lets the request through and then drops the answer:
the peer acted but the client never heard, which is what idempotency keys are for. Rates are
probabilities 0–1, drawn from a seeded RNG so a run is reproducible.
Configure them three ways, later ones winning:

1. environment, ``KUNTAFLOW_SANDBOX_FAULT_<FIELD>`` (e.g. ``KUNTAFLOW_SANDBOX_FAULT_ERROR_RATE=0.2``);
2. per request, header ``X-Sandbox-Faults: error_rate=0.2;latency_ms=50;rate_limit=0.05;seed=7``;
3. in a test, ``app.state.faults.fail_next(2, kind="error")`` forces the next matching requests.

**In-process transport.** ``httpx.ASGITransport`` is async-only; :class:`SyncASGITransport`
runs an ASGI app for a sync ``httpx.Client`` (one short-lived event loop per request, as
Starlette's TestClient does), enforces the request's read timeout (so a hanging sandbox gives
``httpx.ReadTimeout``) and turns a dropped connection into ``httpx.RemoteProtocolError``, just as
a real server would.
"""

from __future__ import annotations

import json
import math
import random
import threading
from collections import OrderedDict, deque
from collections.abc import Callable, Collection
from dataclasses import dataclass
from typing import Any, Literal

import anyio
import httpx
from anyio.from_thread import start_blocking_portal
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

FAULT_HEADER = "x-sandbox-faults"
FaultKind = Literal["error", "rate_limit", "timeout", "drop", "lost_response"]
DEFAULT_EXEMPT_PREFIXES = ("/docs", "/redoc", "/openapi.json", "/_sandbox")


class FaultSpec(BaseModel):
    """Fault rates and shapes; all zero means a well-behaved sandbox."""

    model_config = ConfigDict(extra="forbid")

    latency_ms: int = Field(default=0, ge=0, le=60_000, description="Added to every request.")
    error_rate: float = Field(default=0.0, ge=0, le=1, description="Share of requests answered with error_status.")
    error_status: int = Field(default=503, ge=500, le=599)
    rate_limit: float = Field(default=0.0, ge=0, le=1, description="Share answered 429 with Retry-After.")
    retry_after: int = Field(default=1, ge=0, le=3600, description="Retry-After seconds on injected 429s.")
    timeout: float = Field(default=0.0, ge=0, le=1, description="Share left hanging for hang_seconds.")
    hang_seconds: float = Field(default=30.0, gt=0, le=300, description="How long a 'timeout' request hangs before a 504.")
    drop: float = Field(default=0.0, ge=0, le=1, description="Share cut off mid-response.")
    seed: int | None = Field(default=None, description="RNG seed; the same seed gives the same fault sequence.")

    @classmethod
    def from_header(cls, text: str, base: FaultSpec) -> FaultSpec:
        """Parse ``key=value;key=value`` on top of ``base``.

        Raises:
            ValueError: an unknown key, a malformed pair or an out-of-range value.
        """
        updates: dict[str, str] = {}
        for part in text.split(";"):
            if not part.strip():
                continue
            key, sep, value = part.partition("=")
            if not sep:
                raise ValueError(f"fault setting {part.strip()!r} is not key=value")
            updates[key.strip()] = value.strip()
        try:
            return cls.model_validate({**base.model_dump(), **updates})
        except ValidationError as error:
            problems = "; ".join(f"{'.'.join(map(str, p['loc']))}: {p['msg']}" for p in error.errors(include_url=False))
            raise ValueError(f"invalid {FAULT_HEADER} header: {problems}") from None


class FaultSettings(FaultSpec, BaseSettings):
    """Sandbox-wide defaults from the environment (``KUNTAFLOW_SANDBOX_FAULT_*``)."""

    model_config = SettingsConfigDict(env_prefix="KUNTAFLOW_SANDBOX_FAULT_", extra="ignore")


@dataclass(frozen=True)
class InjectedFault:
    """One fault the sandbox injected: what a test asserts on."""

    method: str
    path: str
    kind: FaultKind


def default_error_body(status: int, message: str) -> dict[str, Any]:
    return {"error": message}


class FaultInjector:
    """Decides, per request, whether and how to misbehave. Thread-safe; lives in ``app.state.faults``."""

    def __init__(
        self,
        spec: FaultSpec | None = None,
        *,
        error_body: Callable[[int, str], Any] = default_error_body,
        exempt_prefixes: Collection[str] = DEFAULT_EXEMPT_PREFIXES,
    ) -> None:
        self.spec = spec if spec is not None else FaultSettings()
        self.error_body = error_body
        self.exempt_prefixes = tuple(exempt_prefixes)
        self.injected: list[InjectedFault] = []
        self._lock = threading.Lock()
        self._rng = random.Random(self.spec.seed)
        self._seeded: OrderedDict[int, random.Random] = OrderedDict()
        self._forced: deque[tuple[FaultKind, str | None]] = deque()

    def configure(self, **changes: Any) -> None:
        """Change the sandbox-wide spec (validated), e.g. ``configure(error_rate=0.5, seed=1)``."""
        with self._lock:
            self.spec = FaultSpec.model_validate({**self.spec.model_dump(), **changes})
            self._rng = random.Random(self.spec.seed)
            self._seeded.clear()

    def fail_next(self, count: int = 1, *, kind: FaultKind = "error", path_prefix: str | None = None) -> None:
        """Force the next ``count`` requests (optionally only those under ``path_prefix``) to fail."""
        with self._lock:
            self._forced.extend([(kind, path_prefix)] * count)

    def reset(self) -> None:
        """Back to a well-behaved sandbox with an empty record."""
        with self._lock:
            self.spec = FaultSpec()
            self._rng = random.Random()
            self._seeded.clear()
            self._forced.clear()
            self.injected.clear()

    def exempt(self, path: str) -> bool:
        return path.startswith(self.exempt_prefixes)

    def decide(self, method: str, path: str, header: str | None) -> tuple[FaultSpec, FaultKind | None]:
        """The spec in force for this request and the fault to inject, if any.

        Raises:
            ValueError: the request's fault header is invalid.
        """
        with self._lock:
            spec = FaultSpec.from_header(header, self.spec) if header else self.spec
            kind = self._take_forced(path)
            if kind is None:
                kind = self._draw(spec)
            if kind is not None:
                self.injected.append(InjectedFault(method, path, kind))
            return spec, kind

    def _take_forced(self, path: str) -> FaultKind | None:
        for index, (kind, prefix) in enumerate(self._forced):
            if prefix is None or path.startswith(prefix):
                del self._forced[index]
                return kind
        return None

    def _draw(self, spec: FaultSpec) -> FaultKind | None:
        rng = self._rng_for(spec)
        # One draw per request, split into bands, keeps a seeded sequence stable across rates.
        roll = rng.random()
        for kind, rate in (("drop", spec.drop), ("timeout", spec.timeout), ("rate_limit", spec.rate_limit), ("error", spec.error_rate)):
            if roll < rate:
                return kind  # type: ignore[return-value]
            roll -= rate
        return None

    def _rng_for(self, spec: FaultSpec) -> random.Random:
        if spec.seed is None or spec.seed == self.spec.seed:
            return self._rng
        rng = self._seeded.get(spec.seed)
        if rng is None:
            rng = self._seeded[spec.seed] = random.Random(spec.seed)
            while len(self._seeded) > 64:
                self._seeded.popitem(last=False)
        return rng


class DroppedConnectionError(Exception):
    """Raised by the fault middleware after a partial response: the server 'hangs up'."""


class FaultMiddleware:
    """Pure ASGI middleware (it must be able to hang and to cut a response short)."""

    def __init__(self, app: Any, injector: FaultInjector) -> None:
        self.app = app
        self.injector = injector

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = _app_path(scope)
        if self.injector.exempt(path):
            await self.app(scope, receive, send)
            return
        header = _header(scope, FAULT_HEADER)
        try:
            spec, kind = self.injector.decide(scope["method"], path, header)
        except ValueError as error:
            await _respond(send, 400, self.injector.error_body(400, str(error)))
            return
        if spec.latency_ms:
            await anyio.sleep(spec.latency_ms / 1000)
        if kind is None:
            await self.app(scope, receive, send)
        elif kind == "error":
            await _respond(send, spec.error_status, self.injector.error_body(spec.error_status, "sandbox fault: injected server error"))
        elif kind == "rate_limit":
            await _respond(send, 429, self.injector.error_body(429, "sandbox fault: rate limited"), [(b"retry-after", str(spec.retry_after).encode())])
        elif kind == "timeout":
            await anyio.sleep(spec.hang_seconds)
            await _respond(send, 504, self.injector.error_body(504, "sandbox fault: timed out"))
        elif kind == "lost_response":
            await self.app(scope, receive, _discard)
            await _hang_up(send, "sandbox fault: response lost after the request was processed")
        else:
            await _hang_up(send, "sandbox fault: connection dropped")


async def _hang_up(send: Any, reason: str) -> None:
    """Promise a body, send part of it and fail: a real server then closes the connection mid-response."""
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"application/json"), (b"content-length", b"1024")]})
    await send({"type": "http.response.body", "body": b'{"partial": ', "more_body": True})
    raise DroppedConnectionError(reason)


async def _discard(message: dict[str, Any]) -> None:
    """An ASGI send that throws the app's response away."""


def install_faults(app: Any, spec: FaultSpec | None = None, **injector_options: Any) -> FaultInjector:
    """Add fault injection to ``app`` and expose the injector as ``app.state.faults``."""
    injector = FaultInjector(spec, **injector_options)
    app.add_middleware(FaultMiddleware, injector=injector)
    app.state.faults = injector
    return injector


def _app_path(scope: dict[str, Any]) -> str:
    """The path inside this app: a sandbox mounted under ``/koha`` still sees ``/api/v1/…``."""
    path, root = scope["path"], scope.get("root_path", "")
    return path[len(root) :] or "/" if root and path.startswith(root) else path


def _header(scope: dict[str, Any], name: str) -> str | None:
    wanted = name.encode("latin-1")
    for key, value in scope.get("headers", []):
        if key.lower() == wanted:
            return value.decode("latin-1")
    return None


async def _respond(send: Any, status: int, body: Any, extra_headers: list[tuple[bytes, bytes]] | None = None) -> None:
    payload = json.dumps(body).encode("utf-8")
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(payload)).encode()), *(extra_headers or [])]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": payload})


class SyncASGITransport(httpx.BaseTransport):
    """Serve a sync ``httpx.Client`` from an ASGI app in-process (tests, robots' dry runs).

    Lifespan events are not run: sandboxes seed themselves when the app is built.
    """

    def __init__(self, app: Any, *, raise_app_exceptions: bool = True) -> None:
        self.app = app
        self._asgi = httpx.ASGITransport(app=app, raise_app_exceptions=raise_app_exceptions)

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        request.read()  # a sync body stream becomes a ByteStream the async transport can iterate
        read_timeout = (request.extensions.get("timeout") or {}).get("read")
        limit = math.inf if read_timeout is None else read_timeout

        async def call() -> tuple[int, list[tuple[bytes, bytes]], bytes]:
            with anyio.fail_after(limit):
                response = await self._asgi.handle_async_request(request)
                body = await response.aread()
            return response.status_code, response.headers.raw, body

        try:
            with start_blocking_portal() as portal:
                status, headers, body = portal.call(call)
        except TimeoutError:
            raise httpx.ReadTimeout("sandbox did not answer within the read timeout", request=request) from None
        except DroppedConnectionError:
            raise httpx.RemoteProtocolError("server disconnected before the response was complete", request=request) from None
        return httpx.Response(status, headers=headers, content=body, request=request)
