"""Every connector sandbox on one port, with an index page a person can open.

Convention: a connector ``connectors/<name>/`` that has a ``sandbox`` package whose ``create_app()``
builds an ASGI app is mounted at ``/<name>/``. The package may also define ``TITLE``,
``DESCRIPTION`` and ``PAGES`` (``(label, path inside the sandbox)`` pairs: a person picker, a
mailbox page …); without them the app's title and ``/docs`` are shown. Sandboxes that do not
exist yet are simply absent; one that fails to import or build is listed with its error instead
of taking the others down.

Mounted apps get no lifespan events of their own, so the server runs them: each sandbox app's own
lifespan (FastAPI ``lifespan=``/startup handlers), then the package's optional ``lifespan(app)``,
a sync or async context manager for what lives beside the HTTP app (e.g. the e-mail sandbox's
SMTP server). A service that fails to start marks its sandbox's ``error``; the rest keep running.

A sandbox package may also define ``client_environment(base_url)``: the settings that point its
connector at it; :func:`client_environment` collects them for a whole server (``apps.local_stack``).

``kuntaflow sandbox`` serves :func:`create_app` with uvicorn; tests mount it in-process. The index
is ``/`` (HTML) and ``/_sandboxes`` (JSON, for robots and scripts).
"""

from __future__ import annotations

import contextlib
import html
import importlib
import ipaddress
import logging
from collections.abc import AsyncIterator, Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, PlainTextResponse
from starlette.routing import Mount, Route

logger = logging.getLogger("connectors.sandbox_server")

DEFAULT_PAGES: tuple[tuple[str, str], ...] = (("API docs", "/docs"),)


@dataclass
class MountedSandbox:
    """One connector's sandbox as the index shows it; ``error`` is set when it could not be built."""

    name: str
    title: str
    description: str = ""
    pages: tuple[tuple[str, str], ...] = DEFAULT_PAGES
    app: Any = field(default=None, repr=False)
    error: str | None = None
    lifespan: Callable[[Any], Any] | None = field(default=None, repr=False)

    @property
    def prefix(self) -> str:
        return f"/{self.name}"


def discover(package: str = "connectors", *, only: Iterable[str] | None = None) -> list[MountedSandbox]:
    """Build every ``<package>.<name>.sandbox`` that exists (or those named in ``only``), in name order."""
    return [_build(name, f"{package}.{name}.sandbox") for name in sandbox_names(package, only=only)]


def sandbox_names(package: str = "connectors", *, only: Iterable[str] | None = None) -> list[str]:
    """The connectors that have a sandbox (or those of them named in ``only``), in name order."""
    wanted = set(only) if only is not None else None
    parent = importlib.import_module(package)
    # Only real folders: under an editable install a namespace package's __path__ also holds the
    # finder's "__editable__…__path_hook__" entry, which is no folder at all.
    folders = [Path(entry) for entry in getattr(parent, "__path__", ()) if Path(entry).is_dir()]
    names = sorted({name for folder in folders for name in _connectors_with_a_sandbox(folder)})
    return [name for name in names if wanted is None or name in wanted]


def client_environment(root: str, *, package: str = "connectors", only: Iterable[str] | None = None) -> dict[str, str]:
    """Environment that points each connector's client at its sandbox mounted under ``root``.

    Each sandbox package says for itself what its connector needs: an optional
    ``client_environment(base_url) -> dict[str, str]``, called with ``<root>/<name>``. Call this
    *before* :func:`create_app`, with the result in the environment: some sandboxes read it when
    they are built (the IdP its own URL, the e-mail sandbox its SMTP port). Sandboxes without the
    hook, or that fail to import, are left to their connector's defaults.
    """
    environment: dict[str, str] = {}
    for name in sandbox_names(package, only=only):
        try:
            hook = getattr(importlib.import_module(f"{package}.{name}.sandbox"), "client_environment", None)
        except Exception:  # create_app() will list it with its error
            logger.exception("sandbox %s could not be imported", name)
            continue
        if callable(hook):
            environment.update(hook(f"{root.rstrip('/')}/{name}"))
    return environment


def _connectors_with_a_sandbox(folder: Path) -> Iterator[str]:
    # Folders, not pkgutil: a connector still being written may lack its own __init__.py (a namespace
    # package imports fine), and it should show up as soon as its sandbox does.
    for child in folder.iterdir():
        if child.is_dir() and child.name.isidentifier() and ((child / "sandbox" / "__init__.py").is_file() or (child / "sandbox.py").is_file()):
            yield child.name


def _build(name: str, dotted: str) -> MountedSandbox:
    try:
        sandbox = importlib.import_module(dotted)
        factory = getattr(sandbox, "create_app", None)
        if not callable(factory):
            return MountedSandbox(name, name, error=f"{dotted} has no create_app()")
        app = factory()
    except Exception as error:  # one broken sandbox must not take the others down
        logger.exception("sandbox %s could not be built", name)
        return MountedSandbox(name, name, error=f"{type(error).__name__}: {error}")
    return MountedSandbox(
        name=name,
        title=str(getattr(sandbox, "TITLE", None) or getattr(app, "title", None) or name),
        description=str(getattr(sandbox, "DESCRIPTION", "") or ""),
        pages=tuple(getattr(sandbox, "PAGES", None) or DEFAULT_PAGES),
        app=app,
        lifespan=getattr(sandbox, "lifespan", None) if callable(getattr(sandbox, "lifespan", None)) else None,
    )


@contextlib.asynccontextmanager
async def _run_services(sandboxes: list[MountedSandbox]) -> AsyncIterator[None]:
    async with contextlib.AsyncExitStack() as stack:
        for sandbox in sandboxes:
            if sandbox.app is None:
                continue
            try:
                router = getattr(sandbox.app, "router", None)
                if router is not None and hasattr(router, "lifespan_context"):
                    await stack.enter_async_context(router.lifespan_context(sandbox.app))
                if sandbox.lifespan is not None:
                    manager = sandbox.lifespan(sandbox.app)
                    if hasattr(manager, "__aenter__"):
                        await stack.enter_async_context(manager)
                    else:
                        stack.enter_context(manager)
            except Exception as error:  # e.g. its port is taken: the HTTP side and the others still serve
                logger.exception("sandbox %s: its services did not start", sandbox.name)
                sandbox.error = f"services did not start: {type(error).__name__}: {error}"
        yield


class OwnRouteNames:
    """A mounted app whose ``url_for`` finds its own routes, under its own prefix.

    Starlette resolves ``url_for`` on the outermost router, which searches every mount in turn: two
    sandboxes naming a route alike (``login``: the IdP's and the recruiter UI's) would link into
    each other. Here the mounted app's router is the one asked, and the mount is the URLs' root.
    """

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] in ("http", "websocket"):
            scope = {key: value for key, value in scope.items() if key != "router"}
            scope["app_root_path"] = scope.get("root_path", "")
        await self.app(scope, receive, send)


def create_app(*, package: str = "connectors", only: Iterable[str] | None = None) -> Starlette:
    """All sandboxes mounted at ``/<connector>/``, the index at ``/``; ``app.state.sandboxes`` lists them."""
    sandboxes = discover(package, only=only)

    async def index(request: Request) -> HTMLResponse:
        return HTMLResponse(_index_html(_root(request), sandboxes))

    async def listing(request: Request) -> JSONResponse:
        root = _root(request)
        return JSONResponse(
            {
                sandbox.name: {
                    "title": sandbox.title,
                    "url": f"{root}{sandbox.prefix}",
                    "pages": {label: f"{root}{sandbox.prefix}{path}" for label, path in sandbox.pages},
                    "error": sandbox.error,
                }
                for sandbox in sandboxes
            }
        )

    routes: list[Any] = [Route("/", index), Route("/_sandboxes", listing)]
    routes += [Mount(sandbox.prefix, app=OwnRouteNames(sandbox.app)) for sandbox in sandboxes if sandbox.app is not None]
    app = Starlette(routes=routes, lifespan=lambda _: _run_services(sandboxes), middleware=[Middleware(DropHungUpRequests), Middleware(SandboxPagesOnLoopback)])
    app.state.sandboxes = {sandbox.name: sandbox for sandbox in sandboxes}
    return app


class DropHungUpRequests:
    """A request whose client hung up mid-way (a robot killed while sending) ends quietly, as on a real server.

    Whatever a sandbox raises because its client is gone (starlette's ``ClientDisconnect`` reading the
    body, or a middleware's "No response returned") has nobody to answer and is not the sandbox's
    fault: it is dropped here, at the outermost layer, and only when the client really disconnected.
    """

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        hung_up = False

        async def watched_receive() -> dict[str, Any]:
            nonlocal hung_up
            message = await receive()
            hung_up = hung_up or message["type"] == "http.disconnect"
            return message

        try:
            await self.app(scope, watched_receive, send)
        except Exception:
            if not hung_up:
                raise


class SandboxPagesOnLoopback:
    """The index and every sandbox's own pages and controls (``/_sandbox…``: test people, mailboxes,
    records, fault settings) answer only clients on this machine, even when the server listens on
    every address (``kuntaflow up --host 0.0.0.0``): they show people's data and change behaviour.
    The imitated systems' APIs and UIs stay reachable, as the real ones would be."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "http" and is_sandbox_page(scope["path"]) and not is_loopback(scope.get("client")):
            response = PlainTextResponse("403 Forbidden: the sandboxes' own pages answer only on this machine (loopback).", status_code=403)
            await response(scope, receive, send)
            return
        await self.app(scope, receive, send)


def is_sandbox_page(path: str) -> bool:
    """The index (``/``, ``/_sandboxes``) or a path with a ``_sandbox…`` segment."""
    return path in ("/", "/_sandboxes") or any(part.startswith("_sandbox") for part in path.split("/"))


def is_loopback(client: tuple[str, int] | None) -> bool:
    """True for 127.0.0.0/8 and ::1, and for an in-process call with no network peer at all."""
    if client is None:
        return True
    try:
        return ipaddress.ip_address(client[0]).is_loopback
    except ValueError:
        return False


def _root(request: Request) -> str:
    return str(request.base_url).rstrip("/")


def _index_html(root: str, sandboxes: list[MountedSandbox]) -> str:
    items = []
    for sandbox in sandboxes:
        base = f"{root}{sandbox.prefix}"
        body = ""
        if sandbox.error:
            body = f'<p class="error">Ei käynnistynyt · Startade inte · Could not start: {html.escape(sandbox.error)}</p>'
        if sandbox.app is not None:
            links = "".join(f'<li><a href="{html.escape(base + path)}">{html.escape(label)}</a></li>' for label, path in sandbox.pages)
            body += f"<p>{html.escape(sandbox.description)}</p><p>API: <code>{html.escape(base)}</code></p><ul>{links}</ul>"
        items.append(f'<section id="{html.escape(sandbox.name)}"><h2>{html.escape(sandbox.title)}</h2>{body}</section>')
    content = "".join(items) or "<p>Ei hiekkalaatikoita · Inga sandlådor · No sandboxes found.</p>"
    return f"""<!doctype html>
<html lang="fi"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Kuntaflow – hiekkalaatikot</title>
<style>
body {{ font-family: system-ui, sans-serif; max-width: 56rem; margin: 2rem auto; padding: 0 1rem; color: #1a1a1a; }}
.lang {{ color: #555; }} section {{ border: 1px solid #dde3ea; border-radius: 4px; padding: 0 1.2rem; margin: 1rem 0; }}
.error {{ color: #8a2c0b; }} code {{ background: #f4f6f8; padding: 0.1rem 0.3rem; }}
</style></head>
<body>
<h1>Kuntaflow-hiekkalaatikot <span class="lang">sandlådor · sandboxes</span></h1>
<p>Paikalliset jäljitelmät kaupungin järjestelmistä. <span class="lang">Lokala kopior av stadens system. · Local fakes of the city's systems.</span></p>
{content}
</body></html>"""
