"""The status page: the applications of the logged-in person and their children, in plain language."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from apps.eservice.pages import existing_item, people_of, render, require_session, services_of, valtuudet_offered
from apps.eservice.status import Phase, StatusView, describe

status = APIRouter()


@status.get("/status", name="status")
def status_page(request: Request) -> Response:
    services = services_of(request)
    _, data = require_session(request)
    t = services.translator(request)
    person, wards = people_of(data)
    views: list[StatusView] = []
    for someone in [person, *wards]:
        item = existing_item(services, someone)
        if item is not None:
            views.append(describe(item, services.queue.checkpoints(item.id), services.libraries, t))
    in_progress = any(view.in_progress for view in views)
    return render(
        request,
        "status.html",
        views=views,
        view_steps=_steps,
        any_in_progress=in_progress,
        can_apply_for_child=bool(wards) or valtuudet_offered(services, person),
        poll_seconds=services.settings.status_poll_seconds if in_progress else 0,
    )


def _steps(view: StatusView) -> list[tuple[str, str]]:
    """The three steps of the progress bar and each one's state: done, current or todo."""
    position = {Phase.RECEIVED: 0, Phase.PROCESSING: 1}.get(view.phase, 2)
    keys = ("step_received", "step_processing", "step_decided")
    return [(key, "done" if i < position or (i == 2 and position == 2) else "current" if i == position else "todo") for i, key in enumerate(keys)]
