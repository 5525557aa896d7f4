"""One error hierarchy for every connector and robot.

``AutomationError`` → ``TransientError`` (retry: outages, timeouts, 429/5xx) /
``PermanentError`` → ``BusinessRuleError`` (route the case to a person) /
``IntegrationError`` (our bug or contract drift). Keyword libraries re-raise with these class
names so Robot Framework's output reads ``BusinessRuleError: CODE: …`` and the work-item
library can file the case as a business or an application failure.

Every error carries the HTTP status, the peer's request id, non-personal business ids (work
item id, message externalId …) and a redacted, truncated response body. ``str(error)`` never
contains a henkilötunnus. Connectors subclass these for their own cases (e.g. Koha's
``DuplicatePatronError``); they never invent a parallel hierarchy.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from schemas.redaction import redact, redact_value

MAX_BODY_CHARS = 2_000


class AutomationError(Exception):
    """Base of every error a connector or keyword library raises on purpose."""

    default_code = "AUTOMATION_ERROR"

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        status_code: int | None = None,
        request_id: str | None = None,
        business_ids: Mapping[str, Any] | None = None,
        body: str | bytes | None = None,
    ) -> None:
        self.code = code or self.default_code
        self.status_code = status_code
        self.request_id = request_id
        # Business ids are meant to be non-personal; mask anyway so a caller's slip cannot leak a hetu.
        self.business_ids = redact_value(dict(business_ids or {}))
        if isinstance(body, bytes):
            body = body.decode("utf-8", errors="replace")
        # Mask before truncating so a code cut in half at the limit is still masked.
        self.body = redact(body)[:MAX_BODY_CHARS] if body else None
        self.message = redact(message)
        super().__init__(self.message)

    def __str__(self) -> str:
        # "CODE: message" is what the work-item library parses after the class-name prefix.
        return f"{self.code}: {self.message}"

    def __repr__(self) -> str:
        return f"{type(self).__name__}({str(self)!r}, status_code={self.status_code!r}, request_id={self.request_id!r})"


class TransientError(AutomationError):
    """Retry later: the peer is down, slow, rate-limiting or answered 5xx.

    ``retry_after`` is the peer's ``Retry-After`` in seconds, when it gave one.
    """

    default_code = "TRANSIENT_ERROR"

    def __init__(self, message: str, *, retry_after: float | None = None, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.retry_after = retry_after


class PermanentError(AutomationError):
    """Retrying the same request will not help."""

    default_code = "PERMANENT_ERROR"


class BusinessRuleError(PermanentError):
    """The case itself is the problem (data, rules): a person decides."""

    default_code = "BUSINESS_RULE"


class IntegrationError(PermanentError):
    """The peer answered something we cannot use: our bug or a contract change."""

    default_code = "INTEGRATION_ERROR"


class NotFoundError(PermanentError):
    """The peer has no such resource (404/410). Connectors turn expected misses into ``None``."""

    default_code = "NOT_FOUND"


class ConflictError(PermanentError):
    """The peer refused a write as conflicting (409). Connectors map their business cases first
    (a duplicate patron, a message already sent); this is what is left."""

    default_code = "CONFLICT"
