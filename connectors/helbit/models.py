"""Models of the Helbit connector: the public open-jobs API (Helbit's real v2.3 shape) and the
applications API (Greenhouse Harvest v1 shapes, domain.md §3.2, plus Helbit's group-interview slots)."""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

#: Helsinki's job key (työavain): division-NN-running-YY, e.g. ``sote-03-2180-22``.
JOB_KEY = re.compile(r"^[a-z]{2,10}-\d{2}-\d{1,5}-\d{2}$")


def check_job_key(value: str) -> str:
    """A Helsinki job key, lower-cased.

    Raises:
        ValueError: not of the form ``division-NN-running-YY`` (e.g. ``sote-03-2180-22``).
    """
    text = value.strip().lower()
    if not JOB_KEY.match(text):
        raise ValueError("a job key looks like sote-03-2180-22 (division-NN-running-YY)")
    return text


class _Model(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


# ---------------------------------------------------------------------- public open-jobs API


class JobAdvertisement(_Model):
    """``jobAdvertisement`` of ``GET /portal-api/recruitment/v2.3/open-jobs`` (fields as Helsinki's Rekry site reads them)."""

    model_config = ConfigDict(extra="ignore", frozen=True, populate_by_name=True)
    id: str
    title: str
    job_desc: str | None = Field(default=None, alias="jobDesc")
    address: str | None = None
    postal_code: str | None = Field(default=None, alias="postalCode")
    postal_area: str | None = Field(default=None, alias="postalArea")
    organization: str | None = None
    organization_desc: str | None = Field(default=None, alias="organizationDesc")
    job_duration: str | None = Field(default=None, alias="jobDuration")
    employment: str | None = None
    number_of_vacancy: int | None = Field(default=None, alias="numberOfVacancy")
    publication_starts: datetime | None = Field(default=None, alias="publicationStarts")
    publication_ends: datetime | None = Field(default=None, alias="publicationEnds")


class OpenJob(_Model):
    job_advertisement: JobAdvertisement = Field(alias="jobAdvertisement")
    link: dict[str, Any] = Field(default_factory=dict)

    @property
    def key(self) -> str:
        return self.job_advertisement.id


class OpenJobsResponse(_Model):
    status: str
    job_advertisements: list[OpenJob] = Field(default_factory=list, alias="jobAdvertisements")


# ---------------------------------------------------------------------- applications API


class CustomField(_Model):
    name: str | None = None
    type: str | None = None
    value: Any = None


class Job(_Model):
    """A job; ``requisition_id`` is the Helsinki job key, ``keyed_custom_fields`` carry its requirements."""

    id: int
    name: str
    requisition_id: str
    status: str
    keyed_custom_fields: dict[str, CustomField] = Field(default_factory=dict)
    hiring_team: dict[str, Any] = Field(default_factory=dict)
    offices: list[dict[str, Any]] = Field(default_factory=list)

    def custom(self, key: str) -> Any:
        field = self.keyed_custom_fields.get(key)
        return field.value if field else None

    @property
    def address(self) -> str | None:
        """The first office's street address: where the work is."""
        location = (self.offices[0].get("location") or {}) if self.offices else {}
        return location.get("name") if isinstance(location, dict) else None

    @property
    def recruiter_emails(self) -> list[str]:
        return [r["email"] for r in self.hiring_team.get("recruiters", []) if isinstance(r, dict) and r.get("email")]


class StageRef(_Model):
    id: int
    name: str | None = None


class JobStage(_Model):
    id: int
    name: str
    job_id: int
    priority: int = 0
    #: Helbit extension: what the stage is for (``new``, ``review``, ``interview``, ``offer``).
    kind: str | None = None


class RejectionReasonRef(_Model):
    id: int
    name: str


class Application(_Model):
    id: int
    candidate_id: int
    applied_at: datetime | None = None
    rejected_at: datetime | None = None
    last_activity_at: datetime | None = None
    status: str
    current_stage: StageRef | None = None
    rejection_reason: RejectionReasonRef | None = None
    jobs: list[StageRef] = Field(default_factory=list)
    #: Helbit extension: the start date recorded with the hire.
    start_date: date | None = None

    @field_validator("status")
    @classmethod
    def _known_status(cls, value: str) -> str:
        if value not in ("active", "rejected", "hired", "converted"):
            raise ValueError("status is one of active, rejected, hired, converted")
        return value


class DateTimeRef(_Model):
    date_time: datetime


class InterviewSlot(_Model):
    """A group-interview slot (Helbit extension): ``capacity`` seats, ``booked`` taken."""

    id: int
    job_id: int
    start: DateTimeRef
    end: DateTimeRef
    location: str
    capacity: int
    booked: int

    @property
    def free(self) -> int:
        return max(self.capacity - self.booked, 0)


class ScheduledInterview(_Model):
    id: int
    application_id: int
    interview_slot_id: int | None = None
    start: DateTimeRef
    end: DateTimeRef
    location: str | None = None
    status: str


class InterviewBooked(_Model):
    """``created`` is False when the application already had this interview (a resend, or another robot)."""

    interview: ScheduledInterview
    created: bool
