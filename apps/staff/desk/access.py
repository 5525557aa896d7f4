"""Who may open a Desk page: a signed-in member of staff, and for a case, one whose role handles its process.

Every Desk route depends on :data:`Member`; a request without a member in the session is sent
to sign in (303 to ``/kirjaudu``), and :func:`check_may_handle` refuses (403) a case of a process
the member's roles do not handle. The sign-in itself (OpenID Connect) is the staff app's, not
the Desk's: this module only reads the session through :func:`apps.staff.identity.signed_in`.
"""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

from fastapi import Depends, HTTPException, Request

from apps.staff.identity import StaffMember, signed_in
from apps.staff.settings import StaffSettings

#: Where a person who is not signed in is sent.
SIGN_IN_PATH = "/kirjaudu"


class SignInRequiredError(Exception):
    """No member of staff is signed in in this session; the app answers with a redirect to sign in."""

    def __init__(self, back_to: str) -> None:
        super().__init__("sign in first")
        self.location = f"{SIGN_IN_PATH}?next={quote(back_to, safe='/')}"


def require_member(request: Request) -> StaffMember:
    """The signed-in member, or :class:`SignInRequiredError` (sent back here afterwards)."""
    member = signed_in(request.session)
    if member is None:
        raise SignInRequiredError(request.url.path)
    return member


Member = Annotated[StaffMember, Depends(require_member)]


def staff_settings(request: Request) -> StaffSettings:
    return request.app.state.staff_settings


def check_may_handle(request: Request, member: StaffMember, process: str) -> None:
    """Raises: HTTPException(403): the member's roles do not handle ``process``."""
    if not member.may_handle(process, staff_settings(request).role_processes):
        raise HTTPException(403)


def check_administrator(member: StaffMember) -> None:
    """Raises: HTTPException(403): the member is not an administrator."""
    if not member.is_administrator:
        raise HTTPException(403)


def processes_of(request: Request, member: StaffMember) -> list[str]:
    """The processes whose cases ``member`` sees, in a stable order."""
    return sorted(member.processes(staff_settings(request).role_processes))
