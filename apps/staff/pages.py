"""What every staff page shares: its language, its texts, the CSRF token, and the page layout.

Pages extend ``apps/staff/templates/base.html`` (skip link, language switch that keeps the page,
the signed-in member with a sign-out button) and render with :func:`render`; their words are in
``apps/staff/translations/{fi,sv,en}.json`` (checked by ``apps.i18n.load_catalog`` at start-up).
Templates get ``t`` (the translator), ``lang``, ``csrf_token``, ``member`` and the ``date`` filter
(4.12.2026).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import quote

from fastapi import HTTPException, Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from apps.csrf import FIELD as CSRF_FIELD
from apps.csrf import csrf_matches, csrf_token
from apps.i18n import ENDONYMS, LANGUAGES, Catalog, Translator, finnish_date, language_of, load_catalog
from apps.staff.identity import signed_in

HERE = Path(__file__).parent
TRANSLATIONS = "apps.staff.translations"


def staff_templates() -> Jinja2Templates:
    """The staff app's templates (the Desk's pages' too), with the Finnish ``date`` filter."""
    templates = Jinja2Templates(directory=[str(HERE / "templates"), str(HERE / "desk" / "templates")])
    templates.env.filters["date"] = finnish_date
    return templates


def staff_catalog() -> Catalog:
    return load_catalog(TRANSLATIONS)


def translator(request: Request) -> Translator:
    """The texts in this person's language."""
    return request.app.state.catalog.translator(language_of(request))


def render(request: Request, template: str, *, status: int = 200, **context: Any) -> HTMLResponse:
    """Render ``template`` in the person's language with what every page needs."""
    t = translator(request)
    here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    values = {
        "request": request,
        "t": t,
        "lang": t.language.value,
        "languages": [(language.value, ENDONYMS[language]) for language in LANGUAGES],
        "here": quote(here, safe="/"),
        "csrf_field": CSRF_FIELD,
        "csrf_token": csrf_token(request),
        "member": signed_in(request.session),
        **context,
    }
    return request.app.state.templates.TemplateResponse(request, template, values, status_code=status)


def page(request: Request, title_key: str, text_key: str, *, status: int = 200, retry: bool = False, **values: Any) -> HTMLResponse:
    """A page of a title and a paragraph (translation keys); ``retry`` offers signing in again."""
    t = translator(request)
    return render(request, "message.html", status=status, title=t(title_key), text=t(text_key, **values), retry=retry)


def check_csrf(request: Request, sent: str | None) -> None:
    """Raises: HTTPException(403): the form's token is missing or is not this session's; nothing is changed."""
    if not csrf_matches(request, sent):
        raise HTTPException(status_code=403, detail="csrf")
