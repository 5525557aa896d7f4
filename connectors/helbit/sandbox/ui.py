"""The recruiter web UI of the Helbit-like sandbox: server-rendered pages, no JavaScript.

``/ui/login`` (form login, signed session cookie), ``/ui/jobs`` (open jobs), ``/ui/jobs/{key}``
(applicants with filters by stage, status and name, 50 a page, bulk move/reject, and the "Vie
hakijat Exceliin" export of everything the filters select), ``/ui/applications/{id}`` (the whole
application and a stage change). Every form POST carries the session's CSRF token. Element ids
are stable (``username``, ``password``, ``login-button``, ``job-<key>``, ``filter-stage``,
``filter-status``, ``apply-filters``, ``export-excel``, ``applicant-count``): robots rely on them.
"""

from __future__ import annotations

import hmac
import secrets
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from itsdangerous import BadSignature, URLSafeSerializer
from jinja2 import Environment, FileSystemLoader, select_autoescape

from connectors.helbit.export import STATUS_LABELS
from connectors.helbit.sandbox.excel import export_applicants
from connectors.helbit.sandbox.seed import LANGUAGE_NAMES, period_of
from connectors.helbit.sandbox.store import REJECTION_REASONS, UI_USERS, Application, HelbitApiError, HelbitStore

COOKIE = "helbit_session"
PAGE_SIZE = 50
_TEMPLATES = Environment(loader=FileSystemLoader(Path(__file__).parent / "templates"), autoescape=select_autoescape(["html"]))


def _store(request: Request) -> HelbitStore:
    return request.app.state.store


def _serializer(request: Request) -> URLSafeSerializer:
    return URLSafeSerializer(request.app.state.ui_secret, salt="helbit-ui")


def _session(request: Request) -> dict[str, str] | None:
    raw = request.cookies.get(COOKIE)
    if not raw:
        return None
    try:
        data = _serializer(request).loads(raw)
    except BadSignature:
        return None
    return data if isinstance(data, dict) and data.get("user") in UI_USERS else None


def _base(request: Request) -> str:
    return f"{request.scope.get('root_path', '')}/ui"


def _page(request: Request, template: str, status: int = 200, **context: Any) -> HTMLResponse:
    html = _TEMPLATES.get_template(template).render(base=_base(request), user=context.pop("user", None), **context)
    return HTMLResponse(html, status_code=status)


def _login_redirect(request: Request) -> RedirectResponse:
    return RedirectResponse(f"{_base(request)}/login", status_code=303)


def _check_csrf(current: dict[str, str], token: str) -> None:
    if not hmac.compare_digest(current["csrf"].encode(), token.encode()):
        raise HelbitApiError(403, "CSRF token missing or wrong")


#: Module-level: each page reaches its app's store and cookie secret through ``request.app.state``.
ui = APIRouter(prefix="/ui", include_in_schema=False)


@ui.get("")
@ui.get("/")
async def home(request: Request) -> Response:
    return RedirectResponse(f"{_base(request)}/jobs" if _session(request) else f"{_base(request)}/login", status_code=303)


@ui.get("/login")
async def login_form(request: Request) -> HTMLResponse:
    return _page(request, "login.html", error=None)


@ui.post("/login")
async def login(request: Request, username: Annotated[str, Form()] = "", password: Annotated[str, Form()] = "") -> Response:
    known = UI_USERS.get(username)
    if known is None or not hmac.compare_digest(known[0].encode(), password.encode()):
        return _page(request, "login.html", status=401, error="Väärä käyttäjätunnus tai salasana.")
    response = RedirectResponse(f"{_base(request)}/jobs", status_code=303)
    cookie = _serializer(request).dumps({"user": username, "csrf": secrets.token_urlsafe(16)})
    response.set_cookie(COOKIE, cookie, httponly=True, samesite="lax", path="/")
    return response


@ui.post("/logout")
async def logout(request: Request) -> Response:
    response = _login_redirect(request)
    response.delete_cookie(COOKIE, path="/")
    return response


@ui.get("/jobs")
async def jobs(request: Request) -> Response:
    store = _store(request)
    if (current := _session(request)) is None:
        return _login_redirect(request)
    with store.lock:
        rows = [{"job": job, "counts": store.counts(job.job_id), "period": period_of(job, store.world.today)} for job in store.jobs]
    return _page(request, "jobs.html", user=UI_USERS[current["user"]][1], rows=rows)


def _filtered(store: HelbitStore, job_id: int, stage: str, status: str, q: str) -> list[Application]:
    needle = q.strip().lower()
    return sorted(
        (
            a
            for a in store.applications_of(job_id)
            if (not stage or str(a.stage_id) == stage)
            and (not status or a.status == status)
            and (not needle or needle in f"{a.seed.first_names} {a.seed.last_name}".lower())
        ),
        key=lambda a: a.seed.application_id,
    )


@ui.get("/jobs/{key}")
async def applicants(request: Request, key: str, stage: str = "", status: str = "", q: str = "", page_number: int = 1, message: str = "") -> Response:
    store = _store(request)
    if (current := _session(request)) is None:
        return _login_redirect(request)
    job = store.job_by_key(key)
    if job is None:
        return _page(request, "not_found.html", status=404, user=UI_USERS[current["user"]][1])
    with store.lock:
        found = _filtered(store, job.job_id, stage, status, q)
        pages = max(1, -(-len(found) // PAGE_SIZE))
        shown = [(a, store.stage(a.stage_id)) for a in found[(page_number - 1) * PAGE_SIZE : page_number * PAGE_SIZE]]
    filters = {"stage": stage, "status": status, "q": q}
    return _page(
        request,
        "applicants.html",
        user=UI_USERS[current["user"]][1],
        job=job,
        shown=shown,
        total=len(found),
        stages=store.stages_of(job.job_id),
        statuses=STATUS_LABELS,
        reasons=REJECTION_REASONS,
        filters=filters,
        query=urlencode({k: v for k, v in filters.items() if v}),
        page_number=page_number,
        pages=pages,
        csrf=current["csrf"],
        message=message,
    )


@ui.get("/jobs/{key}/export.xlsx")
async def export(request: Request, key: str, stage: str = "", status: str = "", q: str = "") -> Response:
    store = _store(request)
    if _session(request) is None:
        return _login_redirect(request)
    job = store.job_by_key(key)
    if job is None:
        return Response("Ei tällaista työpaikkaa", status_code=404)
    with store.lock:
        content = export_applicants(store, _filtered(store, job.job_id, stage, status, q))
        store.exports += 1
    return Response(
        content,
        media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        headers={"Content-Disposition": f'attachment; filename="hakijat-{key}.xlsx"'},
    )


@ui.post("/jobs/{key}/bulk")
async def bulk(request: Request, key: str) -> Response:
    store = _store(request)
    if (current := _session(request)) is None:
        return _login_redirect(request)
    form = await request.form()
    _check_csrf(current, str(form.get("csrf", "")))
    job = store.job_by_key(key)
    if job is None:
        return Response("Ei tällaista työpaikkaa", status_code=404)
    action, _, target = str(form.get("action", "")).partition(":")
    ids = [int(v) for v in form.getlist("application_ids") if str(v).isdigit()]
    done = sum(_bulk_one(store, job.job_id, application_id, action, target) for application_id in ids)
    return RedirectResponse(f"{_base(request)}/jobs/{key}?{urlencode({'message': f'{done} hakemusta päivitetty.'})}", status_code=303)


def _bulk_one(store: HelbitStore, job_id: int, application_id: int, action: str, target: str) -> bool:
    """Move or reject one selected application of the job; whether it changed (others and refusals are skipped)."""
    try:
        application = store.application(application_id)
        if application.seed.job_id != job_id:
            return False
        if action == "move" and application.status == "active":
            store.move(application_id, application.stage_id or 0, int(target))
        elif action == "reject":
            store.reject(application_id, int(target), "Massatoiminto")
        else:
            return False
    except (HelbitApiError, ValueError):
        return False
    return True


@ui.get("/applications/{application_id}")
async def detail(request: Request, application_id: int) -> Response:
    store = _store(request)
    if (current := _session(request)) is None:
        return _login_redirect(request)
    application = store.applications.get(application_id)
    if application is None:
        return _page(request, "not_found.html", status=404, user=UI_USERS[current["user"]][1])
    job = store.job(application.seed.job_id)
    return _page(
        request,
        "application.html",
        user=UI_USERS[current["user"]][1],
        application=application,
        job=job,
        stage=store.stage(application.stage_id),
        stages=store.stages_of(job.job_id),
        statuses=STATUS_LABELS,
        languages=LANGUAGE_NAMES,
        interviews=store.interviews_of(application_id),
        csrf=current["csrf"],
    )


@ui.post("/applications/{application_id}/stage")
async def change_stage(request: Request, application_id: int, to_stage_id: Annotated[int, Form()], csrf: Annotated[str, Form()] = "") -> Response:
    store = _store(request)
    if (current := _session(request)) is None:
        return _login_redirect(request)
    _check_csrf(current, csrf)
    application = store.application(application_id)
    store.move(application_id, application.stage_id or 0, to_stage_id)
    return RedirectResponse(f"{_base(request)}/applications/{application_id}", status_code=303)
