"""What the REST sandboxes share: answering their API errors, and ``Idempotency-Key`` for their writes.

Each sandbox has its own API error (``KohaApiError``, ``HrApiError`` …) carrying the real system's status and
JSON body; :func:`api_error_handler` answers it. For Helbit's and HR's writes, :func:`idempotent` gives a
repeated request the first answer again. Each store decides what it remembers and how it treats a key reused
for another request (``replay`` may raise its own API error); this module is the one request → replay-or-act
→ remember sequence they share.
"""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

from fastapi import Request
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse


def fingerprint(method: str, path: str, body: bytes) -> str:
    """What makes two requests the same request: method, path and body."""
    return hashlib.sha256(method.encode() + b" " + path.encode() + b"\n" + body).hexdigest()


class Remembered(Protocol):
    status: int
    body: Any


class IdempotencyStore(Protocol):
    def replay(self, key: str | None, fingerprint: str) -> Remembered | None: ...

    def remember(self, key: str | None, fingerprint: str, status: int, body: Any) -> None: ...


def api_error_handler(challenge: str | None = None) -> Callable[[Request, Exception], Awaitable[JSONResponse]]:
    """The exception handler answering a sandbox's API error with its status and JSON body, and with
    ``WWW-Authenticate: <challenge>`` on a 401 when the real system sends one."""

    async def answer(request: Request, error: Exception) -> JSONResponse:
        failure: Any = error  # registered only for the sandbox's API error, which has a status and a body
        headers = {"WWW-Authenticate": challenge} if challenge is not None and failure.status == 401 else None
        return JSONResponse(failure.body, status_code=failure.status, headers=headers)

    return answer


async def idempotent(request: Request, store: IdempotencyStore, action: Callable[[], tuple[int, Any]], failure: type[Exception]) -> JSONResponse:
    """Answer a write once per ``Idempotency-Key``: replay a remembered answer, or act and remember what was answered.

    ``failure`` is the sandbox's API error (with ``status`` and ``body``): a refusal is remembered too, as the real
    systems do, so a retry with the same key is refused the same way.
    """
    key = request.headers.get("idempotency-key")
    print_ = fingerprint(request.method, request.url.path, await request.body())
    remembered = store.replay(key, print_)
    if remembered is not None:
        return JSONResponse(remembered.body, status_code=remembered.status, headers={"Idempotent-Replayed": "true"})
    try:
        status, body = action()
    except failure as error:
        refusal: Any = error  # the sandbox's API error, which has a status and a body
        status, body = refusal.status, refusal.body
    body = jsonable_encoder(body)
    store.remember(key, print_, status, body)
    return JSONResponse(body, status_code=status)
