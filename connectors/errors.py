"""One error hierarchy for every connector and robot.

``AutomationError`` → ``TransientError`` (retry: outages, timeouts, 429/5xx) /
``PermanentError`` → ``BusinessRuleError`` (route the case to a person) /
``IntegrationError`` (our bug or contract drift). Keyword libraries re-raise with these class
names so Robot Framework's output reads ``BusinessRuleError: CODE: …`` and the work-item
library can file the case as a business or an application failure.

Every error carries the HTTP status, the peer's request id, non-personal business ids (work
item id, message externalId …) and a redacted, truncated response body. ``str(error)`` never
contains a henkilötunnus.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from kuntaflow.redaction import redact

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
        self.business_ids = dict(business_ids or {})
        if isinstance(body, bytes):
            body = body.decode("utf-8", errors="replace")
        self.body = redact(body[:MAX_BODY_CHARS]) if body else None
        self.message = redact(message)
        super().__init__(self.message)

    def __str__(self) -> str:
        # "CODE: message" is what the work-item library parses after the class-name prefix.
        return f"{self.code}: {self.message}"


class TransientError(AutomationError):
    """Retry later: the peer is down, slow, rate-limiting or answered 5xx."""

    default_code = "TRANSIENT_ERROR"


class PermanentError(AutomationError):
    """Retrying the same request will not help."""

    default_code = "PERMANENT_ERROR"


class BusinessRuleError(PermanentError):
    """The case itself is the problem (data, rules): a person decides."""

    default_code = "BUSINESS_RULE"


class IntegrationError(PermanentError):
    """The peer answered something we cannot use: our bug or a contract change."""

    default_code = "INTEGRATION_ERROR"
