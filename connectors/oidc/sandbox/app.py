"""FastAPI app of the OIDC sandbox: Keycloak's paths under the issuer (``/protocol/openid-connect/…``).

- ``GET /.well-known/openid-configuration`` — discovery;
- ``GET /protocol/openid-connect/auth`` — checks the request and shows the staff picker (fi/sv/en
  by ``ui_locales``, a language switch that keeps the request; no JavaScript); ``POST`` the same
  path signs the chosen person in and redirects to the client with ``code`` and ``state``, or
  with ``error=access_denied`` when the person cancels;
- ``POST /protocol/openid-connect/token`` — the code for tokens (client_secret_basic or _post, PKCE);
- ``GET /protocol/openid-connect/certs`` — the JWKS; ``GET|POST …/userinfo`` — the person (Bearer);
- ``GET /protocol/openid-connect/logout`` — RP-initiated logout (``id_token_hint``,
  ``post_logout_redirect_uri``, ``state``);
- ``GET /_sandbox/staff`` — the people it knows (JSON with ``Accept: application/json``).

Rules and state are :class:`connectors.oidc.sandbox.provider.Provider` (``app.state.provider``).
"""

from __future__ import annotations

import base64
import binascii
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlencode

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from connectors.oidc.sandbox.provider import AuthorizationRequest, OidcError, Provider, RegisteredClient
from connectors.sandbox_support import install_faults

TEMPLATES = Jinja2Templates(directory=Path(__file__).parent / "templates")
LANGUAGES = ("fi", "sv", "en")
#: The authorization request's fields the picker's form carries back.
REQUEST_FIELDS = ("client_id", "redirect_uri", "response_type", "scope", "state", "nonce", "code_challenge", "code_challenge_method", "ui_locales")
MAX_FORM_BYTES = 16 * 1024

TEXTS = {
    "fi": {
        "title": "Kirjaudu kaupungin työntekijänä",
        "intro": "Hiekkalaatikko: valitse henkilö, jona kirjaudut. Oikea tunnistuspalvelu kysyisi tunnuksen ja salasanan.",
        "legend": "Henkilö",
        "groups": "ryhmät",
        "sign_in": "Kirjaudu",
        "cancel": "Peruuta",
        "error_title": "Kirjautumispyyntö ei kelpaa",
        "signed_out_title": "Olet kirjautunut ulos",
        "signed_out": "Kirjautumisesi kaupungin tunnistuspalvelussa on päättynyt. Voit sulkea selaimen.",
        "language": "Kieli",
        "choose_person": "Valitse henkilö.",
    },
    "sv": {
        "title": "Logga in som stadens anställd",
        "intro": "Sandlåda: välj personen du loggar in som. Den riktiga tjänsten skulle fråga användarnamn och lösenord.",
        "legend": "Person",
        "groups": "grupper",
        "sign_in": "Logga in",
        "cancel": "Avbryt",
        "error_title": "Inloggningsbegäran är ogiltig",
        "signed_out_title": "Du har loggat ut",
        "signed_out": "Din inloggning i stadens identifieringstjänst har avslutats. Du kan stänga webbläsaren.",
        "language": "Språk",
        "choose_person": "Välj en person.",
    },
    "en": {
        "title": "Sign in as a city employee",
        "intro": "Sandbox: choose the person you sign in as. The real service would ask for a user name and password.",
        "legend": "Person",
        "groups": "groups",
        "sign_in": "Sign in",
        "cancel": "Cancel",
        "error_title": "The sign-in request is not valid",
        "signed_out_title": "You have signed out",
        "signed_out": "Your session at the city's identity service has ended. You can close the browser.",
        "language": "Language",
        "choose_person": "Choose a person.",
    },
}
ENDONYMS = {"fi": "Suomeksi", "sv": "På svenska", "en": "In English"}


def create_app(provider: Provider | None = None, *, issuer: str | None = None, clients: list[RegisteredClient] | None = None) -> FastAPI:
    """The sandbox provider at ``issuer`` (``KUNTAFLOW_OIDC_ISSUER`` when unset), the staff app registered from ``KUNTAFLOW_OIDC_*``."""
    app = FastAPI(title="OIDC sandbox (staff sign-in)")
    app.state.provider = provider or Provider.from_settings(issuer, clients=clients)
    install_faults(app)
    app.include_router(discovery)
    app.include_router(authorization)
    app.include_router(tokens)
    app.include_router(sandbox_pages)
    return app


def _provider(request: Request) -> Provider:
    return request.app.state.provider


def _language(params: dict[str, str]) -> str:
    for tag in (params.get("ui_locales") or "").split():
        primary = tag.split("-")[0].lower()
        if primary in LANGUAGES:
            return primary
    return "fi"


def _oauth_error(error: OidcError, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"error": error.error, "error_description": error.description}, status_code=error.status, headers=headers)


discovery = APIRouter()


@discovery.get("/.well-known/openid-configuration")
def configuration(request: Request) -> dict[str, Any]:
    return _provider(request).discovery()


@discovery.get("/protocol/openid-connect/certs")
def certs(request: Request) -> dict[str, Any]:
    return _provider(request).jwks()


authorization = APIRouter(prefix="/protocol/openid-connect")


def _picker(request: Request, params: dict[str, str], *, problem: str = "", status: int = 200) -> HTMLResponse:
    language = _language(params)
    switch = [(code, ENDONYMS[code], f"?{urlencode({**params, 'ui_locales': code})}") for code in LANGUAGES]
    return TEMPLATES.TemplateResponse(
        request,
        "pick.html",
        {
            "lang": language,
            "t": TEXTS[language],
            "staff": _provider(request).staff.values(),
            "fields": {name: params[name] for name in REQUEST_FIELDS if params.get(name)},
            "switch": switch,
            "problem": problem,
        },
        status_code=status,
    )


def _message(request: Request, params: dict[str, str], title_key: str, text: str, status: int = 200) -> HTMLResponse:
    language = _language(params)
    values = {"lang": language, "t": TEXTS[language], "title": TEXTS[language][title_key], "text": text}
    return TEMPLATES.TemplateResponse(request, "message.html", values, status_code=status)


def _refusal(request: Request, params: dict[str, str], error: OidcError) -> Response:
    """A bad client or redirect address is shown to the person; any other error goes back to the client."""
    try:
        _provider(request).client_and_redirect(params.get("client_id"), params.get("redirect_uri"))
    except OidcError:
        return _message(request, params, "error_title", error.description, 400)
    back = {"error": error.error, "error_description": error.description, "state": params.get("state")}
    return RedirectResponse(f"{params['redirect_uri']}?{urlencode({k: v for k, v in back.items() if v})}", status_code=302)


@authorization.get("/auth")
def authorize(request: Request) -> Response:
    params = dict(request.query_params)
    try:
        _provider(request).check_request(params)
    except OidcError as error:
        return _refusal(request, params, error)
    return _picker(request, params)


@authorization.post("/auth")
async def sign_in(request: Request) -> Response:
    form = await _small_form(request)
    params = {name: form[name] for name in REQUEST_FIELDS if form.get(name)}
    provider = _provider(request)
    try:
        checked: AuthorizationRequest = provider.check_request(params)
    except OidcError as error:
        return _refusal(request, params, error)
    if form.get("action") == "cancel":
        return _refusal(request, params, OidcError("access_denied", "the person cancelled the sign-in"))
    if form.get("person") not in provider.staff:
        return _picker(request, params, problem=TEXTS[_language(params)]["choose_person"], status=422)
    code = provider.issue_code(checked, form["person"])
    back = {"code": code, "state": checked.state}
    return RedirectResponse(f"{checked.redirect_uri}?{urlencode({k: v for k, v in back.items() if v})}", status_code=302)


@authorization.get("/logout")
def logout(request: Request) -> Response:
    params = dict(request.query_params)
    try:
        target = _provider(request).end_session(params)
    except OidcError as error:
        return _message(request, params, "error_title", error.description, 400)
    if target:
        return RedirectResponse(target, status_code=302)
    return _message(request, params, "signed_out_title", TEXTS[_language(params)]["signed_out"])


tokens = APIRouter(prefix="/protocol/openid-connect")


def _client_credentials(request: Request, form: dict[str, str]) -> tuple[str | None, str | None]:
    """client_secret_basic (RFC 6749 §2.3.1: form-urlencoded id and secret) or client_secret_post."""
    header = request.headers.get("authorization", "")
    if header.lower().startswith("basic "):
        try:
            decoded = base64.b64decode(header[6:], validate=True).decode()
        except (binascii.Error, UnicodeDecodeError):
            return None, None
        client_id, _, secret = decoded.partition(":")
        return unquote(client_id.replace("+", " ")), unquote(secret.replace("+", " "))
    return form.get("client_id"), form.get("client_secret")


@tokens.post("/token")
async def token(request: Request) -> JSONResponse:
    form = await _small_form(request)
    try:
        answer = _provider(request).exchange(form, *_client_credentials(request, form))
    except OidcError as error:
        return _oauth_error(error, {"WWW-Authenticate": 'Basic realm="oidc-sandbox"'} if error.status == 401 else None)
    return JSONResponse(answer, headers={"Cache-Control": "no-store", "Pragma": "no-cache"})


@tokens.api_route("/userinfo", methods=["GET", "POST"])
def userinfo(request: Request) -> JSONResponse:
    header = request.headers.get("authorization", "")
    access_token = header[7:] if header.lower().startswith("bearer ") else None
    try:
        return JSONResponse(_provider(request).userinfo(access_token))
    except OidcError as error:
        return _oauth_error(error, {"WWW-Authenticate": f'Bearer error="{error.error}"'})


sandbox_pages = APIRouter(prefix="/_sandbox")


@sandbox_pages.get("/staff")
def staff(request: Request) -> Response:
    people = _provider(request).staff.values()
    if "application/json" in request.headers.get("accept", ""):
        return JSONResponse([{"key": person.key, **person.claims()} for person in people])
    return TEMPLATES.TemplateResponse(request, "staff.html", {"lang": "en", "t": TEXTS["en"], "staff": people})


async def _small_form(request: Request) -> dict[str, str]:
    """The urlencoded body as ``{name: value}``; larger than the form could be is refused as empty."""
    body = await request.body()
    if len(body) > MAX_FORM_BYTES:
        return {}
    form = await request.form()
    return {name: value for name, value in form.items() if isinstance(value, str)}
