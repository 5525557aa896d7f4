"""The citizen e-service: apply for a library card after Suomi.fi e-Identification.

Server-rendered (FastAPI + Jinja2), no JavaScript, Finnish first with Swedish and English.
Pages: start → Suomi.fi login (SAML 2.0 Web SSO, ``connectors.suomifi_tunnistus``) → who the
card is for (a guardian may apply for a child under 15) → the form (identity from the
population register, read-only; home library from Koha; contact details, language,
notification preference, the library rules) → the application is validated into
``schemas.library_card.LibraryCardApplication``, queued (reference: salted hash of the
applicant's hetu) and the flow triggered → the status page. Logout is Suomi.fi single logout.

The pages are routers in ``apps.eservice.routes`` (one per part of the citizen's way); what they
share (services, session, rendering) is ``apps.eservice.pages``.

Run: ``uvicorn apps.eservice.app:create_app --factory`` (see apps/eservice/README.md for the settings).
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.sessions import SessionMiddleware

from apps.eservice.i18n import load_catalog
from apps.eservice.libraries import LibrariesUnavailableError, LibraryDirectory
from apps.eservice.login import SuomiFiLogin
from apps.eservice.pages import Services, message, services_of
from apps.eservice.routes import ROUTERS
from apps.eservice.sessions import SessionStore
from apps.eservice.settings import EserviceSettings
from apps.eservice.trigger import Trigger, trigger_from_settings
from apps.eservice.web import PageError, Urls
from connectors.koha import KohaClient
from kuntaflow.settings import KuntaflowSettings
from kuntaflow.workitems import QueueUnavailableError, WorkQueue
from schemas.redaction import install as install_redaction

logger = logging.getLogger("eservice")
HERE = Path(__file__).parent


def create_app(
    settings: EserviceSettings | None = None,
    *,
    engine_settings: KuntaflowSettings | None = None,
    queue: WorkQueue | None = None,
    login: SuomiFiLogin | None = None,
    libraries: LibraryDirectory | None = None,
    trigger: Trigger | None = None,
) -> FastAPI:
    """Build the e-service.

    Every collaborator can be passed in (tests, ``kuntaflow run``); by default each comes from
    its settings: the queue from ``KUNTAFLOW_*``, Suomi.fi from ``KUNTAFLOW_SUOMIFI_*``, Koha from
    ``KUNTAFLOW_KOHA_*``, the trigger from ``KUNTAFLOW_ESERVICE_TRIGGER``.

    Args:
        settings: ``KUNTAFLOW_ESERVICE_*``; engine_settings: ``KUNTAFLOW_*`` (data dir, salt).
        queue: the work-item queue (closed at shutdown only when built here).
        login: Suomi.fi login, and Suomi.fi Valtuudet for guardians.
        libraries: the home-library list (Koha).
        trigger: called with each newly queued work item to start the flow at once.
    """
    install_redaction()
    settings = settings or EserviceSettings()
    engine = engine_settings or KuntaflowSettings()
    secret = settings.resolved_secret_key(engine)
    owns_queue = queue is None
    queue = queue or engine.work_queue()
    services = Services(
        settings=settings,
        engine=engine,
        queue=queue,
        sessions=SessionStore(settings.resolved_session_database_url(engine), secret),
        libraries=libraries if libraries is not None else LibraryDirectory(KohaClient, ttl_seconds=settings.libraries_cache_seconds),
        login=login or SuomiFiLogin.from_settings(settings.base_url, settings.resolved_valtuudet()),
        trigger=trigger if trigger is not None else trigger_from_settings(settings.trigger, settings.deployment_name, queue),
        salt=engine.salt(),
        catalog=load_catalog(),
        templates=Jinja2Templates(directory=str(HERE / "templates")),
        urls=Urls(settings.root_path),
    )

    app = FastAPI(title="Kuntaflow e-service", docs_url=None, redoc_url=None, openapi_url=None, lifespan=_lifespan)
    app.state.services = services
    app.state.owns_queue = owns_queue
    app.add_middleware(
        SessionMiddleware,
        secret_key=secret.get_secret_value(),
        session_cookie=settings.session_cookie,
        max_age=None,  # a browser-session cookie; the server-side session has its own idle timeout
        path=settings.root_path or "/",
        same_site="lax",
        https_only=settings.secure_cookies,
    )
    app.middleware("http")(_security_headers(services))
    app.mount("/static", StaticFiles(directory=str(HERE / "static")), name="static")
    for error, handler in ERROR_PAGES:
        app.add_exception_handler(error, handler)
    for router in ROUTERS:
        app.include_router(router)
    return app


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    """At shutdown: close the sessions' database, and the queue when the app built it."""
    yield
    app.state.services.sessions.dispose()
    if app.state.owns_queue:
        app.state.services.queue.close()


# --------------------------------------------------------------------------- cross-cutting


def _security_headers(services: Services):
    idp_origins = " ".join(services.login.idp_origins())
    form_action = f"form-action 'self' {' '.join(services.login.form_targets())}".strip()

    async def add_headers(request: Request, call_next):
        response = await call_next(request)
        # The IdP runs single logout in an iframe on its own page: only the SLO endpoint may be framed, and only by the IdP.
        ancestors = f"frame-ancestors {idp_origins}" if request.url.path.endswith("/saml/slo") and idp_origins else "frame-ancestors 'none'"
        response.headers.setdefault(
            "Content-Security-Policy",
            f"default-src 'self'; script-src 'self'; object-src 'none'; base-uri 'none'; img-src 'self' data:; {form_action}; {ancestors}",
        )
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        if not request.url.path.startswith("/static"):
            response.headers.setdefault("Cache-Control", "no-store")  # pages hold personal data
        return response

    return add_headers


# --------------------------------------------------------------------------- error pages


def _page_error(request: Request, error: Exception) -> HTMLResponse:
    assert isinstance(error, PageError)
    return message(request, f"error_{error.key}", error.status_code, action_url=error.action_url, action_key=error.action_key)


def _http_error(request: Request, error: Exception) -> HTMLResponse:
    assert isinstance(error, StarletteHTTPException)
    if error.status_code in (404, 405):
        return message(request, "error_not_found", error.status_code)
    return message(request, "error", error.status_code)


def _queue_down(request: Request, error: Exception) -> HTMLResponse:
    logger.error("The work-item queue is unavailable: %s", error)
    return message(request, "error_unavailable", 503, action_url=services_of(request).urls("start"), action_key="try_again")


def _koha_down(request: Request, error: Exception) -> HTMLResponse:
    logger.error("%s", error)
    return message(request, "error_unavailable", 503, action_url=services_of(request).urls("apply"), action_key="try_again")


def _unexpected(request: Request, error: Exception) -> HTMLResponse:
    # The traceback goes to the log through the redaction filter; the page says nothing of it.
    logger.error("Unexpected error on %s %s", request.method, request.url.path, exc_info=error)  # a thread without sys.exc_info
    return message(request, "error", 500)


#: Every error a page may raise, and the page it shows instead.
ERROR_PAGES = (
    (PageError, _page_error),
    (StarletteHTTPException, _http_error),
    (QueueUnavailableError, _queue_down),
    (LibrariesUnavailableError, _koha_down),
    (Exception, _unexpected),
)
