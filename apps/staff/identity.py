"""Who is signed in to the staff app, and what their roles let them see and do.

The city's OpenID Connect provider says who a person is and which groups they belong to; the
staff settings map groups to roles and roles to the processes whose cases the role handles.
Every check is made here, on the server, for every request: a page or form never decides who may
act. The signed-in member is kept in the staff app's signed session cookie under
:data:`SESSION_KEY`; nothing else about them is stored.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError

from schemas.staff_roles import Role

#: Where the signed-in staff member lives in the session.
SESSION_KEY = "staff_member"


class StaffMember(BaseModel):
    """A signed-in member of staff, as the identity provider's ID token described them."""

    model_config = ConfigDict(frozen=True)

    subject: str  # the provider's stable id (``sub``); the actor in audit trails and the access log
    name: str
    email: str | None = None
    roles: frozenset[Role] = frozenset()

    @property
    def actor(self) -> str:
        """How the member appears in audit trails: name and provider id, so two people with one name stay apart."""
        return f"{self.name} ({self.subject})"

    @property
    def is_administrator(self) -> bool:
        return Role.ADMINISTRATOR in self.roles

    def processes(self, role_processes: Mapping[Role, Iterable[str]]) -> frozenset[str]:
        """The processes whose cases this member may see and act on."""
        return frozenset(process for role in self.roles for process in role_processes.get(role, ()))

    def may_handle(self, process: str, role_processes: Mapping[Role, Iterable[str]]) -> bool:
        return process in self.processes(role_processes)


def roles_for_groups(groups: Iterable[str], role_groups: Mapping[Role, Iterable[str]]) -> frozenset[Role]:
    """The roles the provider's ``groups`` claim gives; a group no role names gives nothing."""
    held = set(groups)
    return frozenset(role for role, names in role_groups.items() if held.intersection(names))


def signed_in(session: Mapping[str, Any]) -> StaffMember | None:
    """The member in this session, or None (not signed in, or the stored value is not a member)."""
    stored = session.get(SESSION_KEY)
    if not isinstance(stored, dict):
        return None
    try:
        return StaffMember.model_validate(stored)
    except ValidationError:
        return None


def remember(session: dict[str, Any], member: StaffMember) -> None:
    """Keep ``member`` in the session after a successful sign-in."""
    session[SESSION_KEY] = member.model_dump(mode="json")


def forget(session: dict[str, Any]) -> None:
    """Sign out: drop the member from the session."""
    session.pop(SESSION_KEY, None)
