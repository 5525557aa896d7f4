"""FastAPI app of the sandbox Suomi.fi e-Identification IdP.

Endpoints, under the sandbox's base URL (``KUNTAFLOW_SUOMIFI_SANDBOX_IDP_URL``, by default
http://127.0.0.1:8080/suomifi_tunnistus as ``kuntaflow sandbox`` mounts it), laid out like
Suomi.fi's (shared/specs/suomifi/tunnistus):

- ``GET /static/metadata/idp-metadata.xml``: the IdP metadata the SP trusts;
- ``GET|POST /idp/profile/SAML2/{Redirect,POST}/SSO``: verifies the signed AuthnRequest and shows
  the test-person picker; ``POST /idp/login`` answers the SP's ACS with a signed, AES-GCM
  encrypted assertion through an auto-submitting form (with a visible button without JavaScript);
- ``GET /idp/profile/SAML2/Redirect/SLO``: the SP's LogoutRequest (answered with a signed
  LogoutResponse) or the SP's LogoutResponse to an IdP-initiated logout; ``POST …/POST/SLO``: an
  XML-signed LogoutRequest (answered over Redirect);
- ``POST /_sandbox/sessions/{id}/logout``: starts an IdP-initiated logout the way Suomi.fi does,
  in an iframe on the IdP's page;
- ``GET /persons``, ``GET /persons/{key}/children``: the test persons and who is whose guardian,
  for a person to look at (an e-service asks Suomi.fi Valtuudet, ``connectors/suomifi_valtuudet``).

The people are :func:`connectors.sandbox_people.sandbox_population` (named ones and a generated
population, shared with the Messages and Koha sandboxes). The picker lists the named ones and has
a box for any other person's key (``p0042``); a script posts ``person=<key>`` to ``/idp/login``.
"""

from __future__ import annotations

import secrets
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import parse_qs

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from pydantic import BaseModel, ConfigDict, Field
from pydantic_settings import BaseSettings, SettingsConfigDict
from saml2.samlp import STATUS_AUTHN_FAILED
from starlette.concurrency import run_in_threadpool

from connectors.sandbox_people import Population, SandboxPerson, sandbox_population
from connectors.sandbox_support import FaultSpec, install_faults
from connectors.suomifi_tunnistus.keys import KeyPair
from connectors.suomifi_tunnistus.metadata import build_sp_metadata, sandbox_idp_keys
from connectors.suomifi_tunnistus.models import Child, ChildAddress
from connectors.suomifi_tunnistus.sandbox.idp import AuthnRequestInfo, TestIdP
from connectors.suomifi_tunnistus.settings import SuomiFiSettings
from schemas.hetu import helsinki_today

T = TypeVar("T")

TEMPLATES = Jinja2Templates(directory=Path(__file__).parent / "templates")
LOGIN_TTL = timedelta(minutes=15)
MAX_PENDING = 1000
MAX_SESSIONS = 1000
MAX_FORM_BYTES = 512 * 1024
OTHER_PERSON = "_other"  # the picker's "someone else, by key" choice


class SuomiFiSandboxSettings(BaseSettings):
    """Which SPs the sandbox IdP serves (env prefix ``KUNTAFLOW_SUOMIFI_SANDBOX_``)."""

    model_config = SettingsConfigDict(env_prefix="KUNTAFLOW_SUOMIFI_SANDBOX_", extra="ignore")

    sp_metadata_files: list[Path] = Field(default_factory=list, description="Metadata files of further SPs to serve (JSON list of paths).")
    serve_configured_sp: bool = Field(
        default=True, description="Serve the SP the KUNTAFLOW_SUOMIFI_* settings describe (the e-service; same data directory, same key)."
    )


@dataclass
class IdpSession:
    """A login the IdP has issued: what single logout needs."""

    id: str
    person_key: str
    sp_entity_id: str
    name_id: str
    session_index: str | None
    started: datetime


@dataclass
class SandboxState:
    """The sandbox IdP's memory: logins awaiting a person, live sessions, logout outcomes."""

    idp: TestIdP
    people: Population
    pending: dict[str, tuple[AuthnRequestInfo, datetime]] = field(default_factory=dict)
    sessions: dict[str, IdpSession] = field(default_factory=dict)
    logouts: list[tuple[str, bool]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    saml: threading.Lock = field(default_factory=threading.Lock)  # pysaml2's IdP, one message at a time (see _off_the_loop)

    def remember_login(self, info: AuthnRequestInfo) -> str:
        token = secrets.token_urlsafe(24)
        now = datetime.now(UTC)
        with self.lock:
            for stale in [key for key, (_, at) in self.pending.items() if now - at > LOGIN_TTL]:
                del self.pending[stale]
            if len(self.pending) >= MAX_PENDING:
                self.pending.pop(next(iter(self.pending)))
            self.pending[token] = (info, now)
        return token

    def take_login(self, token: str) -> AuthnRequestInfo | None:
        with self.lock:
            found = self.pending.pop(token, None)
        if found is None or datetime.now(UTC) - found[1] > LOGIN_TTL:
            return None
        return found[0]

    def end_sessions(self, sp_entity_id: str, name_id: str) -> int:
        with self.lock:
            ended = [key for key, session in self.sessions.items() if session.sp_entity_id == sp_entity_id and session.name_id == name_id]
            for key in ended:
                del self.sessions[key]
        return len(ended)


class PersonSummary(BaseModel):
    """A test person without the hetu: what the index and ``GET /persons`` show."""

    model_config = ConfigDict(frozen=True)

    key: str
    display_name: str
    age: int
    eidas: bool
    non_disclosure: bool
    has_email: bool
    messages_mailbox: bool
    guardians: list[str]
    children: list[str]
    description: dict[str, str]


def summary(person: SandboxPerson, today: date, people: Population) -> PersonSummary:
    return PersonSummary(
        key=person.key,
        display_name=person.display_name,
        age=person.age_on(today),
        eidas=person.hetu is None,
        non_disclosure=person.non_disclosure,
        has_email=person.email is not None,
        messages_mailbox=person.messages_mailbox,
        guardians=[guardian.key for guardian in people.guardians_of(person.key)],
        children=list(person.children),
        description=person.description,
    )


def children_of(person: SandboxPerson, today: date, people: Population) -> list[Child]:
    found = []
    for child in people.children_of(person.key):
        assert child.hetu is not None  # children in the seed are Finnish residents
        address = child.address if not child.non_disclosure else None
        found.append(
            Child(
                key=child.key,
                hetu=child.hetu,
                first_names=child.first_names,
                surname=child.surname,
                birth_date=child.birth_date,
                age=child.age_on(today),
                home_municipality_number=child.municipality.number if child.municipality and not child.non_disclosure else None,
                home_municipality=child.municipality.name_fi if child.municipality and not child.non_disclosure else None,
                permanent_address=ChildAddress(street_address=address.street_fi, postal_code=address.postal_code, post_office=address.post_office_fi)
                if address
                else None,
                non_disclosure=child.non_disclosure,
            )
        )
    return found


def configured_sp_metadata() -> str:
    """The SP metadata of the e-service as ``KUNTAFLOW_SUOMIFI_*`` describes it (same key pair)."""
    settings = SuomiFiSettings()
    return build_sp_metadata(settings, settings.key_pair().certificate_base64())


def create_app(
    idp: TestIdP | None = None,
    *,
    sp_metadata: Iterable[str] | None = None,
    signing_keys: Iterable[KeyPair] | None = None,
    base_url: str | None = None,
    faults: FaultSpec | None = None,
    people: Population | None = None,
) -> FastAPI:
    """Build the sandbox IdP app.

    Args:
        idp: a ready IdP (tests); otherwise one is built from the arguments below.
        sp_metadata: the SPs' metadata XML; by default the configured e-service's plus
            ``KUNTAFLOW_SUOMIFI_SANDBOX_SP_METADATA_FILES``.
        signing_keys: the IdP's pairs; by default the sandbox pairs in the data directory.
        base_url: where the IdP is served; by default ``KUNTAFLOW_SUOMIFI_SANDBOX_IDP_URL``.
        faults: fault injection; by default from ``KUNTAFLOW_SANDBOX_FAULT_*``.
        people: who can log in; by default ``sandbox_population()`` (``KUNTAFLOW_SANDBOX_POPULATION_*``).
    """
    if idp is None:
        if sp_metadata is None:
            options = SuomiFiSandboxSettings()
            documents = [configured_sp_metadata()] if options.serve_configured_sp else []
            documents += [path.read_text(encoding="utf-8") for path in options.sp_metadata_files]
        else:
            documents = list(sp_metadata)
        idp = TestIdP(
            list(signing_keys) if signing_keys is not None else sandbox_idp_keys(),
            documents,
            base_url=base_url or SuomiFiSettings().sandbox_idp_url,
        )
    state = SandboxState(idp, people if people is not None else sandbox_population())
    app = FastAPI(title="Suomi.fi-tunnistus sandbox IdP", description=__doc__, docs_url="/docs")
    app.state.sandbox = state
    install_faults(app, faults)

    app.include_router(pages)
    app.include_router(metadata)
    app.include_router(sso)
    app.include_router(slo)
    app.include_router(persons)
    return app


def _state(request: Request) -> SandboxState:
    return request.app.state.sandbox


# Module-level routers: each route reaches its app's IdP and people through ``request.app.state.sandbox``.
pages = APIRouter()
metadata = APIRouter()
sso = APIRouter()
slo = APIRouter()
persons = APIRouter()


@pages.get("/", response_class=HTMLResponse, name="index")
def index(request: Request) -> HTMLResponse:
    state = _state(request)
    people = state.people
    today = helsinki_today()
    with state.lock:
        sessions = sorted(state.sessions.values(), key=lambda session: session.started)
        logouts = list(state.logouts[-5:])
    return TEMPLATES.TemplateResponse(
        request,
        "index.html",
        {
            "persons": [summary(person, today, people) for person in people.named],
            "generated": people.generated,
            "sessions": sessions,
            "person_names": {person.key: person.display_name for person in people},
            "logouts": logouts,
            "idp": state.idp,
        },
    )


@metadata.get("/static/metadata/idp-metadata.xml", name="metadata")
def idp_metadata(request: Request) -> Response:
    return Response(_state(request).idp.metadata_xml, media_type="application/samlmetadata+xml")


@sso.get("/idp/profile/SAML2/Redirect/SSO", response_class=HTMLResponse, name="sso_redirect")
def sso_redirect(request: Request) -> HTMLResponse:
    state = _state(request)
    try:
        info = state.idp.parse_authn_request(request.url.query)
    except ValueError as error:
        return _refused_authn_request(request, error)
    return _picker(request, state, info)


@sso.post("/idp/profile/SAML2/POST/SSO", response_class=HTMLResponse, name="sso_post")
async def sso_post(request: Request) -> HTMLResponse:
    state = _state(request)
    form = await _form(request)
    try:
        info = await _off_the_loop(state, state.idp.parse_authn_request_post, form.get("SAMLRequest", ""), form.get("RelayState"))
    except ValueError as error:
        return _refused_authn_request(request, error)
    return _picker(request, state, info)


@sso.post("/idp/login", response_class=HTMLResponse, name="login")
async def login(request: Request) -> HTMLResponse:
    state = _state(request)
    people = state.people
    form = await _form(request)
    info = state.take_login(form.get("login", ""))
    if info is None:
        return _message(
            request, 400, "Tunnistus on vanhentunut", "Identifieringen har gått ut", "The identification has expired", "Start again from the e-service."
        )
    if form.get("action") == "cancel":
        cancelled = "The user cancelled the identification"
        response = await _off_the_loop(state, state.idp.error_response, info.request_id, info.acs_url, STATUS_AUTHN_FAILED, cancelled)
        return _post_to_sp(request, info.acs_url, "SAMLResponse", response, info.relay_state)
    chosen = form.get("person", "")
    if chosen == OTHER_PERSON:
        chosen = form.get("person_key", "").strip().lower()
    person = people.get(chosen)
    if person is None:
        token = state.remember_login(info)
        return _picker(request, state, info, token=token, error=True)
    issued = await _off_the_loop(state, state.idp.login, person, info.request_id, sp_entity_id=info.issuer, acs_url=info.acs_url)
    with state.lock:
        session_id = secrets.token_urlsafe(12)
        if len(state.sessions) >= MAX_SESSIONS:  # the oldest goes: a sandbox runs for days
            state.sessions.pop(next(iter(state.sessions)))
        state.sessions[session_id] = IdpSession(session_id, person.key, info.issuer, issued.name_id, issued.session_index, datetime.now(UTC))
    return _post_to_sp(request, info.acs_url, "SAMLResponse", issued.saml_response, info.relay_state)


@slo.get("/idp/profile/SAML2/Redirect/SLO", name="slo_redirect", response_model=None)
def slo_redirect(request: Request) -> Response:
    state = _state(request)
    query = request.url.query
    params = parse_qs(query)
    if "SAMLResponse" in params:
        try:
            in_response_to, success = state.idp.parse_logout_response(query)
        except ValueError as error:
            return _message(request, 400, "Uloskirjautumisen vastaus hylättiin", "Utloggningssvaret avvisades", "The logout response was refused", str(error))
        with state.lock:
            state.logouts.append((in_response_to or "", success))
            del state.logouts[:-100]
        if success:
            return _message(request, 200, "Uloskirjautuminen onnistui", "Utloggningen lyckades", "Logged out", "")
        return _message(request, 200, "Uloskirjautuminen epäonnistui", "Utloggningen misslyckades", "Logout failed", "")
    try:
        logout = state.idp.parse_logout_request(query)
    except ValueError as error:
        return _message(request, 400, "Uloskirjautumispyyntö hylättiin", "Utloggningsbegäran avvisades", "The logout request was refused", str(error))
    ended = state.end_sessions(logout.issuer, logout.name_id)
    return RedirectResponse(state.idp.logout_response(logout, success=ended > 0), status_code=303)


@slo.post("/idp/profile/SAML2/POST/SLO", name="slo_post", response_model=None)
async def slo_post(request: Request) -> Response:
    state = _state(request)
    form = await _form(request)
    try:
        logout = await _off_the_loop(state, state.idp.parse_logout_request_post, form.get("SAMLRequest", ""), form.get("RelayState"))
    except ValueError as error:
        return _message(request, 400, "Uloskirjautumispyyntö hylättiin", "Utloggningsbegäran avvisades", "The logout request was refused", str(error))
    ended = state.end_sessions(logout.issuer, logout.name_id)
    return RedirectResponse(await _off_the_loop(state, state.idp.logout_response, logout, success=ended > 0), status_code=303)


@slo.post("/_sandbox/sessions/{session_id}/logout", response_class=HTMLResponse, name="idp_logout")
def idp_logout(request: Request, session_id: str) -> HTMLResponse:
    state = _state(request)
    people = state.people
    with state.lock:
        session = state.sessions.pop(session_id, None)
    if session is None:
        return _message(request, 404, "Istuntoa ei löydy", "Sessionen finns inte", "No such session", "")
    _, url = state.idp.logout_request(session.sp_entity_id, session.name_id, session.session_index)
    return TEMPLATES.TemplateResponse(request, "logout.html", {"url": url, "name": people[session.person_key].display_name})


@persons.get("/persons", name="persons")
def list_persons(request: Request) -> list[PersonSummary]:
    people = _state(request).people
    today = helsinki_today()
    return [summary(person, today, people) for person in people]


@persons.get("/persons/{key}/children", name="children", response_model=None)
def children(request: Request, key: str) -> list[Child] | JSONResponse:
    people = _state(request).people
    person = people.get(key)
    if person is None:
        return JSONResponse({"error": "no such test person"}, status_code=404)
    return children_of(person, helsinki_today(), people)


def _picker(request: Request, state: SandboxState, info: AuthnRequestInfo, *, token: str | None = None, error: bool = False) -> HTMLResponse:
    locale = info.locale if info.locale in ("fi", "sv", "en") else "fi"
    today = helsinki_today()
    return TEMPLATES.TemplateResponse(
        request,
        "pick.html",
        {
            "login": token or state.remember_login(info),
            "persons": [(person, person.age_on(today)) for person in state.people.named],
            "generated": len(state.people.generated),
            "other": OTHER_PERSON,
            "locale": locale,
            "sp": info.issuer,
            "error": error,
        },
        status_code=400 if error else 200,
    )


def _refused_authn_request(request: Request, error: ValueError) -> HTMLResponse:
    return _message(request, 400, "Tunnistuspyyntö hylättiin", "Identifieringsbegäran avvisades", "The authentication request was refused", str(error))


def _post_to_sp(request: Request, url: str, name: str, value: str, relay_state: str | None) -> HTMLResponse:
    fields = {name: value}
    if relay_state:
        fields["RelayState"] = relay_state
    return TEMPLATES.TemplateResponse(request, "post.html", {"url": url, "fields": fields}, headers={"Cache-Control": "no-store"})


def _message(request: Request, status: int, fi: str, sv: str, en: str, detail: str) -> HTMLResponse:
    return TEMPLATES.TemplateResponse(request, "message.html", {"fi": fi, "sv": sv, "en": en, "detail": detail}, status_code=status)


async def _off_the_loop(state: SandboxState, work: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Run pysaml2's work for an async route in a worker thread, one message at a time as before.

    Signing, encrypting and checking a message runs xmlsec1 processes: tens of milliseconds, seconds
    on a busy machine. On the event loop that time would hold up every sandbox this server hosts
    (Koha, Suomi.fi Messages, …): robots deciding applications waited up to half a minute for Koha
    and Messages while a burst of citizens signed in (bench/library_card_latency.py).
    """

    def one_at_a_time() -> T:
        with state.saml:
            return work(*args, **kwargs)

    return await run_in_threadpool(one_at_a_time)


async def _form(request: Request) -> dict[str, str]:
    body = bytearray()
    async for chunk in request.stream():
        body.extend(chunk)
        if len(body) > MAX_FORM_BYTES:
            break
    parsed = parse_qs(body[:MAX_FORM_BYTES].decode("utf-8", errors="replace"), keep_blank_values=True)
    return {name: values[0] for name, values in parsed.items()}
