"""The Desk's access dependencies: sign-in first, back to the same page, and 403 outside one's roles."""

from __future__ import annotations

from typing import Annotated

import pytest
from fastapi import APIRouter, Depends, Request
from fastapi.testclient import TestClient

from apps.staff import create_app
from apps.staff.access import ensure_may_handle, require_administrator, require_member
from apps.staff.identity import Role, StaffMember, remember
from schemas.web_address import same_site_path

probe = APIRouter()


@probe.get("/koe/{process}")
def handle(request: Request, process: str, member: Annotated[StaffMember, Depends(require_member)]) -> dict:
    ensure_may_handle(request, member, process)
    return {"actor": member.actor}


@probe.post("/koe/{process}")
def act(request: Request, process: str, member: Annotated[StaffMember, Depends(require_member)]) -> dict:
    ensure_may_handle(request, member, process)
    return {"done": True}


@probe.get("/loki")
def access_log(member: Annotated[StaffMember, Depends(require_administrator)]) -> dict:
    return {"actor": member.actor}


@probe.post("/_test/sign-in/{role}")
def sign_in_as(request: Request, role: str) -> dict:
    remember(request.session, StaffMember(subject=f"{role}-1", name=role.title(), roles=frozenset({Role(role)})))
    return {}


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    with pytest.MonkeyPatch.context() as env:
        env.setenv("KUNTAFLOW_DATA_DIR", str(tmp_path_factory.mktemp("staff-access")))
        yield create_app(routers=[probe])


def test_an_unsigned_person_is_sent_to_sign_in_and_remembered_where_they_were_going(app):
    client = TestClient(app)
    answer = client.get("/koe/library_card?sivu=2", follow_redirects=False)
    assert answer.status_code == 303
    assert answer.headers["location"] == "/kirjaudu?seuraava=/koe/library_card%3Fsivu%3D2"
    posted = client.post("/koe/library_card", headers={"referer": "http://evil.example/koe"}, follow_redirects=False)
    assert posted.status_code == 303 and posted.headers["location"] == "/kirjaudu?seuraava=/"


def test_a_member_handles_their_roles_processes_and_gets_403_elsewhere(app):
    client = TestClient(app)
    client.post("/_test/sign-in/librarian")
    assert client.get("/koe/library_card").json() == {"actor": "Librarian (librarian-1)"}
    refused = client.get("/koe/employment_start")
    assert refused.status_code == 403
    assert "Tämän prosessin tapaukset eivät kuulu rooleihisi" in refused.text
    assert client.post("/koe/employment_start").status_code == 403
    assert client.get("/loki").status_code == 403


def test_only_an_administrator_reads_the_access_log(app):
    client = TestClient(app)
    client.post("/_test/sign-in/administrator")
    assert client.get("/loki").json() == {"actor": "Administrator (administrator-1)"}
    assert client.get("/koe/mass_recruitment").status_code == 200


@pytest.mark.parametrize(
    "candidate",
    ["https://evil.example/", "//evil.example/x", "/\\evil.example", "javascript:alert(1)", "/a\r\nSet-Cookie: x=1", "", None, "tapaukset"],
)
def test_only_same_site_paths_are_returned_to(candidate):
    assert same_site_path(candidate) == "/"


def test_a_same_site_path_keeps_its_query():
    assert same_site_path("/tapaukset?process=library_card&tila=FAILED") == "/tapaukset?process=library_card&tila=FAILED"


def test_the_language_switch_keeps_the_page_and_the_choice(app):
    client = TestClient(app)
    switched = client.get("/kieli/sv?seuraava=/koe/x", follow_redirects=False)
    assert switched.status_code == 303 and switched.headers["location"] == "/koe/x"
    page = client.get("/ei-ole")
    assert page.status_code == 404 and '<html lang="sv">' in page.text and "Sidan hittades inte" in page.text
    assert client.get("/kieli/de", follow_redirects=False).status_code == 404


def test_the_desks_address_comes_from_the_options_then_the_settings(monkeypatch):
    from apps.cli.stack_commands import staff_address

    monkeypatch.delenv("KUNTAFLOW_STAFF_PORT", raising=False)
    monkeypatch.delenv("KUNTAFLOW_STAFF_PUBLIC_URL", raising=False)
    assert staff_address(None, None) == (8010, None)  # the local stack makes it http://HOST:8010
    assert staff_address(0, "https://desk.example.fi/") == (0, "https://desk.example.fi")
    monkeypatch.setenv("KUNTAFLOW_STAFF_PORT", "9010")
    monkeypatch.setenv("KUNTAFLOW_STAFF_PUBLIC_URL", "https://desk.city.fi")
    assert staff_address(None, None) == (9010, "https://desk.city.fi")
    with pytest.raises(ValueError, match="--staff-url must be an absolute"):
        staff_address(None, "desk.example.fi")
