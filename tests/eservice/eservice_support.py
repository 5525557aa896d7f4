"""Helpers for the e-service's HTTP tests: the e-service with its neighbours in-process (the
sandbox Suomi.fi IdP, the Suomi.fi Valtuudet sandbox, and the Koha sandbox), each its own app behind
its own address, like the real thing.

A :class:`Citizen` drives the e-service the way a browser does: its cookie jar goes to the
e-service only; the IdP's answer is posted to the ACS *without* the e-service's cookies (a
cross-site POST under ``SameSite=Lax``), and the ACS's redirect is followed with them.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from fastapi.testclient import TestClient

from apps.eservice.app import create_app
from apps.eservice.libraries import LibraryDirectory
from apps.eservice.login import SuomiFiLogin, ValtuudetGuardianship
from apps.eservice.settings import EserviceSettings
from connectors.koha import KohaClient, KohaSettings, KohaUnavailableError
from connectors.sandbox_support import SyncASGITransport
from connectors.suomifi_tunnistus import ServiceProvider
from connectors.suomifi_tunnistus.sandbox.persons import PERSONS
from connectors.suomifi_valtuudet import ValtuudetClient, ValtuudetSettings
from kuntaflow.workitems import WorkItem

ESERVICE = "http://127.0.0.1:8000"
IDP = "http://idp.test"
KOHA = "http://koha.test/api/v1"
VALTUUDET = "http://valtuudet.test"


@dataclass
class Neighbours:
    """Built once per module: SAML key pairs and pysaml2 configs take a while."""

    sp: ServiceProvider
    idp_app: Any
    koha_app: Any
    valtuudet_app: Any


class RecordingTrigger:
    """Remembers which work items the e-service asked to start the flow for."""

    def __init__(self) -> None:
        self.items: list[WorkItem] = []

    def __call__(self, item: WorkItem) -> None:
        self.items.append(item)


@dataclass
class Eservice:
    app: Any
    trigger: RecordingTrigger
    neighbours: Neighbours
    settings: EserviceSettings

    @property
    def queue(self):
        return self.app.state.services.queue

    @property
    def sessions(self):
        return self.app.state.services.sessions

    def citizen(self, **kwargs: Any) -> Citizen:
        return Citizen(self, TestClient(self.app, base_url=ESERVICE, follow_redirects=False, **kwargs))


def build_eservice(neighbours: Neighbours, **settings: Any) -> Eservice:
    eservice_settings = EserviceSettings(base_url=ESERVICE, trigger="none", **settings)
    trigger = RecordingTrigger()
    koha = KohaSettings(base_url=KOHA)
    app = create_app(
        eservice_settings,
        login=SuomiFiLogin(neighbours.sp, valtuudet_for(neighbours.valtuudet_app)),
        libraries=LibraryDirectory(lambda: KohaClient(koha, transport=SyncASGITransport(neighbours.koha_app))),
        trigger=trigger,
    )
    return Eservice(app, trigger, neighbours, eservice_settings)


def valtuudet_for(app: Any) -> ValtuudetGuardianship:
    """Suomi.fi Valtuudet for the e-service: the sandbox ``app`` in-process at VALTUUDET."""
    return ValtuudetGuardianship(ValtuudetClient(ValtuudetSettings(base_url=VALTUUDET), transport=SyncASGITransport(app)))


class ScriptedKoha:
    """A KohaClient stand-in whose ``list_libraries`` gives the scripted answers in turn (an
    exception is raised), then keeps raising ``KohaUnavailableError``: Koha going away."""

    def __init__(self, answers: list[Any]) -> None:
        self.answers = answers

    def __call__(self) -> ScriptedKoha:
        return self

    def __enter__(self) -> ScriptedKoha:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def list_libraries(self) -> list[Any]:
        answer = self.answers.pop(0) if self.answers else KohaUnavailableError("koha is down")
        if isinstance(answer, Exception):
            raise answer
        return answer


def hidden_fields(page: str) -> dict[str, str]:
    return {name: html.unescape(value) for name, value in re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', page)}


def csrf_of(page: str) -> str:
    return hidden_fields(page)["csrf_token"]


@dataclass
class Citizen:
    """One browser: cookies for the e-service, the IdP visited with its own client."""

    eservice: Eservice
    client: TestClient
    urls_seen: list[str] = field(default_factory=list)

    def get(self, path: str, **kwargs: Any):
        response = self.client.get(path, **kwargs)
        self._saw(response)
        return response

    def post(self, path: str, data: dict[str, str], **kwargs: Any):
        response = self.client.post(path, data=data, **kwargs)
        self._saw(response)
        return response

    def _saw(self, response) -> None:
        self.urls_seen.append(str(response.request.url))
        if "location" in response.headers:
            self.urls_seen.append(response.headers["location"])

    def follow(self, response):
        """Follow the e-service's redirects (within the e-service) to the final page."""
        while response.status_code in (302, 303, 307):
            location = response.headers["location"]
            assert urlsplit(location).netloc in ("", urlsplit(ESERVICE).netloc), location
            response = self.get(location)
        return response

    def start_login(self):
        """Press 'Tunnistaudu Suomi.fi:llä': the redirect to the IdP."""
        start = self.get("/")
        response = self.post("/login", {"csrf_token": csrf_of(start.text)})
        assert response.status_code == 303, response.text
        assert response.headers["location"].startswith(f"{IDP}/idp/profile/SAML2/Redirect/SSO?")
        return response

    def idp_answer(self, redirect, person: str, *, action: str | None = None) -> dict[str, str]:
        """At the IdP: show the picker, choose ``person``; the auto-posting form's fields."""
        idp = TestClient(self.eservice.neighbours.idp_app, base_url=IDP)
        target = urlsplit(redirect.headers["location"])
        picker = idp.get(f"{target.path}?{target.query}")
        assert picker.status_code == 200, picker.text
        self.urls_seen.append(str(picker.request.url))
        form = {"login": hidden_fields(picker.text)["login"], "person": person}
        if action:
            form["action"] = action
        answer = idp.post("/idp/login", data=form)
        assert answer.status_code == 200, answer.text
        fields = hidden_fields(answer.text)
        assert re.search(rf'action="{re.escape(ESERVICE)}/saml/acs"', answer.text)
        return fields

    def post_to_acs(self, fields: dict[str, str]):
        """The IdP's cross-site POST: no e-service cookies go with it (SameSite=Lax)."""
        bare = TestClient(self.eservice.app, base_url=ESERVICE, follow_redirects=False)
        response = bare.post("/saml/acs", data=fields)
        self._saw(response)
        assert not response.cookies, "the ACS must not hand out a session"
        return response

    def log_in(self, person: str):
        """The whole login; returns the first page after it."""
        fields = self.idp_answer(self.start_login(), person)
        acs = self.post_to_acs(fields)
        assert acs.status_code == 303 and acs.headers["location"].endswith("/login/complete"), acs.text
        return self.follow(self.get(acs.headers["location"]))

    def pick_in_valtuudet(self, choose, child: str | None, *, action: str = "select"):
        """From the whom-for page to Suomi.fi Valtuudet, pick ``child`` (a person key) there, and come back.

        Returns the e-service's answer to the callback (not followed)."""
        to_valtuudet = self.post("/apply/for", {"applicant": "valtuudet", "csrf_token": csrf_of(choose.text)})
        assert to_valtuudet.status_code == 303 and to_valtuudet.headers["location"].startswith(f"{VALTUUDET}/oauth/authorize?"), to_valtuudet.text
        valtuudet = TestClient(self.eservice.neighbours.valtuudet_app, base_url=VALTUUDET, follow_redirects=False)
        target = urlsplit(to_valtuudet.headers["location"])
        page = valtuudet.get(f"{target.path}?{target.query}")
        assert page.status_code == 200, page.text
        self.urls_seen.append(str(page.request.url))
        form = {**hidden_fields(page.text), "action": action} | ({"principal": child} if child else {})
        back = valtuudet.post("/oauth/authorize", data=form)
        assert back.status_code == 303 and back.headers["location"].startswith(f"{ESERVICE}/apply/for/valtuudet?"), back.text
        self.urls_seen.append(back.headers["location"])
        location = urlsplit(back.headers["location"])
        return self.get(f"{location.path}?{location.query}")


def hetu_of(person: str) -> str:
    hetu = PERSONS[person].hetu
    assert hetu is not None
    return hetu
