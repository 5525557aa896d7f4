"""CSRF tokens for the web apps' forms: one random token per browser session, checked on every POST.

The token lives in the app's signed session cookie (``csrf``); each form carries it back in a
hidden ``csrf_token`` field. A POST whose token is missing or is not this session's changes nothing.
"""

from __future__ import annotations

import hmac
import secrets

from starlette.requests import Request

#: The form field every form posts the token in.
FIELD = "csrf_token"
_SESSION_KEY = "csrf"


def csrf_token(request: Request) -> str:
    """This browser's CSRF token, created on first use."""
    token = request.session.get(_SESSION_KEY)
    if not isinstance(token, str) or len(token) < 32:
        token = secrets.token_urlsafe(32)
        request.session[_SESSION_KEY] = token
    return token


def csrf_matches(request: Request, sent: str | None) -> bool:
    """Whether ``sent`` is this session's token (compared in constant time)."""
    expected = request.session.get(_SESSION_KEY)
    return isinstance(expected, str) and bool(sent) and hmac.compare_digest(expected.encode(), str(sent).encode())
