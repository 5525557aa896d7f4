"""The Koha sandbox's pages for people: what the library system holds, without any hetu.

Server-rendered HTML (Jinja2), Finnish first, then Swedish and English, under ``/_sandbox/`` so
fault injection never touches them: an index with the libraries and patron categories, and the
patron list (card number, name, category, home library, guarantor, and only *whether* a patron has
a hetu key: the key itself stays in the API, where the connector asks for it).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, Response
from fastapi.templating import Jinja2Templates

from connectors.koha.sandbox.store import KohaStore

TEMPLATES = Jinja2Templates(directory=Path(__file__).parent / "templates")


def install_pages(app: FastAPI, store: KohaStore, *, hetu_key_attribute: str) -> None:
    """Add the index and patron pages to the sandbox app."""

    @app.get("/_sandbox/", response_class=HTMLResponse, name="koha_index")
    async def index(request: Request) -> Response:
        with store.lock:
            libraries = sorted(store.libraries.values(), key=lambda library: library["library_id"])
            categories = sorted(store.categories.values(), key=lambda category: category["patron_category_id"])
            patrons = len(store.patrons)
        return TEMPLATES.TemplateResponse(request, "index.html", {"libraries": libraries, "categories": categories, "patrons": patrons})

    @app.get("/_sandbox/patrons", response_class=HTMLResponse, name="koha_patrons")
    async def patrons(request: Request) -> Response:
        with store.lock:
            rows = [_row(store, record, hetu_key_attribute) for record in sorted(store.patrons.values(), key=lambda r: r["patron_id"])]
            libraries = {library_id: library["name"] for library_id, library in store.libraries.items()}
        return TEMPLATES.TemplateResponse(request, "patrons.html", {"rows": rows, "libraries": libraries})


def _row(store: KohaStore, record: dict[str, Any], hetu_key_attribute: str) -> dict[str, Any]:
    attributes = store.attributes.of_patron(record["patron_id"])
    guarantors = [a["value"] for a in attributes if a["type"] == store.guarantor_attribute]
    return {
        "patron_id": record["patron_id"],
        "cardnumber": record.get("cardnumber"),
        "name": " ".join(part for part in (record.get("firstname"), record.get("surname")) if part),
        "category_id": record.get("category_id"),
        "library_id": record.get("library_id"),
        "expiry_date": record.get("expiry_date"),
        "has_hetu_key": any(a["type"] == hetu_key_attribute for a in attributes),
        "guarantors": guarantors,
    }
