"""Who may open a staff page: FastAPI dependencies every Desk route uses.

- ``member: Annotated[StaffMember, Depends(require_member)]`` — the signed-in member. A person who
  is not signed in is sent to sign-in (``/kirjaudu?seuraava=<this path>``) and, once signed in,
  comes back to the page they asked for (GET; after a form they come back to the page the form
  was on when the browser says so, else the start page).
- ``ensure_may_handle(request, member, process)`` — call it once the item (and so its process) is
  known: raises 403 unless one of the member's roles handles ``process``.
- ``member: Annotated[StaffMember, Depends(require_administrator)]`` — the access log: 403 for
  anyone but an administrator.

Every check is made here, on the server, for every request; a page that hides a button decides
nothing. The roles come from ``StaffSettings`` on ``request.app.state.staff_settings``.
"""

from __future__ import annotations

from urllib.parse import quote, urlsplit

from fastapi import HTTPException, Request

from apps.staff.identity import StaffMember, signed_in
from apps.staff.settings import StaffSettings
from schemas.web_address import same_site_path

#: Where an unsigned person is sent; ``?seuraava=`` carries the page they were going to.
SIGN_IN_PATH = "/kirjaudu"
NEXT_PARAMETER = "seuraava"


class SignInRequiredError(Exception):
    """Raised by :func:`require_member` for a person not signed in; the app answers with a redirect to sign-in."""

    def __init__(self, next_path: str) -> None:
        super().__init__(next_path)
        self.next_path = next_path


def staff_settings(request: Request) -> StaffSettings:
    """The app's staff settings (roles, groups, address)."""
    return request.app.state.staff_settings


def _return_path(request: Request) -> str:
    if request.method in ("GET", "HEAD"):
        query = f"?{request.url.query}" if request.url.query else ""
        return same_site_path(f"{request.url.path}{query}")
    referer = request.headers.get("referer") or ""
    parts = urlsplit(referer)
    if parts.netloc and parts.netloc != request.url.netloc:
        return "/"
    return same_site_path(parts.path + (f"?{parts.query}" if parts.query else ""))


def sign_in_url(next_path: str) -> str:
    """The sign-in address that brings the person back to ``next_path`` afterwards."""
    return f"{SIGN_IN_PATH}?{NEXT_PARAMETER}={quote(same_site_path(next_path), safe='/')}"


def require_member(request: Request) -> StaffMember:
    """The signed-in member (a FastAPI dependency).

    Raises:
        SignInRequiredError: nobody is signed in in this session; the app redirects (303) to sign-in,
            which returns to this page (a same-site path only) afterwards.
    """
    member = signed_in(request.session)
    if member is None:
        raise SignInRequiredError(_return_path(request))
    return member


def ensure_may_handle(request: Request, member: StaffMember, process: str) -> None:
    """Refuse (403) unless one of ``member``'s roles handles ``process``'s cases.

    Raises:
        HTTPException: 403, with a plain-language reason.
    """
    if not member.may_handle(process, staff_settings(request).role_processes):
        raise HTTPException(status_code=403, detail="forbidden_process")


def may_handle(request: Request, member: StaffMember, process: str) -> bool:
    """Whether ``member`` sees and acts on ``process``'s cases (to choose what a page lists)."""
    return member.may_handle(process, staff_settings(request).role_processes)


def require_administrator(request: Request) -> StaffMember:
    """The signed-in member if they are an administrator (a FastAPI dependency).

    Raises:
        SignInRequiredError: nobody is signed in.
        HTTPException: 403 for a member who is not an administrator.
    """
    member = require_member(request)
    if not member.is_administrator:
        raise HTTPException(status_code=403, detail="forbidden_administrator")
    return member
