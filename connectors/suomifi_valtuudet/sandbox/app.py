"""FastAPI app of the sandbox Suomi.fi Valtuudet HPA web API (reference/suomifi.md §3).

Endpoints, under the sandbox's base URL (``KUNTAFLOW_VALTUUDET_BASE_URL``, by default
http://127.0.0.1:8080/suomifi_valtuudet as ``kuntaflow sandbox`` mounts it):

- ``GET /service/hpa/user/register/{clientId}/{delegateId}`` (checksum) → ``{"sessionId", "userId"}``;
- ``GET /oauth/authorize?client_id&response_type=code&redirect_uri&user[&state][&lang]``: the page where
  the delegate picks whom to act for; ``POST /oauth/authorize`` sends the browser back with
  ``?code=…[&state=…]`` (or ``?error=access_denied`` on cancel);
- ``POST /oauth/token?code&grant_type=authorization_code&redirect_uri`` (Basic clientId:oauthSecret) →
  ``{"access_token", "token_type", "refresh_token", "expires_in", "scope"}``; a code works once;
- ``GET /service/hpa/api/delegate/{sessionId}`` (Bearer + checksum) → ``[{"personId", "name"}]``;
- ``GET /service/hpa/api/authorization/{sessionId}/{principalId}`` (Bearer + checksum) →
  ``{"result": "ALLOWED"|"DISALLOWED", "reasons": […]}``;
- ``GET /service/hpa/user/unregister/{sessionId}`` (checksum);
- ``GET /service/rest/hpa/authorization/{clientId}/{delegateId}/{principalId}`` (checksum with the REST
  API key, ``X-userId``): the same rule without the UI.

The rule: a delegate may act for a principal who is their child in the population register
(:mod:`connectors.sandbox_people`) and under 18; anyone else is DISALLOWED. Refusals carry no
henkilötunnus: bodies name the reason only. What is the sandbox's own choice where our sources say
nothing (statuses of refusals, the reason names, the clock window) is listed in the connector README.
"""

from __future__ import annotations

import base64
import binascii
import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlencode, urlsplit

from fastapi import APIRouter, FastAPI, Form, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from connectors.sandbox_api import api_error_handler
from connectors.sandbox_people import Population, SandboxPerson, sandbox_population
from connectors.sandbox_support import FaultSpec, install_faults
from connectors.suomifi_valtuudet.checksum import HEADER, ChecksumError, verify
from connectors.suomifi_valtuudet.sandbox.texts import TEXTS
from connectors.suomifi_valtuudet.settings import SANDBOX_CLIENT_ID, SANDBOX_CLIENT_SECRET, SANDBOX_OAUTH_SECRET, SANDBOX_REST_API_KEY
from schemas.hetu import Hetu, helsinki_today

TEMPLATES = Jinja2Templates(directory=Path(__file__).parent / "templates")
ADULT_AGE = 18
MAX_SKEW = timedelta(minutes=5)
CODE_TTL = timedelta(minutes=5)
TOKEN_TTL = timedelta(seconds=599)
SESSION_TTL = timedelta(minutes=30)
MAX_SESSIONS = 5000
LANGUAGES = ("fi", "sv", "en")


@dataclass(frozen=True)
class SandboxClient:
    """An onboarded e-service: its checksum key, OAuth secret and REST API key."""

    client_secret: str
    oauth_secret: str
    rest_api_key: str


@dataclass
class Session:
    client_id: str
    user_id: str
    delegate: str
    created: datetime
    chosen: list[str] = field(default_factory=list)
    form_token: str = field(default_factory=lambda: secrets.token_urlsafe(16))


@dataclass(frozen=True)
class Grant:
    session_id: str
    client_id: str
    redirect_uri: str
    expires: datetime


class ValtuudetApiError(Exception):
    """An API refusal: its status and a JSON body that never quotes the request."""

    def __init__(self, status: int, error: str, description: str) -> None:
        super().__init__(description)
        self.status = status
        self.body = {"error": error, "error_description": description}


class ValtuudetState:
    """Sessions, codes and tokens of one sandbox; ``clock`` is replaceable so tests can age them."""

    def __init__(self, people: Population, clients: dict[str, SandboxClient], clock: Callable[[], datetime]) -> None:
        self.people = people
        self.clients = clients
        self.clock = clock
        self.lock = threading.Lock()
        self.sessions: dict[str, Session] = {}
        self.users: dict[str, str] = {}
        self.codes: dict[str, Grant] = {}
        self.used_codes: set[str] = set()
        self.tokens: dict[str, tuple[str, datetime]] = {}

    def register(self, client_id: str, delegate: str) -> tuple[str, Session]:
        with self.lock:
            self._expire()
            session_id, user_id = secrets.token_hex(16), secrets.token_hex(16)
            session = Session(client_id=client_id, user_id=user_id, delegate=delegate, created=self.clock())
            self.sessions[session_id] = session
            self.users[user_id] = session_id
            return session_id, session

    def by_user(self, user_id: str) -> tuple[str, Session] | None:
        with self.lock:
            session_id = self.users.get(user_id)
            session = self.sessions.get(session_id) if session_id else None
            return (session_id, session) if session_id and session else None

    def issue_code(self, session_id: str, client_id: str, redirect_uri: str) -> str:
        code = secrets.token_urlsafe(24)
        with self.lock:
            self.codes[code] = Grant(session_id, client_id, redirect_uri, self.clock() + CODE_TTL)
        return code

    def redeem(self, code: str, client_id: str, redirect_uri: str) -> str:
        """A token for a code, once. Raises: ValtuudetApiError (400 invalid_grant)."""
        with self.lock:
            if code in self.used_codes:
                raise ValtuudetApiError(400, "invalid_grant", "Invalid authorization code: the code has been used already")
            grant = self.codes.pop(code, None)
            if grant is None or grant.client_id != client_id or grant.expires < self.clock():
                raise ValtuudetApiError(400, "invalid_grant", "Invalid authorization code")
            self.used_codes.add(code)
            if grant.redirect_uri != redirect_uri:
                raise ValtuudetApiError(400, "invalid_grant", "Redirect URI mismatch")
            token = secrets.token_urlsafe(24)
            self.tokens[token] = (grant.session_id, self.clock() + TOKEN_TTL)
            return token

    def session_for_token(self, token: str, session_id: str) -> Session:
        """Raises: ValtuudetApiError (401): the token is unknown, expired or for another session."""
        with self.lock:
            found = self.tokens.get(token)
            if found is None or found[1] < self.clock() or found[0] != session_id or session_id not in self.sessions:
                raise ValtuudetApiError(401, "invalid_token", "The access token is not valid for this session")
            return self.sessions[session_id]

    def unregister(self, session_id: str) -> None:
        with self.lock:
            session = self.sessions.pop(session_id, None)
            if session is not None:
                self.users.pop(session.user_id, None)
                self.tokens = {token: value for token, value in self.tokens.items() if value[0] != session_id}

    def _expire(self) -> None:
        cutoff = self.clock() - SESSION_TTL
        for session_id in [sid for sid, session in self.sessions.items() if session.created < cutoff]:
            self.users.pop(self.sessions.pop(session_id).user_id, None)
        while len(self.sessions) >= MAX_SESSIONS:
            self.users.pop(self.sessions.pop(next(iter(self.sessions))).user_id, None)


def may_act_for(people: Population, delegate: str, principal: str) -> bool:
    """The sandbox's rules engine: a guardian may act for their own child under 18."""
    guardian, child = people.by_hetu(delegate), people.by_hetu(principal)
    if guardian is None or child is None or child.key not in guardian.children:
        return False
    return child.age_on(helsinki_today()) < ADULT_AGE


def principal_name(person: SandboxPerson) -> str:
    """As the population register writes a name: surname, then first names."""
    return f"{person.surname} {person.first_names}"


def create_app(
    *,
    people: Population | None = None,
    clients: dict[str, SandboxClient] | None = None,
    clock: Callable[[], datetime] | None = None,
    faults: FaultSpec | None = None,
) -> FastAPI:
    """Build the sandbox. ``clients`` defaults to the test client of ``ValtuudetSettings``' defaults."""
    app = FastAPI(title="Suomi.fi Valtuudet HPA web API (Kuntaflow sandbox)", version="1", docs_url="/docs")
    app.state.valtuudet = ValtuudetState(
        people if people is not None else sandbox_population(),
        clients if clients is not None else {SANDBOX_CLIENT_ID: SandboxClient(SANDBOX_CLIENT_SECRET, SANDBOX_OAUTH_SECRET, SANDBOX_REST_API_KEY)},
        clock or (lambda: datetime.now(UTC)),
    )
    install_faults(app, faults, exempt_prefixes=("/docs", "/openapi.json", "/oauth/authorize"))
    app.add_exception_handler(ValtuudetApiError, api_error_handler())
    for router in (service, oauth):
        app.include_router(router)
    return app


def _state(request: Request) -> ValtuudetState:
    return request.app.state.valtuudet


def _signed_path(request: Request) -> str:
    """The path and query the client signed: as sent, relative to where the service is mounted."""
    raw = request.scope.get("raw_path") or request.scope["path"].encode()
    path = raw.split(b"?", 1)[0].decode("latin-1")
    root = request.scope.get("root_path", "")
    if root and path.startswith(root):
        path = path[len(root) :]
    query = request.scope.get("query_string", b"").decode("latin-1")
    return f"{path}?{query}" if query else path


def _checked(request: Request, *, rest: bool = False) -> str:
    """The client id whose checksum header signs this request. Raises: ValtuudetApiError (401)."""
    state = _state(request)
    keys = {cid: (client.rest_api_key if rest else client.client_secret) for cid, client in state.clients.items()}
    try:
        return verify(request.headers.get(HEADER), _signed_path(request), keys, now=state.clock(), max_skew=MAX_SKEW)
    except ChecksumError as error:
        raise ValtuudetApiError(401, error.code.lower(), str(error)) from None


def _hetu(value: str, what: str) -> str:
    try:
        return Hetu(value).value
    except ValueError:
        raise ValtuudetApiError(400, "invalid_request", f"the {what} is not a valid personal identity code") from None


def _bearer(request: Request, session_id: str) -> Session:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise ValtuudetApiError(401, "unauthorized", "Full authentication is required to access this resource")
    return _state(request).session_for_token(token.strip(), session_id)


def _decision(allowed: bool) -> dict[str, Any]:
    rule = {"reasonRule": "huoltajuus", "reasonValue": "true" if allowed else "false", "valueType": "BOOLEAN"}
    return {"result": "ALLOWED" if allowed else "DISALLOWED", "reasons": [rule]}


# ---------------------------------------------------------------------------------- the service API

service = APIRouter(prefix="/service")


@service.get("/hpa/user/register/{client_id}/{delegate_id}")
def register(request: Request, client_id: str, delegate_id: str) -> JSONResponse:
    if _checked(request) != client_id:
        raise ValtuudetApiError(401, "unknown_client", "the client id in the path is not the one that signed the request")
    session_id, session = _state(request).register(client_id, _hetu(delegate_id, "delegate"))
    return JSONResponse({"sessionId": session_id, "userId": session.user_id})


@service.get("/hpa/user/unregister/{session_id}")
def unregister(request: Request, session_id: str) -> JSONResponse:
    _checked(request)
    _state(request).unregister(session_id)
    return JSONResponse({})


@service.get("/hpa/api/delegate/{session_id}")
def delegate(request: Request, session_id: str) -> JSONResponse:
    _checked(request)
    session = _bearer(request, session_id)
    people = _state(request).people
    chosen = [people.by_hetu(hetu) for hetu in session.chosen]
    return JSONResponse([{"personId": person.hetu, "name": principal_name(person)} for person in chosen if person is not None])


@service.get("/hpa/api/authorization/{session_id}/{principal_id}")
def authorization(request: Request, session_id: str, principal_id: str, issues: Annotated[list[str] | None, Query()] = None) -> JSONResponse:
    """``issues`` (mandate themes) are accepted; a guardian's right does not depend on them."""
    _checked(request)
    session = _bearer(request, session_id)
    return JSONResponse(_decision(may_act_for(_state(request).people, session.delegate, _hetu(principal_id, "principal"))))


@service.get("/rest/hpa/authorization/{client_id}/{delegate_id}/{principal_id}")
def rest_authorization(request: Request, client_id: str, delegate_id: str, principal_id: str) -> JSONResponse:
    """The REST API without UI: the REST API key signs, ``X-userId`` names the e-service's user."""
    if _checked(request, rest=True) != client_id:
        raise ValtuudetApiError(401, "unknown_client", "the client id in the path is not the one that signed the request")
    if not request.headers.get("x-userid", "").strip():
        raise ValtuudetApiError(400, "invalid_request", "the X-userId header is required")
    delegate_hetu, principal_hetu = _hetu(delegate_id, "delegate"), _hetu(principal_id, "principal")
    return JSONResponse(_decision(may_act_for(_state(request).people, delegate_hetu, principal_hetu)))


# ---------------------------------------------------------------------------------- OAuth

oauth = APIRouter(prefix="/oauth")


@oauth.get("/authorize", response_class=HTMLResponse)
def authorize_page(
    request: Request,
    client_id: str = "",
    response_type: str = "",
    redirect_uri: str = "",
    user: str = "",
    state: str | None = None,
    lang: str = "fi",
) -> Response:
    locale = lang if lang in LANGUAGES else "fi"
    found = _authorize_request(request, client_id, redirect_uri, user, locale)
    if isinstance(found, Response):
        return found
    if response_type != "code":
        return RedirectResponse(_back(redirect_uri, {"error": "unsupported_response_type", "state": state}), status_code=302)
    _, session = found
    return _page(request, session, locale, client_id=client_id, redirect_uri=redirect_uri, user=user, state=state)


@oauth.post("/authorize", response_class=HTMLResponse)
def authorize_choice(
    request: Request,
    client_id: Annotated[str, Form()] = "",
    redirect_uri: Annotated[str, Form()] = "",
    user: Annotated[str, Form()] = "",
    form_token: Annotated[str, Form()] = "",
    state: Annotated[str | None, Form()] = None,
    lang: Annotated[str, Form()] = "fi",
    principal: Annotated[str, Form()] = "",
    action: Annotated[str, Form()] = "select",
) -> Response:
    locale = lang if lang in LANGUAGES else "fi"
    found = _authorize_request(request, client_id, redirect_uri, user, locale)
    if isinstance(found, Response):
        return found
    session_id, session = found
    if not secrets.compare_digest(form_token.encode(), session.form_token.encode()):
        return _message(request, 400, "form", locale)
    if action == "cancel":
        return RedirectResponse(_back(redirect_uri, {"error": "access_denied", "state": state}), status_code=303)
    people = _state(request).people
    chosen = people.get(principal) if principal in session_principal_keys(people, session) else None
    if chosen is None or chosen.hetu is None:
        return _page(request, session, locale, client_id=client_id, redirect_uri=redirect_uri, user=user, state=state, error=True)
    session.chosen = [chosen.hetu]
    code = _state(request).issue_code(session_id, client_id, redirect_uri)
    return RedirectResponse(_back(redirect_uri, {"code": code, "state": state}), status_code=303)


@oauth.post("/token")
async def token(request: Request) -> JSONResponse:
    """Parameters in the query (as the published clients send them) or in a form body (RFC 6749)."""
    params = dict(request.query_params)
    if request.headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
        params |= {key: str(value) for key, value in (await request.form()).items()}
    client_id = _basic_client(request)
    if params.get("grant_type") != "authorization_code":
        raise ValtuudetApiError(400, "unsupported_grant_type", "Unsupported grant type")
    if not params.get("code"):
        raise ValtuudetApiError(400, "invalid_request", "An authorization code must be supplied")
    access = _state(request).redeem(params["code"], client_id, params.get("redirect_uri", ""))
    return JSONResponse(
        {"access_token": access, "token_type": "bearer", "refresh_token": secrets.token_urlsafe(24), "expires_in": 599, "scope": "read write trust"},
        headers={"Cache-Control": "no-store"},
    )


def _basic_client(request: Request) -> str:
    scheme, _, encoded = request.headers.get("authorization", "").partition(" ")
    try:
        client_id, _, secret = base64.b64decode(encoded, validate=True).decode("utf-8").partition(":")
    except (binascii.Error, UnicodeDecodeError):
        client_id, secret = "", ""
    client = _state(request).clients.get(client_id)
    if scheme.lower() != "basic" or client is None or not secrets.compare_digest(secret.encode(), client.oauth_secret.encode()):
        raise ValtuudetApiError(401, "unauthorized", "Bad client credentials")
    return client_id


def session_principal_keys(people: Population, session: Session) -> list[str]:
    """Whom the delegate can pick on the page: their children (adult ones too; the rules answer for those)."""
    delegate = people.by_hetu(session.delegate)
    return list(delegate.children) if delegate is not None else []


def _authorize_request(request: Request, client_id: str, redirect_uri: str, user: str, locale: str) -> tuple[str, Session] | Response:
    """The registered session behind an authorize request, or the error page (never a redirect to an unchecked URI)."""
    parts = urlsplit(redirect_uri)
    if client_id not in _state(request).clients or parts.scheme not in ("http", "https") or not parts.netloc:
        return _message(request, 400, "client", locale)
    found = _state(request).by_user(user)
    if found is None or found[1].client_id != client_id:
        return _message(request, 400, "session", locale)
    return found


def _back(redirect_uri: str, params: dict[str, str | None]) -> str:
    query = urlencode({key: value for key, value in params.items() if value is not None})
    return f"{redirect_uri}{'&' if urlsplit(redirect_uri).query else '?'}{query}"


def _page(request: Request, session: Session, locale: str, *, error: bool = False, **fields: str | None) -> HTMLResponse:
    people = _state(request).people
    today = helsinki_today()
    options = [(people[key], people[key].age_on(today)) for key in session_principal_keys(people, session)]
    delegate = people.by_hetu(session.delegate)
    context = {
        "locale": locale,
        "options": options,
        "delegate": delegate.display_name if delegate else "",
        "form_token": session.form_token,
        "fields": fields,
        "error": error,
        "t": TEXTS[locale],
    }
    return TEMPLATES.TemplateResponse(request, "authorize.html", context, status_code=400 if error else 200, headers={"Cache-Control": "no-store"})


def _message(request: Request, status: int, kind: str, locale: str) -> HTMLResponse:
    return TEMPLATES.TemplateResponse(request, "message.html", {"kind": kind, "locale": locale, "t": TEXTS[locale]}, status_code=status)
