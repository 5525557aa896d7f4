"""Contract checking shared by every connector: real specs in ../shared/specs, exchanges from httpx.

Fixtures:
- ``recording_transport(inner)`` wraps any ``httpx.BaseTransport`` (a sandbox's
  ``SyncASGITransport``, a ``MockTransport``) and keeps every request/response pair.
- ``openapi_contract(spec_path, servers=None)`` loads a spec and validates those pairs with
  openapi-core: the request the client sent, and the response the sandbox gave.

OpenAPI 3.x files are used as they are (``$ref``s resolved by openapi-core). Swagger 2.0 files
(Koha) are converted in memory to OpenAPI 3.1: every ``$ref``, across files too, is inlined;
``in: body`` / ``in: formData`` become request bodies; ``collectionFormat`` becomes style/explode;
response schemas get their ``produces`` media type. 3.1 keeps Koha's ``type: [string, "null"]``
valid. Only paths whose files exist are loaded (the Koha root lists many we do not keep), so an
exchange on a path the spec lacks is reported as *uncovered*, never silently passed.
YAML is read with ``yes``/``no`` left as strings (YAML 1.2), as Koha's enums need.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
import yaml
from openapi_core import OpenAPI
from openapi_core.datatypes import RequestParameters
from openapi_core.templating.paths.exceptions import OperationNotFound, PathNotFound, ServerNotFound
from werkzeug.datastructures import Headers, ImmutableMultiDict

SPECS = Path(os.environ.get("KUNTAFLOW_SPECS_DIR", Path(__file__).resolve().parents[3] / "shared" / "specs"))


# ------------------------------------------------------------------------------------ YAML 1.2-ish loading


class _Yaml12Loader(yaml.SafeLoader):
    """SafeLoader whose booleans are only true/false (YAML 1.2), so enum [yes, no] stays strings."""


_Yaml12Loader.yaml_implicit_resolvers = {
    key: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:bool"] for key, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
for _first in "tTfF":
    _Yaml12Loader.yaml_implicit_resolvers.setdefault(_first, []).insert(
        0,
        (
            "tag:yaml.org,2002:bool",
            re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"),
        ),
    )


@cache
def load_yaml(path: Path) -> Any:
    with path.open(encoding="utf-8") as handle:
        return yaml.load(handle, Loader=_Yaml12Loader)


# ------------------------------------------------------------------------------------ swagger 2 -> openapi 3.1


def _pointer(document: Any, pointer: str) -> Any:
    node = document
    for part in [p for p in pointer.lstrip("/").split("/") if p]:
        node = node[part.replace("~1", "/").replace("~0", "~")]
    return node


#: Entries a contract adds to a spec's root document in memory (the file on disk stays as upstream wrote it).
_ADDITIONS: dict[Path, dict[str, dict[str, Any]]] = {}


def _document(path: Path) -> Any:
    """A spec file as loaded, with any entries added to it for a contract."""
    document = load_yaml(path)
    additions = _ADDITIONS.get(path.resolve())
    if not additions:
        return document
    return {**document, **{section: {**document.get(section, {}), **entries} for section, entries in additions.items()}}


def _inline(node: Any, base: Path, seen: tuple[str, ...] = ()) -> Any:
    """Inline every $ref (relative files and JSON pointers) below ``node``."""
    if isinstance(node, list):
        return [_inline(item, base, seen) for item in node]
    if not isinstance(node, dict):
        return node
    if "$ref" in node:
        target, _, pointer = str(node["$ref"]).partition("#")
        path = (base.parent / target).resolve() if target else base
        key = f"{path}#{pointer}"
        if key in seen:
            raise ValueError(f"recursive $ref {key}")
        return _inline(_pointer(_document(path), pointer), path, (*seen, key))
    return {key: _inline(value, base, seen) for key, value in node.items()}


_PARAMETER_SCHEMA_KEYS = ("type", "items", "enum", "format", "minimum", "maximum", "pattern", "minLength", "maxLength", "default")


def _parameter(parameter: dict[str, Any]) -> dict[str, Any]:
    out = {k: parameter[k] for k in ("name", "in", "description", "required") if k in parameter}
    out["schema"] = {k: parameter[k] for k in _PARAMETER_SCHEMA_KEYS if k in parameter}
    if parameter.get("type") == "array":
        fmt = parameter.get("collectionFormat", "csv")
        if parameter["in"] == "query":
            out["style"], out["explode"] = "form", fmt == "multi"
        elif parameter["in"] in ("header", "path"):
            out["style"], out["explode"] = "simple", False
    return out


def _operation(operation: dict[str, Any], shared: list[dict[str, Any]], consumes: list[str], produces: list[str]) -> dict[str, Any]:
    out = {k: v for k, v in operation.items() if k not in ("parameters", "responses", "consumes", "produces")}
    consumes = operation.get("consumes", consumes) or ["application/json"]
    produces = operation.get("produces", produces) or ["application/json"]
    parameters = {(p["in"], p["name"]): p for p in [*shared, *operation.get("parameters", [])]}
    plain, form_fields = [], []
    for parameter in parameters.values():
        if parameter["in"] == "body":
            out["requestBody"] = {
                "required": bool(parameter.get("required")),
                "content": {media: {"schema": parameter.get("schema", {})} for media in consumes},
            }
        elif parameter["in"] == "formData":
            form_fields.append(parameter)
        else:
            plain.append(_parameter(parameter))
    if form_fields:
        schema = {
            "type": "object",
            "properties": {p["name"]: _parameter(p)["schema"] for p in form_fields},
            "required": [p["name"] for p in form_fields if p.get("required")],
        }
        out["requestBody"] = {"required": True, "content": {"application/x-www-form-urlencoded": {"schema": schema}}}
    if plain:
        out["parameters"] = plain
    out["responses"] = {}
    for status, response in operation.get("responses", {}).items():
        converted = {"description": response.get("description", "")}
        if "schema" in response:
            converted["content"] = {media: {"schema": response["schema"]} for media in produces}
        out["responses"][str(status)] = converted
    return out


def swagger2_to_openapi31(root: Path, additions: dict[str, dict[str, Any]] | None = None) -> dict[str, Any]:
    """``additions``: ``{"paths": {route: {"$ref": …}}, "definitions": {name: {"$ref": …}}}`` the root lacks."""
    if additions:
        _ADDITIONS[root.resolve()] = additions
    document = _document(root)
    paths: dict[str, Any] = {}
    for route, item in document.get("paths", {}).items():
        target = str(item.get("$ref", "")).partition("#")[0]
        if target and not (root.parent / target).exists():
            continue  # the spec folder keeps only the files this project uses
        try:
            resolved = _inline(item, root)
        except KeyError:
            continue  # the root names a path the kept (older) paths file does not have
        shared = resolved.get("parameters", [])
        paths[route] = {
            method: _operation(operation, shared, document.get("consumes", []), document.get("produces", []))
            for method, operation in resolved.items()
            if method in ("get", "put", "post", "delete", "patch", "head", "options")
        }
    return {
        "openapi": "3.1.0",
        "info": {"title": document["info"]["title"], "version": str(document["info"]["version"])},
        "servers": [{"url": document.get("basePath", "/")}],
        "paths": paths,
    }


# ------------------------------------------------------------------------------------ httpx adapters


class HttpxOpenAPIRequest:
    """openapi-core's Request protocol over an ``httpx.Request``."""

    def __init__(self, request: httpx.Request) -> None:
        self.request = request
        url = urlsplit(str(request.url))
        self.host_url = f"{url.scheme}://{url.netloc}"
        self.path = url.path
        self.method = request.method.lower()
        self.parameters = RequestParameters(
            query=ImmutableMultiDict(parse_qs(url.query, keep_blank_values=True)),
            header=Headers(list(request.headers.items())),
            cookie=ImmutableMultiDict(),
        )

    @property
    def body(self) -> bytes | None:
        return self.request.content or None

    @property
    def content_type(self) -> str:
        return self.request.headers.get("content-type", "")


class HttpxOpenAPIResponse:
    def __init__(self, response: httpx.Response) -> None:
        self.response = response

    @property
    def status_code(self) -> int:
        return self.response.status_code

    @property
    def headers(self) -> Headers:
        return Headers(list(self.response.headers.items()))

    @property
    def content_type(self) -> str:
        return self.response.headers.get("content-type", "").split(";")[0].strip().lower()

    @property
    def data(self) -> bytes | None:
        return self.response.content or None


# ------------------------------------------------------------------------------------ recording and checking


@dataclass
class Exchange:
    request: httpx.Request
    response: httpx.Response

    def __str__(self) -> str:
        return f"{self.request.method} {self.request.url.path} -> {self.response.status_code}"


class RecordingTransport(httpx.BaseTransport):
    """Passes requests to ``inner`` and keeps each request/response pair."""

    def __init__(self, inner: httpx.BaseTransport) -> None:
        self.inner = inner
        self.exchanges: list[Exchange] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        request.read()
        response = self.inner.handle_request(request)
        response.read()
        self.exchanges.append(Exchange(request, response))
        return response

    def close(self) -> None:
        self.inner.close()


class RecordingASGI:
    """Wraps an ASGI app served on a real port and keeps each exchange as httpx objects, for a client
    that is not ours (its own HTTP library, its own transport) to be checked like our connectors.

    ``base_url`` is where the app is served: the recorded URLs use it, whatever Host header came."""

    def __init__(self, app: Any, base_url: str = "http://127.0.0.1") -> None:
        self.app = app
        self.base_url = base_url.rstrip("/")
        self.exchanges: list[Exchange] = []

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        chunks = []
        while True:
            message = await receive()
            chunks.append(message.get("body", b""))
            if not message.get("more_body"):
                break
        body = b"".join(chunks)
        replayed = False
        answer: dict[str, Any] = {"status": 500, "headers": [], "body": []}

        async def replay() -> dict[str, Any]:
            nonlocal replayed
            if replayed:
                return await receive()
            replayed = True
            return {"type": "http.request", "body": body, "more_body": False}

        async def capture(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                answer["status"], answer["headers"] = message["status"], message.get("headers", [])
            elif message["type"] == "http.response.body":
                answer["body"].append(message.get("body", b""))
            await send(message)

        await self.app(scope, replay, capture)
        query = scope.get("query_string", b"").decode()
        url = f"{self.base_url}{scope.get('root_path', '')}{scope['path']}" + (f"?{query}" if query else "")
        headers = [(name.decode("latin-1"), value.decode("latin-1")) for name, value in scope["headers"] if name.lower() != b"host"]
        request = httpx.Request(scope["method"], url, headers=headers, content=body)
        response_headers = [(name.decode("latin-1"), value.decode("latin-1")) for name, value in answer["headers"]]
        response = httpx.Response(answer["status"], headers=response_headers, content=b"".join(answer["body"]), request=request)
        self.exchanges.append(Exchange(request, response))


@dataclass
class ContractReport:
    """``checked``: exchanges whose request and response both validate; ``uncovered``: paths the spec lacks."""

    checked: list[str] = field(default_factory=list)
    uncovered: list[str] = field(default_factory=list)
    request_violations: list[str] = field(default_factory=list)
    response_violations: list[str] = field(default_factory=list)

    @property
    def violations(self) -> list[str]:
        return self.request_violations + self.response_violations


class OpenAPIContract:
    """A loaded spec that checks exchanges against it."""

    def __init__(self, spec_path: Path, *, servers: list[str] | None = None, additions: dict[str, dict[str, Any]] | None = None) -> None:
        document = load_yaml(spec_path)
        # Swagger 2 is converted; an OpenAPI 3 document is used as a private, JSON-clean copy.
        spec = swagger2_to_openapi31(spec_path, additions) if str(document.get("swagger", "")).startswith("2") else json.loads(json.dumps(document))
        if servers is not None:
            spec["servers"] = [{"url": url} for url in servers]
        _any_body_where_content_is_empty(spec)
        self.spec = spec
        self.openapi = OpenAPI.from_dict(spec, base_uri=spec_path.resolve().as_uri())

    def operations(self) -> set[str]:
        return {f"{method.upper()} {route}" for route, item in self.spec["paths"].items() for method in item}

    def operation_of(self, exchange: Exchange) -> str | None:
        """``"METHOD /spec/path/{param}"`` of an exchange, the first route of the spec that matches; None if none."""
        for route, item in self.spec["paths"].items():
            pattern = "^" + re.sub(r"\{[^}]+\}", "[^/]+", route) + "$"
            if re.match(pattern, exchange.request.url.path) and exchange.request.method.lower() in item:
                return f"{exchange.request.method} {route}"
        return None

    def check(self, exchanges: Iterable[Exchange]) -> ContractReport:
        report = ContractReport()
        for exchange in exchanges:
            request = HttpxOpenAPIRequest(exchange.request)
            valid = True
            try:
                self.openapi.validate_request(request)
            except (PathNotFound, OperationNotFound, ServerNotFound):
                report.uncovered.append(str(exchange))
                continue
            except Exception as error:  # openapi-core raises a family of validation errors
                report.request_violations.append(f"request {exchange}: {_explain(error)}")
                valid = False
            # The answer to an invalid request (a 400) must still have the spec's shape.
            try:
                self.openapi.validate_response(request, HttpxOpenAPIResponse(exchange.response))
            except Exception as error:
                report.response_violations.append(f"response {exchange}: {_explain(error)}")
                valid = False
            if valid:
                report.checked.append(str(exchange))
        return report


def _any_body_where_content_is_empty(spec: dict[str, Any]) -> None:
    """A response declared with ``content: {}`` says nothing of its body (Suomi.fi Messages'
    attachment download): any media type is accepted, where openapi-core would accept none."""
    for item in spec.get("paths", {}).values():
        for operation in item.values():
            for response in (operation.get("responses") or {}).values() if isinstance(operation, dict) else ():
                if isinstance(response, dict) and response.get("content") == {}:
                    response["content"] = {"*/*": {}}


def _explain(error: BaseException) -> str:
    parts = [f"{type(error).__name__}: {error}"]
    for detail in getattr(error, "schema_errors", None) or []:
        parts.append(f"  {'/'.join(map(str, detail.absolute_path))}: {detail.message}")
    if error.__cause__ is not None and error.__cause__ is not error:
        parts.append(f"  caused by {_explain(error.__cause__)}")
    return "\n".join(parts)


@pytest.fixture
def recording_transport() -> Callable[[httpx.BaseTransport], RecordingTransport]:
    return RecordingTransport


@pytest.fixture(scope="session")
def recording_asgi() -> type[RecordingASGI]:
    """``recording_asgi(app, base_url)``: an ASGI wrapper that records what a third-party client sends over a real port."""
    return RecordingASGI


@pytest.fixture(scope="session")
def openapi_contract() -> Callable[..., OpenAPIContract]:
    """``openapi_contract(path, servers=None, additions=None)``; loaded specs are cached for the session.

    ``additions`` adds paths and definitions a Swagger 2 root does not list (see :func:`swagger2_to_openapi31`)."""
    loaded: dict[tuple[Path, tuple[str, ...] | None, str], OpenAPIContract] = {}

    def load(spec_path: Path | str, *, servers: list[str] | None = None, additions: dict[str, dict[str, Any]] | None = None) -> OpenAPIContract:
        path = Path(spec_path)
        if not path.is_absolute():
            path = SPECS / path
        key = (path, tuple(servers) if servers is not None else None, json.dumps(additions, sort_keys=True))
        if key not in loaded:
            loaded[key] = OpenAPIContract(path, servers=servers, additions=additions)
        return loaded[key]

    return load
