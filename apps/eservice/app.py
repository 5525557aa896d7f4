"""The citizen e-service: apply for a library card after Suomi.fi e-Identification.

Server-rendered (FastAPI + Jinja2), no JavaScript, Finnish first with Swedish and English.
Pages: start → Suomi.fi login (SAML 2.0 Web SSO, ``connectors.suomifi_tunnistus``) → who the
card is for (a guardian may apply for a child under 15) → the form (identity from the
population register, read-only; home library from Koha; contact details, language,
notification preference, the library rules) → the application is validated into
``schemas.library_card.LibraryCardApplication``, queued (reference: salted hash of the
applicant's hetu) and the flow triggered → the status page. Logout is Suomi.fi single logout.

Run: ``uvicorn apps.eservice.app:create_app --factory`` (see apps/eservice/README.md for the settings).
"""

from __future__ import annotations

import logging
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from pydantic import SecretStr, ValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.sessions import SessionMiddleware

from apps.eservice.i18n import LANGUAGE_NAMES, LANGUAGES, Catalog, Translator, load_catalog
from apps.eservice.libraries import LibrariesUnavailableError, LibraryDirectory
from apps.eservice.login import LoginError, LoginResult, SuomiFiLogin
from apps.eservice.people import masked_hetu, person_reference
from apps.eservice.sessions import Kind, SessionStore, new_token
from apps.eservice.settings import EserviceSettings
from apps.eservice.status import Phase, StatusView, describe
from apps.eservice.trigger import Trigger, fire, trigger_from_settings
from apps.eservice.web import PageError, SamlForm, SmallForm, Urls, check_csrf, language_of, page_context, safe_next
from kuntaflow.settings import KuntaflowSettings
from kuntaflow.workitems import QueueUnavailableError, WorkItem, WorkQueue
from schemas.hetu import helsinki_today
from schemas.library_card import (
    ERROR_MESSAGES,
    INDEPENDENT_AGE,
    PROCESS,
    Language,
    LibraryCardApplication,
    NotificationPreference,
    VerifiedPerson,
    describe_errors,
)
from schemas.redaction import install as install_redaction

logger = logging.getLogger("eservice")
HERE = Path(__file__).parent

#: Where each form field's error points in the error summary (the first control of a group).
FIELD_TARGETS = {
    "home_library": "home_library",
    "email": "email",
    "phone": "phone",
    "language": "language-fi",
    "notification_preference": "notification_preference-suomifi",
    "rules_accepted": "rules_accepted",
}
#: Errors the model raises about the whole application, shown at the field they concern.
CODE_FIELDS = {"email_missing_for_preference": "email"}
FORM_FIELDS = ("home_library", "email", "phone", "language", "notification_preference", "rules_accepted")


@dataclass
class Services:
    """Everything the pages use; built once per app by :func:`create_app`."""

    settings: EserviceSettings
    engine: KuntaflowSettings
    queue: WorkQueue
    sessions: SessionStore
    libraries: LibraryDirectory
    login: SuomiFiLogin
    trigger: Trigger
    salt: SecretStr
    catalog: Catalog
    templates: Jinja2Templates
    urls: Urls

    def translator(self, request: Request) -> Translator:
        return self.catalog.translator(language_of(request))


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
        login: Suomi.fi login and the guardianship lookup.
        libraries: the home-library list (Koha).
        trigger: called with each newly queued work item to start the flow at once.
    """
    install_redaction()
    settings = settings or EserviceSettings()
    engine = engine_settings or KuntaflowSettings()
    own_queue = queue is None
    queue = queue or engine.work_queue()
    secret = settings.resolved_secret_key(engine)
    sessions = SessionStore(settings.resolved_session_database_url(engine), secret)
    if libraries is None:
        from connectors.koha import KohaClient  # noqa: PLC0415 (the Koha client is built only when no library list is given, as in the tests)

        libraries = LibraryDirectory(KohaClient, ttl_seconds=settings.libraries_cache_seconds)
    urls = Urls(settings.root_path)
    services = Services(
        settings=settings,
        engine=engine,
        queue=queue,
        sessions=sessions,
        libraries=libraries,
        login=login or SuomiFiLogin.from_settings(settings.base_url, settings.resolved_guardianship_url()),
        trigger=trigger if trigger is not None else trigger_from_settings(settings.trigger, settings.deployment_name),
        salt=engine.salt(),
        catalog=load_catalog(),
        templates=Jinja2Templates(directory=str(HERE / "templates")),
        urls=urls,
    )

    @asynccontextmanager
    async def lifespan(_app: FastAPI):
        yield
        sessions.dispose()
        if own_queue:
            queue.close()

    app = FastAPI(title="Kuntaflow e-service", docs_url=None, redoc_url=None, openapi_url=None, lifespan=lifespan)
    app.state.services = services
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
    _add_error_handlers(app, services)
    _add_routes(app, services)
    return app


# --------------------------------------------------------------------------- cross-cutting


def _security_headers(services: Services):
    idp_origins = " ".join(services.login.idp_origins())
    form_action = f"form-action 'self' {idp_origins}".strip()

    async def add_headers(request: Request, call_next):
        response = await call_next(request)
        # The IdP runs single logout in an iframe on its own page: only the SLO endpoint may be framed, and only by the IdP.
        ancestors = f"frame-ancestors {idp_origins}" if request.url.path.endswith("/saml/slo") and idp_origins else "frame-ancestors 'none'"
        response.headers.setdefault(
            "Content-Security-Policy",
            f"default-src 'self'; script-src 'none'; object-src 'none'; base-uri 'none'; img-src 'self' data:; {form_action}; {ancestors}",
        )
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        if not request.url.path.startswith("/static"):
            response.headers.setdefault("Cache-Control", "no-store")  # pages hold personal data
        return response

    return add_headers


def _render(services: Services, request: Request, template: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    t = services.translator(request)
    session = _current_session(services, request, extend=False)
    values = page_context(request, t, services.urls, **context)
    if session is not None:
        person = VerifiedPerson.model_validate(session[1]["person"])
        values["user_name"] = f"{person.first_names} {person.surname}"
    return services.templates.TemplateResponse(request, template, values, status_code=status_code)


def _message(services: Services, request: Request, key: str, status_code: int, *, action_url: str | None = None, action_key: str | None = None) -> HTMLResponse:
    t = services.translator(request)
    return _render(
        services,
        request,
        "message.html",
        status_code=status_code,
        title=t(f"{key}_title"),
        paragraphs=[t(f"{key}_text")],
        action_url=action_url,
        action_text=t(action_key) if action_key else None,
        show_start_link=True,
    )


def _add_error_handlers(app: FastAPI, services: Services) -> None:
    urls = services.urls

    @app.exception_handler(PageError)
    def page_error(request: Request, error: PageError) -> HTMLResponse:
        return _message(services, request, f"error_{error.key}", error.status_code, action_url=error.action_url, action_key=error.action_key)

    @app.exception_handler(StarletteHTTPException)
    def http_error(request: Request, error: StarletteHTTPException) -> HTMLResponse:
        if error.status_code == 404:
            return _message(services, request, "error_not_found", 404)
        if error.status_code == 405:
            return _message(services, request, "error_not_found", 405)
        return _message(services, request, "error", error.status_code)

    @app.exception_handler(QueueUnavailableError)
    def queue_down(request: Request, error: QueueUnavailableError) -> HTMLResponse:
        logger.error("The work-item queue is unavailable: %s", error)
        return _message(services, request, "error_unavailable", 503, action_url=urls("start"), action_key="try_again")

    @app.exception_handler(LibrariesUnavailableError)
    def koha_down(request: Request, error: LibrariesUnavailableError) -> HTMLResponse:
        logger.error("%s", error)
        return _message(services, request, "error_unavailable", 503, action_url=urls("apply"), action_key="try_again")

    @app.exception_handler(Exception)
    def unexpected(request: Request, error: Exception) -> HTMLResponse:
        # The traceback goes to the log through the redaction filter; the page says nothing of it.
        logger.error("Unexpected error on %s %s", request.method, request.url.path, exc_info=error)  # a thread without sys.exc_info
        return _message(services, request, "error", 500)


# --------------------------------------------------------------------------- sessions


def _current_session(services: Services, request: Request, *, extend: bool = True) -> tuple[str, dict[str, Any]] | None:
    token = request.session.get("sid")
    if not isinstance(token, str):
        return None
    idle = timedelta(minutes=services.settings.session_idle_minutes)
    data = services.sessions.load(Kind.SESSION, token, extend=idle if extend else None)
    if data is None:
        request.session.pop("sid", None)
        return None
    return token, data


def _require_session(services: Services, request: Request) -> tuple[str, dict[str, Any]]:
    session = _current_session(services, request)
    if session is None:
        raise PageError(401, "session", action_url=services.urls("start"), action_key="start_login_button")
    return session


def _people(data: dict[str, Any]) -> tuple[VerifiedPerson, list[VerifiedPerson]]:
    return VerifiedPerson.model_validate(data["person"]), [VerifiedPerson.model_validate(w) for w in data.get("wards", [])]


def _applicant(data: dict[str, Any]) -> tuple[VerifiedPerson, VerifiedPerson | None]:
    """(the person the card is for, the guardian applying for them or None)."""
    person, wards = _people(data)
    chosen = data.get("applying_for")
    if isinstance(chosen, int) and 0 <= chosen < len(wards):
        return wards[chosen], person
    return person, None


def _existing(services: Services, person: VerifiedPerson) -> WorkItem | None:
    return services.queue.find(PROCESS, person_reference(person, services.salt))


def _show_person(person: VerifiedPerson, t: Translator) -> dict[str, Any]:
    born = person.birth_date
    return {
        "first_names": person.first_names,
        "surname": person.surname,
        "masked_hetu": masked_hetu(person.hetu),
        "birth_date": t("date_format", day=born.day, month=born.month, year=born.year),
        "address": person.permanent_address,
        "non_disclosure": person.non_disclosure,
        "municipality": person.home_municipality,
    }


# --------------------------------------------------------------------------- routes


def _add_routes(app: FastAPI, services: Services) -> None:
    urls = services.urls
    settings = services.settings

    def redirect(url: str) -> RedirectResponse:
        return RedirectResponse(url, status_code=303)

    @app.get("/", name="start")
    def start(request: Request) -> HTMLResponse:
        return _render(services, request, "start.html")

    @app.get("/language/{code}", name="language")
    def language(request: Request, code: str, next: str | None = None) -> RedirectResponse:
        try:
            request.session["lang"] = Language(code).value
        except ValueError:
            raise PageError(404, "not_found") from None
        return redirect(safe_next(next, settings.root_path))

    # ------------------------------------------------------------------ Suomi.fi login

    @app.post("/login", name="login")
    def login_start(request: Request, form: SmallForm) -> RedirectResponse:
        check_csrf(request, form)
        relay_state = new_token()
        language = language_of(request)
        request_id, location = services.login.start(relay_state=relay_state, language=language)
        services.sessions.create(
            Kind.LOGIN,
            {"request_id": request_id},
            ttl=timedelta(minutes=settings.login_timeout_minutes),
            token=relay_state,
        )
        request.session["login"] = relay_state
        return redirect(location)

    @app.post("/saml/acs", name="acs")
    def assertion_consumer(request: Request, form: SamlForm) -> RedirectResponse:
        """The IdP's cross-site POST: no cookie comes with it (SameSite=Lax), so the outstanding
        request is found by RelayState, used once, and the result waits for the browser's return."""
        relay_state = form.get("RelayState", "")
        pending = services.sessions.pop(Kind.LOGIN, relay_state)
        if pending is None:
            logger.warning("SAML response without a live login request (expired, replayed or unknown RelayState).")
            raise PageError(400, "login", action_url=urls("start"), action_key="try_again")
        try:
            result = services.login.finish(form.get("SAMLResponse", ""), expected_request_id=pending["request_id"])
        except LoginError as error:
            logger.warning("Suomi.fi login rejected: %s", error.code)
            raise PageError(400, "login", action_url=urls("start"), action_key="try_again") from None
        services.sessions.create(Kind.VERIFIED, result.to_session(), ttl=timedelta(minutes=2), token=relay_state)
        return redirect(urls("login_complete"))

    @app.get("/login/complete", name="login_complete")
    def login_complete(request: Request) -> RedirectResponse:
        """Back in the browser that started the login (its cookie names the RelayState): only
        then does the verified identity become a session, under a fresh token."""
        token = request.session.pop("login", None)
        verified = services.sessions.pop(Kind.VERIFIED, token if isinstance(token, str) else None)
        if verified is None:
            raise PageError(400, "login", action_url=urls("start"), action_key="try_again")
        old = request.session.pop("sid", None)
        if isinstance(old, str):
            services.sessions.pop(Kind.SESSION, old)
        request.session.pop("csrf", None)  # a new session gets a new CSRF token
        result = LoginResult.from_session(verified)
        sid = services.sessions.create(
            Kind.SESSION, verified, ttl=timedelta(minutes=settings.session_idle_minutes), subject=services.sessions.subject(result.logout_subject)
        )
        request.session["sid"] = sid
        person, wards = _people(verified)
        if _existing(services, person) is not None:
            return redirect(urls("status"))
        return redirect(urls("choose") if wards else urls("apply"))

    @app.post("/logout", name="logout")
    def logout(request: Request, form: SmallForm) -> RedirectResponse:
        """Suomi.fi requires the local session to end before the LogoutRequest goes to the IdP."""
        check_csrf(request, form)
        token = request.session.get("sid")
        data = services.sessions.pop(Kind.SESSION, token if isinstance(token, str) else None)
        language = language_of(request)
        request.session.clear()
        request.session["lang"] = language.value
        if data is None:
            return redirect(urls("logged_out"))
        request_id, location = services.login.logout(LoginResult.from_session(data))
        request.session["slo"] = request_id  # to match the IdP's LogoutResponse (not personal)
        return redirect(location)

    @app.get("/saml/slo", name="slo")
    def single_logout(request: Request) -> Response:
        """Both halves of Suomi.fi single logout over the Redirect binding: the IdP's answer to
        our LogoutRequest, and an IdP-initiated LogoutRequest (in an iframe, without cookies:
        the session is found by the NameID's keyed hash)."""
        expected = request.session.pop("slo", None)
        try:
            outcome = services.login.handle_logout(
                request.url.query, expected_request_id=expected if isinstance(expected, str) else None, sessions=services.sessions
            )
        except LoginError as error:
            logger.warning("Suomi.fi logout message refused: %s", error.code)
            if isinstance(expected, str):  # our own logout: the local session ended before the IdP was asked
                return redirect(urls("logged_out"))
            raise PageError(400, "login", action_url=urls("start"), action_key="back_to_start") from None
        return redirect(outcome.redirect_url or urls("logged_out"))

    @app.get("/saml/metadata", name="metadata")
    def metadata() -> Response:
        return Response(services.login.metadata(), media_type="application/samlmetadata+xml", headers={"Cache-Control": "public, max-age=3600"})

    @app.get("/logged-out", name="logged_out")
    def logged_out(request: Request) -> HTMLResponse:
        return _message(services, request, "logged_out", 200)

    # ------------------------------------------------------------------ the application

    @app.get("/apply/for", name="choose")
    def choose(request: Request) -> Response:
        _, data = _require_session(services, request)
        return _choose_page(request, data)

    def _choose_page(request: Request, data: dict[str, Any], errors: list[dict[str, str]] | None = None) -> Response:
        t = services.translator(request)
        person, wards = _people(data)
        if not wards:
            return redirect(urls("apply"))
        options = [{"value": "self", "label": t("choose_self", name=f"{person.first_names} {person.surname}")}]
        for index, ward in enumerate(wards):
            born = ward.birth_date
            options.append(
                {
                    "value": f"ward-{index}",
                    "label": t(
                        "choose_child", name=f"{ward.first_names} {ward.surname}", born=t("date_format", day=born.day, month=born.month, year=born.year)
                    ),
                }
            )
        chosen = data.get("applying_for")
        selected = f"ward-{chosen}" if isinstance(chosen, int) else ("self" if chosen == "self" else None)
        return _render(
            services,
            request,
            "choose.html",
            status_code=400 if errors else 200,
            options=options,
            selected=selected,
            errors=errors or [],
            has_errors=bool(errors),
        )

    @app.post("/apply/for")
    def choose_submit(request: Request, form: SmallForm) -> Response:
        check_csrf(request, form)
        sid, data = _require_session(services, request)
        _, wards = _people(data)
        choice = form.get("applicant", "")
        if choice == "self":
            data["applying_for"] = "self"
        elif choice.startswith("ward-") and choice[5:].isdigit() and int(choice[5:]) < len(wards):
            data["applying_for"] = int(choice[5:])
        else:
            t = services.translator(request)
            return _choose_page(request, data, [{"target": "applicant-0", "message": t("choose_required")}])
        services.sessions.save(Kind.SESSION, sid, data)
        return redirect(urls("apply"))

    @app.get("/apply", name="apply")
    def apply_form(request: Request) -> Response:
        _, data = _require_session(services, request)
        applicant, guardian = _applicant(data)
        if _existing(services, applicant) is not None:
            request.session["notice"] = "notice_already"
            return redirect(urls("status"))
        if guardian is None and _too_young(applicant):
            return _message(services, request, "too_young", 200)
        language = language_of(request)
        values = {
            "home_library": "",
            "email": "",
            "phone": "",
            "language": language.value,
            "notification_preference": NotificationPreference.SUOMI_FI.value,
            "rules_accepted": False,
        }
        return _form_page(request, data, values, [])

    def _form_page(
        request: Request, data: dict[str, Any], values: dict[str, Any], errors: list[dict[str, str]], field_errors: dict[str, str] | None = None
    ) -> Response:
        t = services.translator(request)
        applicant, guardian = _applicant(data)
        _, wards = _people(data)
        return _render(
            services,
            request,
            "form.html",
            status_code=400 if errors else 200,
            person=_show_person(applicant, t),
            guardian=_show_person(guardian, t) if guardian else None,
            can_change_applicant=bool(wards),
            libraries=services.libraries.choices(),
            notification_choices=[choice.value for choice in NotificationPreference],
            decision_languages=[(language.value, LANGUAGE_NAMES[language]) for language in LANGUAGES],
            rules_url=settings.library_rules_url,
            values=values,
            errors=errors,
            field_errors=field_errors or {},
            has_errors=bool(errors),
        )

    @app.post("/apply")
    def apply_submit(request: Request, form: SmallForm) -> Response:
        check_csrf(request, form)
        _, data = _require_session(services, request)
        applicant, guardian = _applicant(data)
        if guardian is None and _too_young(applicant):
            return _message(services, request, "too_young", 200)
        if _existing(services, applicant) is not None:
            request.session["notice"] = "notice_already"
            return redirect(urls("status"))
        values = {name: form.get(name, "") for name in FORM_FIELDS}
        values["rules_accepted"] = form.get("rules_accepted") == "yes"
        t = services.translator(request)
        application, errors, field_errors = _validate(services, t, data, values)
        if application is None:
            return _form_page(request, data, values, errors, field_errors)
        payload = application.model_dump(mode="json")
        item = services.queue.add(PROCESS, reference=person_reference(applicant, services.salt), payload=payload, actor="eservice")
        if item.payload != payload:
            request.session["notice"] = "notice_already"  # a submission from another tab got there first
        else:
            logger.info("Library-card application queued as work item %s.", item.id)
            fire(services.trigger, item)
            request.session["notice"] = "notice_submitted"
        return redirect(urls("status"))

    @app.get("/status", name="status")
    def status(request: Request) -> Response:
        _, data = _require_session(services, request)
        t = services.translator(request)
        person, wards = _people(data)
        views: list[StatusView] = []
        for someone in [person, *wards]:
            item = _existing(services, someone)
            if item is not None:
                views.append(describe(item, services.queue.checkpoints(item.id), services.libraries, t))
        in_progress = any(view.in_progress for view in views)
        return _render(
            services,
            request,
            "status.html",
            views=views,
            view_steps=_steps,
            any_in_progress=in_progress,
            can_apply_for_child=bool(wards),
            refresh_seconds=settings.status_refresh_seconds if in_progress else 0,
        )


def _too_young(person: VerifiedPerson) -> bool:
    return person.age_on(helsinki_today()) < INDEPENDENT_AGE


def _steps(view: StatusView) -> list[tuple[str, str]]:
    """The three steps of the progress bar and each one's state: done, current or todo."""
    position = {Phase.RECEIVED: 0, Phase.PROCESSING: 1}.get(view.phase, 2)
    keys = ("step_received", "step_processing", "step_decided")
    return [(key, "done" if i < position or (i == 2 and position == 2) else "current" if i == position else "todo") for i, key in enumerate(keys)]


def _validate(
    services: Services, t: Translator, data: dict[str, Any], values: dict[str, Any]
) -> tuple[LibraryCardApplication | None, list[dict[str, str]], dict[str, str]]:
    """The application, or the problems: a summary list (message + field anchor) and per-field messages."""
    applicant, guardian = _applicant(data)
    raw: dict[str, Any] = {
        "applicant": applicant.model_dump(mode="json"),
        "home_library": values["home_library"],
        "email": values["email"] or None,
        "phone": values["phone"] or None,
        "language": values["language"],
        "notification_preference": values["notification_preference"],
        "rules_accepted": values["rules_accepted"],
        "submitted_at": datetime.now(UTC).isoformat(),
    }
    if guardian is not None:
        raw["guardian"] = {
            **guardian.model_dump(mode="json"),
            "relationship_verified_by": data.get("wards_verified_by"),
            "relationship_verified_at": data.get("wards_verified_at"),
        }
    field_errors: dict[str, str] = {}
    general: list[str] = []
    known = {choice.library_id for choice in services.libraries.choices()}
    if values["home_library"] and values["home_library"] not in known:
        field_errors["home_library"] = _schema_message("library_code_invalid", t.language)
    application = None
    try:
        application = LibraryCardApplication.model_validate(raw)
    except ValidationError as error:
        for problem in describe_errors(error, t.language):
            field = CODE_FIELDS.get(problem.code) or problem.field.split(".")[0]
            if field in FIELD_TARGETS:
                field_errors.setdefault(field, problem.message)
            else:
                general.append(t("identity_error", message=problem.message))
    if field_errors or general:
        summary = [{"target": None, "message": message} for message in general]
        summary += [{"target": FIELD_TARGETS[field], "message": field_errors[field]} for field in FORM_FIELDS if field in field_errors]
        return None, summary, field_errors
    return application, [], {}


def _schema_message(code: str, language: Language) -> str:

    return ERROR_MESSAGES[code][language]
