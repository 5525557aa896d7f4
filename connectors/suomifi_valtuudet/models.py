"""What the HPA web API answers (reference/suomifi.md §3). A principal's ``personId`` is a henkilötunnus: ``repr`` hides it."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class Registration(BaseModel):
    """``GET /service/hpa/user/register/…``: the session for the API calls, the user for the authorize page."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    session_id: str = Field(alias="sessionId", min_length=1, max_length=200)
    user_id: str = Field(alias="userId", min_length=1, max_length=200)


class Principal(BaseModel):
    """A person the delegate chose to act for."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    person_id: str = Field(alias="personId", repr=False)
    name: str = Field(default="", repr=False)


class Reason(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True, populate_by_name=True)

    reason_rule: str | None = Field(default=None, alias="reasonRule")
    reason_value: str | None = Field(default=None, alias="reasonValue")
    value_type: str | None = Field(default=None, alias="valueType")


class Authorization(BaseModel):
    """``GET /service/hpa/api/authorization/{sessionId}/{principal}``: whether the delegate may act for the principal."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    result: Literal["ALLOWED", "DISALLOWED"]
    reasons: list[Reason] = Field(default_factory=list)

    @property
    def allowed(self) -> bool:
        return self.result == "ALLOWED"
