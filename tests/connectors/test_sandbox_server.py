"""All sandboxes on one port: discovery, the index page, each mount answering, and ``kuntaflow sandbox``."""

from __future__ import annotations

import html
import os
import re
import socket
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import anyio
import httpx
import pytest
import stamina
import typer
from fastapi import FastAPI, Request
from typer.testing import CliRunner

from apps.cli.sandbox_commands import sandbox
from connectors.sandbox_server import create_app, discover
from connectors.sandbox_support import SyncASGITransport
from connectors.servers import free_port, serve_in_thread
from connectors.suomifi_viestit import ViestitClient, ViestitSettings

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def server_app(tmp_path_factory):
    # Module-scoped, so the per-test data directory is not set yet: sandboxes that keep files get their own.
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("KUNTAFLOW_DATA_DIR", str(tmp_path_factory.mktemp("kuntaflow-data")))
        yield create_app()


@pytest.fixture
def http(server_app):
    with httpx.Client(transport=SyncASGITransport(server_app), base_url="http://sandboxes.test") as client:
        yield client


def test_every_connector_sandbox_in_the_tree_is_mounted(server_app):
    expected = sorted(p.parent.parent.name for p in (ROOT / "connectors").glob("*/sandbox/__init__.py"))
    assert sorted(server_app.state.sandboxes) == expected
    assert "suomifi_viestit" in expected
    assert {name: entry.error for name, entry in server_app.state.sandboxes.items() if entry.error} == {}


def test_the_index_links_to_every_sandboxs_pages_and_each_answers(http, server_app):
    index = http.get("/")
    assert index.status_code == 200 and index.headers["content-type"].startswith("text/html")
    assert '<html lang="fi">' in index.text
    listing = http.get("/_sandboxes").json()
    assert set(listing) == set(server_app.state.sandboxes)
    for name, entry in listing.items():
        assert entry["title"] in index.text.replace("&#x27;", "'")
        assert entry["url"] == f"http://sandboxes.test/{name}"
        assert entry["pages"], name
        for url in entry["pages"].values():
            assert f'href="{html.escape(url)}"' in index.text  # & is &amp; in HTML
            assert http.get(url).status_code == 200, url
    assert "http://sandboxes.test/suomifi_viestit/_sandbox/mailboxes" in listing["suomifi_viestit"]["pages"].values()


def test_the_mailbox_page_links_stay_inside_the_mount(http):
    page = http.get("/suomifi_viestit/_sandbox/mailboxes")
    assert 'href="http://sandboxes.test/suomifi_viestit/_sandbox/mailboxes/1"' in page.text
    assert http.get("/suomifi_viestit/_sandbox/mailboxes/1").status_code == 200


@pytest.fixture
def fake_connectors(tmp_path, monkeypatch) -> str:
    """A package tree with a full sandbox, a bare one, a connector without a sandbox, and a broken sandbox."""
    package = "fake_connectors_for_sandbox_server"
    root = tmp_path / package
    files = {
        "__init__.py": "",
        "alpha/__init__.py": "",
        "alpha/sandbox/__init__.py": """
            import contextlib
            from starlette.applications import Starlette
            from starlette.responses import PlainTextResponse
            from starlette.routing import Route
            TITLE = "Alpha system"
            DESCRIPTION = "Alpha <b>sandbox</b>"
            PAGES = (("People", "/people"),)
            EVENTS = []
            def create_app():
                return Starlette(routes=[Route("/people", lambda request: PlainTextResponse("alpha people"))])
            @contextlib.contextmanager
            def lifespan(app):
                EVENTS.append("side service started")
                yield
                EVENTS.append("side service stopped")
            """,
        "bare/__init__.py": "",
        "bare/sandbox/__init__.py": """
            from contextlib import asynccontextmanager
            from fastapi import FastAPI
            EVENTS = []
            @asynccontextmanager
            async def own_lifespan(app):
                EVENTS.append("app lifespan started")
                yield
                EVENTS.append("app lifespan stopped")
            def create_app():
                return FastAPI(title="Bare API", lifespan=own_lifespan)
            """,
        "failing/__init__.py": "",
        "failing/sandbox/__init__.py": """
            from fastapi import FastAPI
            def create_app():
                return FastAPI(title="Failing services")
            def lifespan(app):
                raise OSError("port 8025 is taken")
            """,
        "nosandbox/__init__.py": "",
        "broken/__init__.py": "",
        "broken/sandbox/__init__.py": "raise RuntimeError('half-written sandbox')\n",
        "nofactory/__init__.py": "",
        "nofactory/sandbox/__init__.py": "TITLE = 'No factory'\n",
    }
    for relative, text in files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))
    monkeypatch.syspath_prepend(str(tmp_path))
    yield package
    for name in [m for m in sys.modules if m.startswith(package)]:
        del sys.modules[name]


def test_discovery_mounts_what_exists_and_lists_what_is_broken(fake_connectors):
    found = {entry.name: entry for entry in discover(fake_connectors)}
    assert sorted(found) == ["alpha", "bare", "broken", "failing", "nofactory"]
    assert (found["alpha"].title, found["alpha"].pages) == ("Alpha system", (("People", "/people"),))
    assert (found["bare"].title, found["bare"].pages, found["bare"].error) == ("Bare API", (("API docs", "/docs"),), None)
    assert found["broken"].app is None and "half-written sandbox" in found["broken"].error
    assert found["nofactory"].app is None and "no create_app" in found["nofactory"].error

    app = create_app(package=fake_connectors)
    with httpx.Client(transport=SyncASGITransport(app), base_url="http://x") as http:
        index = http.get("/").text
        assert "Alpha &lt;b&gt;sandbox&lt;/b&gt;" in index  # descriptions are escaped
        assert "half-written sandbox" in index
        assert http.get("/alpha/people").text == "alpha people"
        assert http.get("/bare/docs").status_code == 200
        assert http.get("/broken/").status_code == 404


def test_services_beside_the_apps_run_while_the_server_runs(fake_connectors):
    app = create_app(package=fake_connectors, only=["alpha", "bare", "failing"])
    alpha, bare = (sys.modules[f"{fake_connectors}.{name}.sandbox"] for name in ("alpha", "bare"))
    with serve_in_thread(app) as url:
        assert alpha.EVENTS == ["side service started"] and bare.EVENTS == ["app lifespan started"]
        assert "port 8025 is taken" in app.state.sandboxes["failing"].error
        assert httpx.get(f"{url}/failing/docs").status_code == 200  # its HTTP side still serves
        assert httpx.get(f"{url}/alpha/people").text == "alpha people"
        index = httpx.get(f"{url}/").text
        assert "port 8025 is taken" in index and f"{url}/failing/docs" in index
    assert alpha.EVENTS[-1] == "side service stopped" and bare.EVENTS[-1] == "app lifespan stopped"


def test_only_named_sandboxes_are_mounted(fake_connectors):
    app = create_app(package=fake_connectors, only=["alpha"])
    assert list(app.state.sandboxes) == ["alpha"]


def test_a_connector_talks_to_its_sandbox_through_the_shared_port():
    with (
        serve_in_thread(create_app(only=["suomifi_viestit"])) as url,
        stamina.set_testing(True, attempts=3),
        ViestitClient(ViestitSettings(base_url=f"{url}/suomifi_viestit")) as viestit,
    ):
        assert viestit.events().events == []


def cli() -> typer.Typer:
    app = typer.Typer()
    app.command()(sandbox)
    return app


def test_the_command_refuses_a_port_in_use():
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = CliRunner().invoke(cli(), ["--port", str(port)])
    assert result.exit_code == 1 and f"Port {port}" in result.output


def test_discovery_skips_the_editable_installs_path_hook_entry(fake_connectors):
    # A namespace package under an editable install has "__editable__.….__path_hook__" in its __path__.
    package = sys.modules.get(fake_connectors) or __import__(fake_connectors)
    package.__path__ = [*package.__path__, "__editable__.kuntaflow-0.1.0.finder.__path_hook__"]
    assert "alpha" in [entry.name for entry in discover(fake_connectors)]


def test_kuntaflow_sandbox_logs_a_person_in_over_a_real_port_and_shows_their_mailbox(tmp_path, monkeypatch):
    """The command as a person runs it (from outside the repository), driven like a browser."""
    from connectors.sandbox_people import population
    from connectors.suomifi_tunnistus import ServiceProvider, SuomiFiSettings

    port = free_port()
    root = f"http://127.0.0.1:{port}"
    environment = {
        "KUNTAFLOW_DATA_DIR": str(tmp_path / "data"),
        "KUNTAFLOW_SUOMIFI_IDP_METADATA": "sandbox",
        "KUNTAFLOW_SUOMIFI_SANDBOX_IDP_URL": f"{root}/suomifi_tunnistus",
        "KUNTAFLOW_SANDBOX_POPULATION_SIZE": "5",
    }
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    command = [str(Path(sys.executable).parent / "kuntaflow"), "sandbox", "--port", str(port), "--only", "suomifi_tunnistus", "--only", "suomifi_viestit"]
    process = subprocess.Popen(command, cwd=tmp_path, env=os.environ.copy(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                listing = httpx.get(f"{root}/_sandboxes", timeout=1).json()
                break
            except httpx.TransportError:
                assert process.poll() is None, process.stdout.read()
                assert time.monotonic() < deadline, "kuntaflow sandbox did not answer within 60 s"
                time.sleep(0.2)
        assert list(listing) == ["suomifi_tunnistus", "suomifi_viestit"]
        someone = population(5)[2]
        sp = ServiceProvider(SuomiFiSettings())  # the e-service's SP: same data directory, so the IdP trusts it
        with httpx.Client(base_url=root, follow_redirects=True, timeout=10) as browser:
            assert f'href="{root}/suomifi_tunnistus/"' in browser.get("/").text
            login = sp.login_request("relay-1", locale="fi")
            picker = browser.get(login.url)
            assert picker.status_code == 200 and "Valitse testihenkilö" in picker.text and 'name="person_key"' in picker.text
            token = re.search(r'name="login" value="([^"]+)"', picker.text).group(1)
            posted = browser.post("/suomifi_tunnistus/idp/login", data={"login": token, "person": "_other", "person_key": someone.key, "action": "login"})
            response = html.unescape(re.search(r'name="SAMLResponse" value="([^"]+)"', posted.text).group(1))
            identity = sp.process_response(response, login.request_id)
            assert identity.hetu == someone.hetu and identity.surname == someone.surname
            mailbox = browser.get(f"/suomifi_viestit/_sandbox/people/{someone.key}")
            assert mailbox.status_code == 200 and mailbox.url.path.startswith("/suomifi_viestit/_sandbox/mailboxes/")
            assert someone.display_name in mailbox.text and someone.hetu not in mailbox.text
    finally:
        process.terminate()
        output, _ = process.communicate(timeout=15)
    assert f"Sandboxes: {root}/" in output and f"suomifi_viestit      {root}/suomifi_viestit" in output


def test_mounted_sandboxes_that_name_a_route_alike_each_link_to_their_own():
    from starlette.applications import Starlette
    from starlette.routing import Mount
    from starlette.testclient import TestClient

    from connectors.sandbox_server import OwnRouteNames

    def sandbox(path: str) -> FastAPI:
        app = FastAPI()

        @app.get(path, name="login")
        def login(request: Request) -> dict:
            return {"self": str(request.url_for("login"))}

        return app

    root = Starlette(routes=[Mount("/aaa", app=OwnRouteNames(sandbox("/ui/login"))), Mount("/idp", app=OwnRouteNames(sandbox("/idp/login")))])
    with TestClient(root, base_url="http://sandboxes.test") as client:
        assert client.get("/idp/idp/login").json() == {"self": "http://sandboxes.test/idp/idp/login"}
        assert client.get("/aaa/ui/login").json() == {"self": "http://sandboxes.test/aaa/ui/login"}


@pytest.mark.parametrize("client", [("192.0.2.10", 40000), ("2001:db8::5", 40000), ("sandbox.example", 40000)])
def test_the_sandboxes_own_pages_answer_only_on_loopback_and_the_imitated_apis_everywhere(client):
    app = create_app(only=["suomifi_viestit", "email"])

    def get(path: str, peer: tuple[str, int]) -> int:
        transport = httpx.ASGITransport(app=app, client=peer)

        async def call() -> int:
            async with httpx.AsyncClient(transport=transport, base_url="http://sandboxes.test") as http:
                return (await http.get(path)).status_code

        return anyio.run(call)

    for page in ("/", "/_sandboxes", "/suomifi_viestit/_sandbox/mailboxes", "/email/_sandbox/mailbox", "/email/_sandbox/api/messages"):
        assert get(page, client) == 403, page
        assert get(page, ("127.0.0.1", 40000)) == 200, page
        assert get(page, ("::1", 40000)) == 200, page
    # The imitated system's API is not a sandbox page: answered (here: 401 without a token) from anywhere.
    assert get("/suomifi_viestit/v1/mailboxes/active", client) not in (403, 404)
