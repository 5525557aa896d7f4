"""The start page and the language switch."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from apps.eservice.pages import redirect, render, services_of
from apps.eservice.web import PageError, safe_next
from apps.i18n import remember_language

start = APIRouter()
language = APIRouter()


@start.get("/", name="start")
def start_page(request: Request) -> HTMLResponse:
    return render(request, "start.html")


@language.get("/language/{code}", name="language")
def choose_language(request: Request, code: str, next: str | None = None) -> RedirectResponse:
    if not remember_language(request, code):
        raise PageError(404, "not_found")
    return redirect(safe_next(next, services_of(request).settings.root_path))
