"""Staff roles and whose cases each handles: shared by the staff app (apps/staff) and the flows that reach staff.

``StaffRoleSettings`` (prefix ``KUNTAFLOW_STAFF_``) is the part of the staff app's settings that a
flow needs too: the app's public address (every e-mailed link is built on it), which groups give
each role, which processes each role handles, and who gets each role's daily digest. The staff
app's own settings (``apps.staff.settings.StaffSettings``) extend it.
"""

from __future__ import annotations

from enum import StrEnum

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from schemas.card_expiry import PROCESS as CARD_EXPIRY
from schemas.citizen_reply import PROCESS as CITIZEN_REPLY
from schemas.email_address import check_address
from schemas.employee import CONFIRMATION_PROCESS
from schemas.employee import PROCESS as EMPLOYMENT_START
from schemas.library_card import PROCESS as LIBRARY_CARD
from schemas.recruitment import PROCESS as MASS_RECRUITMENT
from schemas.web_address import public_base_url


class Role(StrEnum):
    """What a member of staff does; each role handles its own processes' cases."""

    LIBRARIAN = "librarian"
    HR = "hr"
    RECRUITER = "recruiter"
    ADMINISTRATOR = "administrator"


class StaffRoleSettings(BaseSettings):
    """The staff app's public address, its roles' groups and processes, and the digests' recipients."""

    model_config = SettingsConfigDict(env_prefix="KUNTAFLOW_STAFF_", extra="ignore")

    public_url: str = Field(
        default="http://127.0.0.1:8010",
        description="The address staff use, without a trailing slash; every link in an e-mail is built from it.",
    )
    role_groups: dict[Role, list[str]] = Field(
        default={
            Role.LIBRARIAN: ["kirjasto"],
            Role.HR: ["henkilostopalvelut"],
            Role.RECRUITER: ["rekrytointi"],
            Role.ADMINISTRATOR: ["kuntaflow-admin"],
        },
        description="Which of the identity provider's groups give each role.",
    )
    role_processes: dict[Role, list[str]] = Field(
        default={
            Role.LIBRARIAN: [LIBRARY_CARD, CARD_EXPIRY, CITIZEN_REPLY],
            Role.HR: [EMPLOYMENT_START, CONFIRMATION_PROCESS],
            Role.RECRUITER: [MASS_RECRUITMENT],
            Role.ADMINISTRATOR: [LIBRARY_CARD, CARD_EXPIRY, CITIZEN_REPLY, EMPLOYMENT_START, CONFIRMATION_PROCESS, MASS_RECRUITMENT],
        },
        description="Whose cases each role sees and acts on. An administrator also reads the access log.",
    )
    digest_recipients: dict[Role, list[str]] = Field(
        default={},
        description="Who gets each role's daily digest of the cases waiting for a person (e-mail addresses); a role with nobody gets none.",
    )

    @field_validator("public_url")
    @classmethod
    def _public_url(cls, value: str) -> str:
        return public_base_url(value, setting="KUNTAFLOW_STAFF_PUBLIC_URL", example="https://desk.example.fi")

    @field_validator("digest_recipients")
    @classmethod
    def _addresses(cls, value: dict[Role, list[str]]) -> dict[Role, list[str]]:
        return {role: [check_address(address) for address in addresses] for role, addresses in value.items()}
