"""The one HTTP base every REST connector builds on (httpx, sync).

What it gives a connector: timeouts; retries of transient failures (connect errors, timeouts,
429, 5xx) with exponential backoff, jitter and a cap, through stamina; ``Retry-After`` honoured
up to a cap; ONE table from HTTP status to error class; JSON decoded into pydantic models with a
malformed answer raised as :class:`IntegrationError`; and a debug log line per attempt with
method, path, status and elapsed milliseconds (never the query string or a body).

The transport is the test seam: pass ``transport=httpx.MockTransport(handler)`` or
``transport=connectors.sandbox_support.SyncASGITransport(app)`` to talk to a sandbox in-process.
Tests switch the retry waits off with ``stamina.set_testing(True, attempts=N, cap=True)``.
"""

from __future__ import annotations

import email.utils
import logging
import time
import uuid
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from types import MappingProxyType
from typing import Any, Protocol, Self, TypedDict, TypeVar, overload

import httpx
import stamina
from pydantic import BaseModel, TypeAdapter, ValidationError

from connectors.errors import (
    AutomationError,
    ConflictError,
    IntegrationError,
    NotFoundError,
    TransientError,
)
from schemas.redaction import redact

logger = logging.getLogger("connectors.http")

T = TypeVar("T")
M = TypeVar("M", bound=BaseModel)

IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})
REQUEST_ID_HEADERS = ("x-request-id", "x-correlation-id", "request-id", "x-amzn-requestid")

#: Status → (error class, code). Codes read well in a Robot log and in the manual-handling view.
STATUS_ERRORS: Mapping[int, tuple[type[AutomationError], str]] = MappingProxyType(
    {
        400: (IntegrationError, "BAD_REQUEST"),
        401: (IntegrationError, "UNAUTHORIZED"),
        403: (IntegrationError, "FORBIDDEN"),
        404: (NotFoundError, "NOT_FOUND"),
        405: (IntegrationError, "METHOD_NOT_ALLOWED"),
        406: (IntegrationError, "NOT_ACCEPTABLE"),
        408: (TransientError, "REQUEST_TIMEOUT"),
        409: (ConflictError, "CONFLICT"),
        410: (NotFoundError, "GONE"),
        413: (IntegrationError, "PAYLOAD_TOO_LARGE"),
        415: (IntegrationError, "UNSUPPORTED_MEDIA_TYPE"),
        422: (IntegrationError, "UNPROCESSABLE"),
        425: (TransientError, "TOO_EARLY"),
        429: (TransientError, "RATE_LIMITED"),
        500: (TransientError, "SERVER_ERROR"),
        502: (TransientError, "BAD_GATEWAY"),
        503: (TransientError, "UNAVAILABLE"),
        504: (TransientError, "GATEWAY_TIMEOUT"),
    }
)

#: Failures after which the peer has certainly not acted, so even a non-idempotent POST may be resent.
_NOT_PROCESSED_CODES = frozenset({"CONNECT_FAILED", "CONNECT_TIMEOUT", "POOL_TIMEOUT", "RATE_LIMITED", "UNAVAILABLE"})


def error_class_for(status_code: int) -> tuple[type[AutomationError], str]:
    """The error class and code for an unexpected HTTP status."""
    if status_code in STATUS_ERRORS:
        return STATUS_ERRORS[status_code]
    if status_code >= 500:
        return TransientError, "SERVER_ERROR"
    if status_code >= 400:
        return IntegrationError, "CLIENT_ERROR"
    return IntegrationError, "UNEXPECTED_STATUS"


class ErrorDetails(TypedDict):
    """Keyword arguments every connector error built from a response takes."""

    status_code: int | None
    request_id: str | None
    business_ids: dict[str, Any]
    body: str | None


ErrorMapper = Callable[[httpx.Response, ErrorDetails], AutomationError | None]


@dataclass(frozen=True)
class RetryPolicy:
    """How hard a connector tries before raising :class:`TransientError`.

    ``attempts`` and ``timeout`` (seconds, waits included) both bound the retrying. A
    ``Retry-After`` up to ``retry_after_cap`` seconds is waited out; a longer one is not waited
    for in-process: the error is raised at once with ``retry_after`` set, so the work-item queue
    or Prefect backs off instead of a robot sitting idle.
    """

    attempts: int = 4
    timeout: float = 30.0
    wait_initial: float = 0.2
    wait_max: float = 5.0
    wait_jitter: float = 0.5
    retry_after_cap: float = 30.0

    def backoff_for(self, error: BaseException, *, resend_allowed: bool) -> bool | float:
        """stamina backoff hook: False = give up, True = exponential backoff, float = wait this long."""
        if not isinstance(error, TransientError):
            return False
        if not resend_allowed and error.code not in _NOT_PROCESSED_CODES:
            return False
        if error.retry_after is not None:
            if error.retry_after > self.retry_after_cap:
                return False
            return max(error.retry_after, 0.0)
        return True


NO_RETRY = RetryPolicy(attempts=1)


def parse_retry_after(value: str | None, *, now: datetime | None = None) -> float | None:
    """Seconds from a ``Retry-After`` header (delta-seconds or HTTP-date); None if absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max((when - (now or datetime.now(UTC))).total_seconds(), 0.0)


def request_id_of(response: httpx.Response) -> str | None:
    for name in REQUEST_ID_HEADERS:
        if value := response.headers.get(name):
            return value
    return response.request.headers.get("x-request-id")


class ApiClient:
    """A sync httpx client with Kuntaflow's retry, error and decoding rules.

    Args:
        base_url: the system's API root (a named environment in the connector's settings).
        system: a short name for logs and error messages, e.g. ``"koha"``.
        auth: an ``httpx.Auth`` (token refresh lives there, so a 401 here is final).
        timeout: seconds, or an ``httpx.Timeout``.
        transport: the test seam; None for real network I/O.
        retry: the connector's retry policy.
        error_mapper: turns a connector's business cases (a duplicate, an already-sent
            message) into its own errors before the status table applies; returns None to
            fall through.
        transient_error: the connector's ``TransientError`` subclass, raised for every
            transient failure (timeouts, connection errors, 429, 5xx).
        headers: default headers for every request.
    """

    def __init__(
        self,
        base_url: str,
        *,
        system: str,
        auth: httpx.Auth | None = None,
        timeout: float | httpx.Timeout = 10.0,
        transport: httpx.BaseTransport | None = None,
        retry: RetryPolicy = RetryPolicy(),
        error_mapper: ErrorMapper | None = None,
        transient_error: type[TransientError] = TransientError,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        self.system = system
        self.transient_error = transient_error
        self.retry_policy = retry
        self._error_mapper = error_mapper
        self._adapters: dict[Any, TypeAdapter[Any]] = {}
        self.http = httpx.Client(
            base_url=base_url,
            auth=auth,
            timeout=timeout,
            transport=transport,
            headers={"Accept": "application/json", **(headers or {})},
            follow_redirects=False,
        )

    # ------------------------------------------------------------------ lifecycle

    def close(self) -> None:
        self.http.close()

    def __enter__(self) -> ApiClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # ------------------------------------------------------------------ requests

    def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        content: bytes | str | None = None,
        data: Mapping[str, Any] | None = None,
        files: Any = None,
        headers: Mapping[str, str] | None = None,
        accept: Collection[int] = (),
        resend: bool | None = None,
        business_ids: Mapping[str, Any] | None = None,
        error_mapper: ErrorMapper | None = None,
    ) -> httpx.Response:
        """Send a request, retrying transient failures, and return a 2xx (or ``accept``-ed) response.

        Args:
            accept: non-2xx statuses handed back to the caller instead of raised (e.g. 404 for
                a lookup that may miss).
            resend: whether a failure after the peer may have acted (timeout, 500/502/504)
                may be resent. Defaults to True for idempotent methods; pass True for a POST
                only when it carries an idempotency key or the peer rejects duplicates.
            business_ids: non-personal ids attached to any error raised.
            error_mapper: per-call business mapping, tried before the client's own.

        Raises:
            TransientError: still failing after the retry policy, or a long ``Retry-After``.
            NotFoundError, ConflictError, IntegrationError: per the status table.
        """
        method = method.upper()
        resend_allowed = method in IDEMPOTENT_METHODS if resend is None else resend
        ids = dict(business_ids or {})
        request_id = str(uuid.uuid4())
        merged_headers = {"X-Request-ID": request_id, **(headers or {})}
        policy = self.retry_policy

        for attempt in stamina.retry_context(
            on=lambda error: policy.backoff_for(error, resend_allowed=resend_allowed),
            attempts=policy.attempts,
            timeout=policy.timeout,
            wait_initial=policy.wait_initial,
            wait_max=policy.wait_max,
            wait_jitter=policy.wait_jitter,
        ):
            with attempt:
                response = self._send_once(method, path, ids, params=params, json=json, content=content, data=data, files=files, headers=merged_headers)
                if response.is_success or response.status_code in accept:
                    return response
                raise self._error_for(response, ids, error_mapper)
        raise AssertionError("unreachable: stamina re-raises the last error")  # pragma: no cover

    def request_model(self, model: type[T] | Any, method: str, path: str, **kwargs: Any) -> T:
        """:meth:`request`, then :meth:`decode` the body into ``model`` (a pydantic model or any type)."""
        response = self.request(method, path, **kwargs)
        return self.decode(response, model, business_ids=kwargs.get("business_ids"))

    @overload
    def decode(self, response: httpx.Response, model: type[M], *, business_ids: Mapping[str, Any] | None = None) -> M: ...
    @overload
    def decode(self, response: httpx.Response, model: Any, *, business_ids: Mapping[str, Any] | None = None) -> Any: ...
    def decode(self, response: httpx.Response, model: Any, *, business_ids: Mapping[str, Any] | None = None) -> Any:
        """Parse a JSON body into ``model``.

        Raises:
            IntegrationError: the body is not JSON or not the shape the contract promises
                (field paths and reasons only; values are never quoted).
        """
        details = self._details(response, dict(business_ids or {}))
        where = f"{response.request.method} {safe_path(response.request.url)}"
        try:
            payload = response.json()
        except ValueError:
            raise IntegrationError(
                f"{self.system}: {where} answered {response.status_code} with a body that is not JSON",
                code="INVALID_JSON",
                **details,
            ) from None
        try:
            if isinstance(model, type) and issubclass(model, BaseModel):
                return model.model_validate(payload)
            return self._adapter(model).validate_python(payload)
        except ValidationError as error:
            problems = "; ".join(
                f"{'.'.join(str(part) for part in problem['loc']) or '(root)'}: {problem['msg']}"
                for problem in error.errors(include_input=False, include_url=False)[:10]
            )
            raise IntegrationError(
                f"{self.system}: {where} answered {response.status_code} in an unexpected shape: {problems}",
                code="UNEXPECTED_RESPONSE",
                **details,
            ) from None

    # ------------------------------------------------------------------ internals

    def _adapter(self, model: Any) -> TypeAdapter[Any]:
        adapter = self._adapters.get(model)
        if adapter is None:
            adapter = self._adapters[model] = TypeAdapter(model)
        return adapter

    def _send_once(self, method: str, path: str, ids: dict[str, Any], **kwargs: Any) -> httpx.Response:
        request = self.http.build_request(method, path, **kwargs)
        where = f"{method} {safe_path(request.url)}"
        started = time.perf_counter()
        try:
            response = self.http.send(request)
            response.read()
        except httpx.TimeoutException as error:
            code = {
                httpx.ConnectTimeout: "CONNECT_TIMEOUT",
                httpx.PoolTimeout: "POOL_TIMEOUT",
                httpx.WriteTimeout: "WRITE_TIMEOUT",
            }.get(type(error), "READ_TIMEOUT")
            self._log(where, code, started)
            raise self.transient_error(f"{self.system}: {where} timed out ({code})", code=code, business_ids=ids) from None
        except httpx.ConnectError:
            self._log(where, "CONNECT_FAILED", started)
            raise self.transient_error(f"{self.system}: {where}: could not connect", code="CONNECT_FAILED", business_ids=ids) from None
        except (httpx.RemoteProtocolError, httpx.ReadError, httpx.WriteError) as error:
            self._log(where, "CONNECTION_DROPPED", started)
            raise self.transient_error(
                f"{self.system}: {where}: connection dropped ({type(error).__name__})", code="CONNECTION_DROPPED", business_ids=ids
            ) from None
        self._log(where, response.status_code, started)
        return response

    def _log(self, where: str, outcome: int | str, started: float) -> None:
        if logger.isEnabledFor(logging.DEBUG):
            logger.debug("%s %s -> %s in %.0f ms", self.system, where, outcome, (time.perf_counter() - started) * 1000)

    def _details(self, response: httpx.Response, ids: dict[str, Any]) -> ErrorDetails:
        return ErrorDetails(
            status_code=response.status_code,
            request_id=request_id_of(response),
            business_ids=ids,
            body=response.text if response.content else None,
        )

    def _error_for(self, response: httpx.Response, ids: dict[str, Any], per_call: ErrorMapper | None) -> AutomationError:
        details = self._details(response, ids)
        for mapper in (per_call, self._error_mapper):
            if mapper is not None and (mapped := mapper(response, details)) is not None:
                return mapped
        cls, code = error_class_for(response.status_code)
        message = f"{self.system}: {response.request.method} {safe_path(response.request.url)} answered {response.status_code}"
        if issubclass(cls, TransientError):
            return self.transient_error(message, code=code, retry_after=parse_retry_after(response.headers.get("retry-after")), **details)
        return cls(message, code=code, **details)


def safe_path(url: httpx.URL) -> str:
    """The URL path for logs and messages: no host, no query string, any hetu masked."""
    return redact(url.path)


__all__ = [
    "NO_RETRY",
    "STATUS_ERRORS",
    "ApiClient",
    "ErrorDetails",
    "ErrorMapper",
    "RetryPolicy",
    "error_class_for",
    "parse_retry_after",
    "request_id_of",
    "safe_path",
]


class ConnectionSettings(Protocol):
    """What every connector's settings say about reaching its system."""

    base_url: str
    timeout_seconds: float
    retry_attempts: int


class ConnectorClient:
    """What every HTTP connector's client shares: its ``ApiClient`` (``self.api``), closed with the client.

    A client is a context manager, so ``with KohaClient(settings) as koha:`` closes its connections.
    """

    api: ApiClient

    @staticmethod
    def api_client(
        settings: ConnectionSettings,
        *,
        system: str,
        error_mapper: ErrorMapper,
        transient_error: type[TransientError],
        transport: httpx.BaseTransport | None = None,
        retry: RetryPolicy | None = None,
        auth: httpx.Auth | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> ApiClient:
        """The ``ApiClient`` on the settings' address, timeout and retry attempts (``retry`` overrides them: tests)."""
        return ApiClient(
            settings.base_url,
            system=system,
            auth=auth,
            timeout=settings.timeout_seconds,
            transport=transport,
            retry=retry or RetryPolicy(attempts=settings.retry_attempts),
            error_mapper=error_mapper,
            transient_error=transient_error,
            headers=headers,
        )

    def close(self) -> None:
        self.api.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
