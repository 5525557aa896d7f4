"""The ``X-AsiointivaltuudetAuthorization`` header: ``"{clientId} {timestamp} {base64(HMAC-SHA256(key, pathWithQuery + ' ' + timestamp))}"``.

Source: reference/suomifi.md §3 (DVV's roles-auths-web-api-node-client ``lib/HeaderUtils.js``; the
Finnish spec, palveluhallinta "4.3 Tarkistesumman laskeminen"). The signed text is the request's path
and query exactly as sent, relative to the service root. Published clients write the timestamp in
different ISO-8601 forms (local offset, ``Z`` with two decimals, Python's microseconds), so the
checker reads any of them.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import UTC, datetime, timedelta

HEADER = "X-AsiointivaltuudetAuthorization"


class ChecksumError(ValueError):
    """The header is missing, malformed, for an unknown client, stale, or its checksum is wrong.

    ``code`` names the reason; the message never quotes the path (it may hold a henkilötunnus).
    """

    def __init__(self, message: str, code: str) -> None:
        super().__init__(message)
        self.code = code


def checksum(key: str, path_with_query: str, timestamp: str) -> str:
    digest = hmac.new(key.encode("utf-8"), f"{path_with_query} {timestamp}".encode(), hashlib.sha256).digest()
    return base64.b64encode(digest).decode("ascii")


def header_value(client_id: str, key: str, path_with_query: str, *, now: datetime | None = None) -> str:
    """The header for a request to ``path_with_query`` (e.g. ``/service/hpa/api/delegate/S?requestId=R``)."""
    timestamp = (now or datetime.now(UTC)).isoformat(timespec="milliseconds")
    return f"{client_id} {timestamp} {checksum(key, path_with_query, timestamp)}"


def verify(value: str | None, path_with_query: str, keys: dict[str, str], *, now: datetime | None = None, max_skew: timedelta) -> str:
    """The client id whose key signed ``path_with_query`` within ``max_skew`` of ``now``.

    Raises:
        ChecksumError: ``MISSING``, ``MALFORMED``, ``UNKNOWN_CLIENT``, ``STALE_TIMESTAMP`` or ``WRONG_CHECKSUM``.
    """
    if not value:
        raise ChecksumError(f"the {HEADER} header is missing", "MISSING")
    parts = value.strip().split(" ")
    if len(parts) != 3:
        raise ChecksumError(f"the {HEADER} header is not 'clientId timestamp checksum'", "MALFORMED")
    client_id, timestamp, given = parts
    key = keys.get(client_id)
    if key is None:
        raise ChecksumError("the client id is not known", "UNKNOWN_CLIENT")
    try:
        when = datetime.fromisoformat(timestamp)
    except ValueError:
        raise ChecksumError("the timestamp is not ISO-8601", "MALFORMED") from None
    if when.tzinfo is None:
        raise ChecksumError("the timestamp has no time zone", "MALFORMED")
    if abs((now or datetime.now(UTC)) - when) > max_skew:
        raise ChecksumError("the timestamp is too far from the service's clock", "STALE_TIMESTAMP")
    if not hmac.compare_digest(checksum(key, path_with_query, timestamp).encode(), given.encode()):
        raise ChecksumError("the checksum does not match the request", "WRONG_CHECKSUM")
    return client_id
