"""What every page of the e-service needs: the app's services, the logged-in session, and rendering.

The routers in ``apps.eservice.routes`` are module-level objects shared by every app that includes them;
each request finds its app's collaborators through :func:`services_of` (``request.app.state.services``),
so nothing is captured in a closure and a test can build as many apps as it likes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.templating import Jinja2Templates
from pydantic import SecretStr

from apps.eservice.i18n import Catalog, Translator
from apps.eservice.libraries import LibraryDirectory
from apps.eservice.login import SuomiFiLogin
from apps.eservice.people import masked_hetu, person_reference
from apps.eservice.sessions import Kind, SessionStore
from apps.eservice.settings import EserviceSettings
from apps.eservice.trigger import Trigger
from apps.eservice.web import PageError, Urls, language_of, page_context
from kuntaflow.settings import KuntaflowSettings
from kuntaflow.workitems import WorkItem, WorkQueue
from schemas.hetu import helsinki_today
from schemas.library_card import INDEPENDENT_AGE, PROCESS, VerifiedPerson


@dataclass
class Services:
    """Everything the pages use; built once per app by ``apps.eservice.app.create_app``."""

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


def services_of(request: Request) -> Services:
    """The services of the app serving this request."""
    return request.app.state.services


def redirect(url: str) -> RedirectResponse:
    """See Other: after a POST the browser fetches the next page with GET."""
    return RedirectResponse(url, status_code=303)


# --------------------------------------------------------------------------- rendering


def render(request: Request, template: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    services = services_of(request)
    t = services.translator(request)
    session = current_session(request, extend=False)
    values = page_context(request, t, services.urls, **context)
    if session is not None:
        person = VerifiedPerson.model_validate(session[1]["person"])
        values["user_name"] = f"{person.first_names} {person.surname}"
    return services.templates.TemplateResponse(request, template, values, status_code=status_code)


def message(request: Request, key: str, status_code: int, *, action_url: str | None = None, action_key: str | None = None) -> HTMLResponse:
    """A page of one title and one paragraph (``<key>_title``, ``<key>_text``), with an optional action button."""
    t = services_of(request).translator(request)
    return render(
        request,
        "message.html",
        status_code=status_code,
        title=t(f"{key}_title"),
        paragraphs=[t(f"{key}_text")],
        action_url=action_url,
        action_text=t(action_key) if action_key else None,
        show_start_link=True,
    )


# --------------------------------------------------------------------------- sessions


def current_session(request: Request, *, extend: bool = True) -> tuple[str, dict[str, Any]] | None:
    services = services_of(request)
    token = request.session.get("sid")
    if not isinstance(token, str):
        return None
    idle = timedelta(minutes=services.settings.session_idle_minutes)
    data = services.sessions.load(Kind.SESSION, token, extend=idle if extend else None)
    if data is None:
        request.session.pop("sid", None)
        return None
    return token, data


def require_session(request: Request) -> tuple[str, dict[str, Any]]:
    session = current_session(request)
    if session is None:
        raise PageError(401, "session", action_url=services_of(request).urls("start"), action_key="start_login_button")
    return session


def people_of(data: dict[str, Any]) -> tuple[VerifiedPerson, list[VerifiedPerson]]:
    """(the logged-in person, their children under 15) from the session."""
    return VerifiedPerson.model_validate(data["person"]), [VerifiedPerson.model_validate(w) for w in data.get("wards", [])]


def applicant_of(data: dict[str, Any]) -> tuple[VerifiedPerson, VerifiedPerson | None]:
    """(the person the card is for, the guardian applying for them or None)."""
    person, wards = people_of(data)
    chosen = data.get("applying_for")
    if isinstance(chosen, int) and 0 <= chosen < len(wards):
        return wards[chosen], person
    return person, None


def existing_item(services: Services, person: VerifiedPerson) -> WorkItem | None:
    """The person's library-card application already on the queue, if any."""
    return services.queue.find(PROCESS, person_reference(person, services.salt))


def valtuudet_offered(services: Services, person: VerifiedPerson) -> bool:
    """Whether the person can pick a child in Suomi.fi Valtuudet: it is configured, and they have a henkilötunnus."""
    return services.login.guardianship is not None and person.hetu is not None


def too_young(person: VerifiedPerson) -> bool:
    """Under 15 a card needs a guardian's application."""
    return person.age_on(helsinki_today()) < INDEPENDENT_AGE


def show_person(person: VerifiedPerson, t: Translator) -> dict[str, Any]:
    """The person as the form shows them: the hetu masked."""
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
