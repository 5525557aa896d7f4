"""What the Desk's pages share beyond the staff app's (``apps.staff.pages``): the Desk's services, names of
states and processes, plain-language reasons, a notice after an action, Helsinki times.

Pages render with the staff app's :func:`apps.staff.pages.render` (layout, language, CSRF token,
member) and extend ``desk_base.html``; their words are in ``apps/staff/translations``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from apps.i18n import finnish_time
from apps.staff.pages import render as staff_render
from apps.staff.pages import translator
from kuntaflow.settings import KuntaflowSettings
from kuntaflow.workitems import AccessLog, ItemState, WorkQueue
from schemas.reason_meanings import meaning
from schemas.redaction import redact

STATIC = Path(__file__).parent / "static"
#: A notice shown once on the next page (a translation key), after an action redirected there.
NOTICE_KEY = "desk_notice"
#: The states in which a case waits for a person (a robot will not take it up again by itself).


@dataclass(frozen=True)
class Desk:
    """The Desk's services, built once with the app."""

    open_queue: Callable[[], WorkQueue]
    engine_settings: KuntaflowSettings | None = None

    @property
    def engine(self) -> KuntaflowSettings:
        """The engine's settings: those given, else read now (they follow the environment)."""
        return self.engine_settings or KuntaflowSettings()

    @property
    def prefect_ui_url(self) -> str | None:
        api = self.engine.external_prefect_api_url
        return api.rstrip("/").removesuffix("/api") if api else None

    def access_log(self, queue: WorkQueue) -> AccessLog:
        """The access log in the queue's database (close it after use)."""
        return AccessLog(queue.url)


def build_desk(open_queue: Callable[[], WorkQueue], engine: KuntaflowSettings | None, templates: Jinja2Templates) -> Desk:
    """The Desk's services; adds its filters to the staff app's templates."""
    templates.env.filters["fi_time"] = finnish_time
    # Whatever a robot or a person wrote is shown through the one mask, also where it should already be masked.
    templates.env.filters["masked"] = lambda text: redact(str(text)) if text is not None else ""
    return Desk(open_queue, engine)


def desk_of(request: Request) -> Desk:
    return request.app.state.desk


def render(request: Request, template: str, *, status: int = 200, **context: Any) -> HTMLResponse:
    """A Desk page: the staff app's page with the names of states and processes, reasons and the notice."""
    t = translator(request)
    notice = request.session.pop(NOTICE_KEY, None)
    return staff_render(
        request,
        template,
        status=status,
        notice=t(notice) if notice in t.texts else None,
        state_name=lambda state: t(f"state_{ItemState(state).value}"),
        process_name=lambda process: t(f"process_{process}") if f"process_{process}" in t.texts else process,
        meaning=lambda code: meaning(code, t.language.value),
        **context,
    )


def notify(request: Request, key: str) -> None:
    """Show the translated notice ``key`` once, on the next page."""
    request.session[NOTICE_KEY] = key
