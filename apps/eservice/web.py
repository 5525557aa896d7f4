"""Request plumbing shared by the e-service's pages: page context, CSRF, bounded form reading.

The signed cookie (Starlette ``SessionMiddleware``) holds only these keys, none of them personal:

- ``lang``: the chosen language;
- ``csrf``: the session-bound CSRF token every form carries back;
- ``login``: the RelayState token of this browser's Suomi.fi login in progress;
- ``sid``: the token of the logged-in session kept server-side (``apps.eservice.sessions``);
- ``notice``: a translation key shown once on the next page.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Annotated, Any
from urllib.parse import parse_qs

from fastapi import Depends, Request

from apps.csrf import FIELD as CSRF_FIELD
from apps.csrf import csrf_matches, csrf_token
from apps.i18n import ENDONYMS, LANGUAGES, Translator
from apps.i18n import language_of as language_of  # the pages take it from here, with the rest of their plumbing
from schemas.web_address import same_site_path

#: The largest urlencoded form accepted (the application form is well under 2 KB).
MAX_FORM_BYTES = 16 * 1024
#: A SAML message posted by the IdP (an encrypted, signed Response is some tens of KB).
MAX_SAML_BYTES = 256 * 1024
#: Field names a form may repeat at most (anything beyond is an attack, not a citizen).
MAX_FORM_FIELDS = 40


class PageError(Exception):
    """Show a translated error page (``error_<key>_title`` / ``_text``) with an HTTP status."""

    def __init__(self, status_code: int, key: str, *, action_url: str | None = None, action_key: str | None = None) -> None:
        super().__init__(key)
        self.status_code = status_code
        self.key = key
        self.action_url = action_url
        self.action_key = action_key


def check_csrf(request: Request, form: Mapping[str, str]) -> None:
    """Raises: PageError(403): the form's token is missing or is not this browser's."""
    if not csrf_matches(request, form.get(CSRF_FIELD, "")):
        raise PageError(403, "csrf")


async def read_form(request: Request, *, limit: int = MAX_FORM_BYTES) -> dict[str, str]:
    """The urlencoded body as ``{name: first value}``, read no further than ``limit`` bytes.

    Raises:
        PageError(413): the body is larger than ``limit``.
        PageError(400): the body is not a UTF-8 urlencoded form.
    """
    declared = request.headers.get("content-length")
    if declared is not None and (not declared.isdigit() or int(declared) > limit):
        raise PageError(413, "too_large")
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type != "application/x-www-form-urlencoded":
        return {}  # our forms are urlencoded; anything else carries no token and no field
    body = bytearray()
    async for chunk in request.stream():
        body.extend(chunk)
        if len(body) > limit:
            raise PageError(413, "too_large")
    try:
        parsed = parse_qs(body.decode("utf-8"), keep_blank_values=True, strict_parsing=False, max_num_fields=MAX_FORM_FIELDS)
    except (UnicodeDecodeError, ValueError):
        raise PageError(400, "csrf") from None
    return {name: values[0] for name, values in parsed.items()}


async def _small_form(request: Request) -> dict[str, str]:
    return await read_form(request)


async def _saml_form(request: Request) -> dict[str, str]:
    return await read_form(request, limit=MAX_SAML_BYTES)


#: A page's form, read (bounded) before the handler runs, so handlers can be plain functions
#: that FastAPI runs in its thread pool (they call the database, Koha and xmlsec1).
SmallForm = Annotated[dict[str, str], Depends(_small_form)]
#: The IdP's SAML POST (larger bound).
SamlForm = Annotated[dict[str, str], Depends(_saml_form)]


def safe_next(path: str | None, root: str) -> str:
    """A same-site path to return to after a language switch; anything else goes to the start."""
    return same_site_path(path, default=f"{root}/")


@dataclass(frozen=True)
class Urls:
    """Every page's path, under the e-service's root path."""

    root: str = ""

    def __call__(self, name: str, *parts: str) -> str:
        path = _PATHS[name]
        suffix = "".join(f"/{part}" for part in parts)
        return f"{self.root}{path}{suffix}" if path != "/" or not suffix else f"{self.root}{suffix}"


_PATHS = MappingProxyType(
    {
        "start": "/",
        "login": "/login",
        "login_complete": "/login/complete",
        "acs": "/saml/acs",
        "slo": "/saml/slo",
        "metadata": "/saml/metadata",
        "choose": "/apply/for",
        "valtuudet_callback": "/apply/for/valtuudet",
        "apply": "/apply",
        "status": "/status",
        "logout": "/logout",
        "logged_out": "/logged-out",
        "language": "/language",
        "static": "/static",
    }
)


class LazyCsrfToken:
    """The CSRF token, created only when a page renders a form with it: a page without forms
    (e.g. an error answered to the cross-site ACS POST) must not set a cookie that would
    replace the browser's own."""

    def __init__(self, request: Request) -> None:
        self._request = request

    def __str__(self) -> str:
        return csrf_token(self._request)

    __html__ = __str__


def page_context(request: Request, t: Translator, urls: Urls, **extra: Any) -> dict[str, Any]:
    """What every template needs: language, texts, CSRF token, links, the one-time notice."""
    notice_key = request.session.pop("notice", None)
    return {
        "request": request,
        "lang": t.language.value,
        "t": t,
        "url": urls,
        "csrf_token": LazyCsrfToken(request),
        "languages": [(language.value, ENDONYMS[language]) for language in LANGUAGES],
        "current_path": request.url.path,
        "notice": t(notice_key) if isinstance(notice_key, str) and notice_key in t.texts else None,
        "user_name": None,
        "has_errors": False,
        **extra,
    }
