"""The mass-recruitment checkpoints: one per application (``application:<id>``) and the night's report.

An application's checkpoint grows step by step (screened, booked, moved, told), and which keys it
has says which steps are done: ``interview`` present but None means every slot was full. So the
model keeps the keys that were set, and stores only those (and ``version``), as before the models.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from processes.checkpoints import Checkpoint
from schemas.recruitment import Outcome, ReasonCode

#: What ``letter`` holds when no letter reached the candidate (otherwise the e-mail's Message-ID).
LETTER_REFUSED, LETTER_NO_ADDRESS = "refused", "no_address"


class BookedSeat(BaseModel):
    """The seat booked in a group interview (times as ISO strings with their offset, as Helbit gave them)."""

    model_config = ConfigDict(frozen=True)

    id: int
    slot_id: int | None = None
    start: str
    end: str
    location: str | None = None


class ApplicationProgress(Checkpoint):
    """What this night did to one application; stored under ``application:<id>`` (:meth:`step_for`)."""

    STEP = "application:"
    outcome: Outcome | None = None
    reasons: list[ReasonCode] = Field(default_factory=list)
    registration_number: str | None = None
    interview: BookedSeat | None = None
    stage: str | None = None
    letter: str | None = None

    @classmethod
    def step_for(cls, application_id: int) -> str:
        return f"{cls.STEP}{application_id}"

    def done(self, step: str) -> bool:
        """The key was recorded (``interview`` may be recorded as None: no free seat)."""
        return step in self.model_fields_set

    def with_(self, **changes: Any) -> ApplicationProgress:
        """This progress with ``changes`` recorded (validated, and counted as set)."""
        return ApplicationProgress.model_validate(self.stored() | changes)

    def stored(self) -> dict[str, Any]:
        return self.model_dump(mode="json", exclude_unset=True) | {"version": self.version}

    @property
    def letter_failed(self) -> bool:
        return self.letter in (LETTER_REFUSED, LETTER_NO_ADDRESS)


class ReportSent(Checkpoint):
    """The recruiter's report e-mail of this job and night."""

    STEP = "report_sent"
    message_id: str
