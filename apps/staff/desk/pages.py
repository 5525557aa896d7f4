"""What the Desk's pages share: the Desk's services, rendering in the member's language, Finnish dates.

Forms and the CSRF token, bounded form reading and the language choice are the e-service's
(``apps.eservice.web``): one mechanism for every server-rendered page Kuntaflow has. Texts are in
``apps/staff/desk/translations/{fi,sv,en}.json``, read by the e-service's catalogue loader.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from apps.eservice.i18n import Catalog, load_catalog
from apps.eservice.web import csrf_token, language_of
from apps.staff.identity import StaffMember, signed_in
from apps.staff.settings import StaffSettings
from kuntaflow.settings import KuntaflowSettings
from kuntaflow.workitems import AccessLog, ItemState, WorkQueue
from schemas.reason_meanings import meaning
from schemas.redaction import redact

HERE = Path(__file__).parent
HELSINKI = ZoneInfo("Europe/Helsinki")
#: A notice shown once on the next page (a translation key), after an action redirected there.
NOTICE_KEY = "desk_notice"
#: The states in which a case waits for a person (a robot will not take it up again by itself).
WAITING_STATES = tuple(state for state in ItemState if state.waits_for_a_person)


@dataclass(frozen=True)
class Desk:
    """The Desk's services, built once with the app."""

    settings: StaffSettings
    open_queue: Callable[[], WorkQueue]
    catalog: Catalog
    templates: Jinja2Templates
    prefect_ui_url: str | None
    engine: KuntaflowSettings

    def access_log(self, queue: WorkQueue) -> AccessLog:
        """The access log in the queue's database (close it after use)."""
        return AccessLog(queue.url)


def build_desk(settings: StaffSettings, open_queue: Callable[[], WorkQueue], engine: KuntaflowSettings) -> Desk:
    templates = Jinja2Templates(directory=str(HERE / "templates"))
    templates.env.filters["fi_date"] = finnish_date
    templates.env.filters["fi_time"] = finnish_time
    # Whatever a robot or a person wrote is shown through the one mask, also where it should already be masked.
    templates.env.filters["masked"] = lambda text: redact(str(text)) if text is not None else ""
    api = engine.external_prefect_api_url
    ui = api.rstrip("/").removesuffix("/api") if api else None
    return Desk(settings, open_queue, load_catalog("apps.staff.desk.translations"), templates, ui, engine)


def desk_of(request: Request) -> Desk:
    return request.app.state.desk


def finnish_date(moment: datetime | date | None) -> str:
    """4.12.2026: the day in Helsinki, the Finnish way (Swedish in Finland writes it so too)."""
    if moment is None:
        return ""
    day = moment.astimezone(HELSINKI).date() if isinstance(moment, datetime) else moment
    return f"{day.day}.{day.month}.{day.year}"


def finnish_time(moment: datetime | None) -> str:
    """4.12.2026 14.05 in Helsinki time."""
    if moment is None:
        return ""
    local = moment.astimezone(HELSINKI)
    return f"{finnish_date(local)} {local.hour}.{local.minute:02}"


def render(request: Request, template: str, *, status: int = 200, **context: Any) -> HTMLResponse:
    """A Desk page in the member's language, with what every page needs (texts, CSRF token, member, notice)."""
    desk = desk_of(request)
    language = language_of(request)
    t = desk.catalog.translator(language)
    member: StaffMember | None = signed_in(request.session)
    notice = request.session.pop(NOTICE_KEY, None)
    values = {
        "request": request,
        "t": t,
        "lang": language.value,
        "csrf_token": csrf_token(request),
        "member": member,
        "notice": t(notice) if notice in t.texts else None,
        "state_name": lambda state: t(f"state_{ItemState(state).value}"),
        "process_name": lambda process: t(f"process_{process}") if f"process_{process}" in t.texts else process,
        "meaning": lambda code: meaning(code, language.value),
        **context,
    }
    return desk.templates.TemplateResponse(request, template, values, status_code=status)


def notify(request: Request, key: str) -> None:
    """Show the translated notice ``key`` once, on the next page."""
    request.session[NOTICE_KEY] = key
