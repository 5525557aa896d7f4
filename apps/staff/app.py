"""Kuntaflow Desk, the staff app (FastAPI, server-rendered, no JavaScript): ``create_app`` puts it together.

- sign-in with the city's OpenID Connect provider (``apps.staff.signin``) and the access
  dependencies every Desk view uses (``apps.staff.access``: ``require_member``,
  ``ensure_may_handle``, ``require_administrator``);
- the supervisors' confirmation links (``apps.staff.confirmation``, no sign-in: the link is the key);
- the language switch ``/kieli/{fi,sv,en}?seuraava=<page>``, kept in the signed session cookie;
- error pages in the person's language (403 says why: not one's process, not an administrator,
  a stale form); a page that needs sign-in sends the person to ``/kirjaudu`` and back.

The session cookie is signed (``KUNTAFLOW_STAFF_SECRET_KEY`` or a key generated once into the data
directory), ``SameSite=Lax``, ``Secure`` when the public address is https, and lasts a working day.
The Desk's own pages (``apps.staff.desk``: the dashboard, the list, a case and its actions, the
access log) are always included; more pages come in through ``create_app(routers=…)``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from urllib.parse import urlsplit

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.sessions import SessionMiddleware

from apps.i18n import remember_language
from apps.staff.access import SignInRequiredError, sign_in_url
from apps.staff.confirmation import confirmation
from apps.staff.desk import ROUTERS as DESK_ROUTERS
from apps.staff.desk.pages import STATIC as DESK_STATIC
from apps.staff.desk.pages import build_desk
from apps.staff.pages import page, staff_catalog, staff_templates, translator
from apps.staff.settings import StaffSettings
from apps.staff.signin import build_oauth, signin
from connectors.oidc import OidcSettings
from kuntaflow.settings import KuntaflowSettings
from kuntaflow.workitems import WorkQueue
from processes.employment_start.confirmation import EmploymentStartSettings
from schemas.web_address import same_site_path


def create_app(
    settings: EmploymentStartSettings | None = None,
    *,
    queue_factory: Callable[[], WorkQueue] | None = None,
    staff_settings: StaffSettings | None = None,
    oidc_settings: OidcSettings | None = None,
    engine_settings: KuntaflowSettings | None = None,
    routers: Sequence[APIRouter] = (),
) -> FastAPI:
    """The staff app.

    Args:
        settings: the confirmation links' settings (``KUNTAFLOW_EMPLOYMENT_START_*``).
        queue_factory: opens the work-item queue for a request; the engine settings' queue by default.
        staff_settings: address, session secret, roles (``KUNTAFLOW_STAFF_*``).
        oidc_settings: the identity provider staff sign in with (``KUNTAFLOW_OIDC_*``).
        engine_settings: ``KUNTAFLOW_*`` (the queue, Prefect's address for flow-run links, the robots' logs).
        routers: more pages, included after sign-in and the confirmation links.
    """
    staff = staff_settings or StaffSettings()
    oidc = oidc_settings or OidcSettings()
    app = FastAPI(title="Kuntaflow Desk", docs_url=None, redoc_url=None, openapi_url=None, lifespan=_lifespan)
    app.state.link_settings = settings or EmploymentStartSettings()
    # The engine's settings are read when a request needs them, unless given: they follow the environment.
    app.state.open_queue = queue_factory or (lambda: (engine_settings or KuntaflowSettings()).work_queue())
    app.state.staff_settings = staff
    app.state.oidc_settings = oidc
    app.state.oauth = build_oauth(oidc)
    app.state.catalog = staff_catalog()
    app.state.templates = staff_templates()
    app.state.desk = build_desk(app.state.open_queue, engine_settings, app.state.templates)
    app.add_middleware(
        SessionMiddleware,
        secret_key=staff.resolved_secret_key().get_secret_value(),
        session_cookie=staff.session_cookie,
        max_age=staff.session_hours * 3600,
        same_site="lax",  # the provider's redirect back to the callback is a top-level GET: Lax sends the cookie
        https_only=staff.secure_cookies,
    )
    app.middleware("http")(_security_headers(oidc))
    app.mount("/static", StaticFiles(directory=str(Path(__file__).parent / "static")), name="static")
    app.mount("/desk-static", StaticFiles(directory=str(DESK_STATIC)), name="desk-static")
    app.add_exception_handler(SignInRequiredError, _to_sign_in)
    app.add_exception_handler(StarletteHTTPException, _error_page)
    for router in (language, signin, confirmation, *DESK_ROUTERS, *routers):
        app.include_router(router)
    return app


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    """Hold the queue's database while serving: each request's queue then reuses the pooled connections
    (the shared engine closes its pool when its last holder closes)."""
    with app.state.open_queue():
        yield


def _security_headers(oidc: OidcSettings):
    """No scripts, no framing, forms only to this app and the provider (sign-out's redirect goes there), nothing cached."""
    provider = urlsplit(oidc.issuer)
    policy = (
        "default-src 'self'; script-src 'none'; object-src 'none'; base-uri 'none'; img-src 'self' data:; "
        f"form-action 'self' {provider.scheme}://{provider.netloc}; frame-ancestors 'none'"
    )

    async def add_headers(request: Request, call_next):
        response = await call_next(request)
        response.headers.setdefault("Content-Security-Policy", policy)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")  # a confirmation link's token must not leak to other sites
        if not request.url.path.startswith(("/static", "/desk-static")):
            response.headers.setdefault("Cache-Control", "no-store")  # pages hold personal data
        return response

    return add_headers


def _to_sign_in(request: Request, error: Exception) -> RedirectResponse:
    assert isinstance(error, SignInRequiredError)
    return RedirectResponse(sign_in_url(error.next_path), status_code=303)


#: The page shown for each refusal (``HTTPException.detail`` a key of the staff texts).
_ERROR_KEYS = {403: "error_forbidden", 404: "error_not_found", 405: "error_not_found"}


def _error_page(request: Request, error: Exception) -> HTMLResponse:
    assert isinstance(error, StarletteHTTPException)
    t = translator(request)
    title_key = _ERROR_KEYS.get(error.status_code, "error")
    detail = f"error_{error.detail}" if isinstance(error.detail, str) else ""
    text_key = detail if detail in t.texts else f"{title_key}_text"
    return page(request, f"{title_key}_title", text_key, status=error.status_code)


language = APIRouter()


@language.get("/kieli/{code}")
def choose_language(request: Request, code: str, seuraava: str | None = None) -> RedirectResponse:
    """The language switch: remember the language, back to the same page."""
    if not remember_language(request, code):
        raise StarletteHTTPException(status_code=404)
    return RedirectResponse(same_site_path(seuraava), status_code=303)
