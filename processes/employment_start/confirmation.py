"""The supervisor's confirmation of an employment start: settings, the signed link, the form, the record.

The confirmation waits as a work item of its own (process ``employment_start_confirmation``,
a child of the ``employment_start`` item), NEW and not claimable before its reminder is due.
Nothing holds a robot, a lease or a worker slot while it waits. Three ways end the wait, all
through :func:`record_confirmation`, which is idempotent (the first answer counts):

- the signed one-time link in the supervisor's e-mail (``apps.staff``), which also resumes
  the waiting Prefect run if there is one;
- the Prefect UI's Resume form on the HR-started run (``flows.employment_start.SupervisorConfirmation``);
- an operator's ``kuntaflow queue mark-done``.

Who confirmed, how and when goes into both items' audit trails. The ``onboarding-reminders``
flow claims confirmations whose time has come: first a reminder to the supervisor, then an
escalation to HR (BUSINESS_FAILED, where a late confirmation still closes it).
"""

from __future__ import annotations

import logging
import secrets
from datetime import UTC, date, datetime, time
from enum import StrEnum
from time import monotonic, sleep
from typing import Any

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from pydantic import BaseModel, ConfigDict, Field, SecretStr, model_validator
from pydantic_core import PydanticCustomError
from pydantic_settings import BaseSettings, SettingsConfigDict

from kuntaflow.settings import KuntaflowSettings
from kuntaflow.workitems import InvalidTransitionError, ItemState, WorkItem, WorkQueue
from processes.employment_start.checkpoints import ConfirmationRequested, Confirmed, WaitingRun
from schemas.hetu import HELSINKI
from schemas.redaction import HETU_PATTERN
from schemas.staff_roles import StaffRoleSettings
from schemas.workdays import add_working_days

#: itsdangerous salt: a token signed for this purpose is useless for any other.
_LINK_PURPOSE = "kuntaflow.employment-start.confirmation"


class EmploymentStartSettings(BaseSettings):
    """The city's choices for employment starts (env prefix ``KUNTAFLOW_EMPLOYMENT_START_``)."""

    model_config = SettingsConfigDict(env_prefix="KUNTAFLOW_EMPLOYMENT_START_", extra="ignore")

    confirm_within_working_days: int = Field(default=2, ge=0, description="Working days the supervisor has before a reminder.")
    escalate_after_working_days: int = Field(default=1, ge=0, description="Working days after the reminder before HR is told.")
    ticket_lead_working_days: int = Field(default=3, ge=0, description="onboarding-reminders chases requests not done this many working days before the start.")
    hr_email: str = Field(default="henkilostopalvelut@hel.example", description="HR's shared mailbox for escalations.")
    staff_url: str = Field(
        default_factory=lambda: StaffRoleSettings().public_url,
        description="Where the staff app (apps.staff) answers the confirmation links: its public address, KUNTAFLOW_STAFF_PUBLIC_URL, unless set here.",
    )
    link_secret: SecretStr | None = Field(default=None, description="Signs the confirmation links; generated once into the data directory when unset.")
    link_max_age_days: int = Field(default=60, gt=0, description="A confirmation link stops working after this many days.")

    def signer(self) -> URLSafeTimedSerializer:
        secret = self.link_secret or KuntaflowSettings().generated_secret("confirmation-link.key", lambda: secrets.token_urlsafe(48))
        return URLSafeTimedSerializer(secret.get_secret_value(), salt=_LINK_PURPOSE)


# --------------------------------------------------------------------------- the signed link


class LinkError(ValueError):
    """A confirmation link that is forged, altered or expired (the message is for the page; ``kind`` is
    ``expired`` or ``invalid``, for a page in another language)."""

    def __init__(self, message: str, *, kind: str = "invalid") -> None:
        super().__init__(message)
        self.kind = kind


def confirmation_token(confirmation_item_id: int, supervisor_id: int, settings: EmploymentStartSettings) -> str:
    """A URL-safe signed token naming the confirmation item and the supervisor (ids only, no personal data)."""
    return settings.signer().dumps({"c": confirmation_item_id, "s": supervisor_id})


def confirmation_link(confirmation_item_id: int, supervisor_id: int, settings: EmploymentStartSettings) -> str:
    return f"{settings.staff_url.rstrip('/')}/vahvistus/{confirmation_token(confirmation_item_id, supervisor_id, settings)}"


def read_token(token: str, settings: EmploymentStartSettings) -> tuple[int, int]:
    """``(confirmation item id, supervisor id)`` from a token.

    Raises:
        LinkError: the signature does not match, the token is malformed, or it is too old.
    """
    try:
        data = settings.signer().loads(token, max_age=settings.link_max_age_days * 86400)
    except SignatureExpired:
        raise LinkError("Linkki on vanhentunut. Pyydä HR:ltä uusi.", kind="expired") from None
    except BadSignature:
        raise LinkError("Linkki on virheellinen. Tarkista, että kopioit sen kokonaan.") from None
    if not isinstance(data, dict) or not isinstance(data.get("c"), int) or not isinstance(data.get("s"), int):
        raise LinkError("Linkki on virheellinen.")
    return data["c"], data["s"]


# --------------------------------------------------------------------------- the form (Prefect RunInput and the link page)


class ConfirmationAnswer(BaseModel):
    """Esihenkilön vahvistus: the plan and the requests are checked and the first day is planned.

    The link page validates with this model; the Prefect form is its ``RunInput`` twin,
    ``flows.employment_start.SupervisorConfirmation`` (kept there so the robot never imports Prefect).
    """

    model_config = ConfigDict(extra="forbid", hide_input_in_errors=True)

    confirmed_by: str = Field(default="", title="Vahvistajan nimi", max_length=100)
    plan_confirmed: bool = Field(default=False, title="Perehdytyssuunnitelma ja tilaukset on tarkistettu")
    note: str = Field(default="", title="Huomiot HR:lle", max_length=500)

    @model_validator(mode="after")
    def _checked(self) -> ConfirmationAnswer:
        """Runs after the UI's schema check, so the flow asks again with this message instead of failing."""
        problems = {}
        if sum(ch.isalpha() for ch in self.confirmed_by) < 2:
            problems["name"] = "kirjoita nimesi (Vahvistajan nimi)"
        if not self.plan_confirmed:
            problems["plan"] = "rastita 'Perehdytyssuunnitelma ja tilaukset on tarkistettu'"
        if HETU_PATTERN.search(self.confirmed_by) or HETU_PATTERN.search(self.note):
            problems["hetu"] = "älä kirjoita henkilötunnusta lomakkeelle"
        if problems:
            context = {"what": "; ".join(problems.values()), "problems": ",".join(problems)}
            raise PydanticCustomError("confirmation_incomplete", "Vahvistus puuttuu: {what}.", context)
        return self


def confirmation_problem_codes(error: Exception) -> list[str]:
    """What is missing from an answer, as codes (``name``, ``plan``, ``hetu``) a page can say in its own language."""
    errors = getattr(error, "errors", None)
    if not callable(errors):
        return ["plan"]
    codes = [code for e in errors(include_input=False, include_url=False) for code in str((e.get("ctx") or {}).get("problems", "")).split(",") if code]
    return codes or ["plan"]


def confirmation_problem(error: Exception) -> str:
    """The form's error in Finnish, without the values typed."""
    errors = getattr(error, "errors", None)
    if callable(errors):
        return " ".join(e["msg"] for e in errors(include_input=False, include_url=False))
    return "Vahvistus puuttuu."


# --------------------------------------------------------------------------- the record


class ConfirmationPayload(BaseModel):
    """What a confirmation item carries: enough for the reminder, the escalation and the link page."""

    model_config = ConfigDict(extra="forbid")

    employment_item_id: int
    supervisor_id: int
    supervisor_name: str
    supervisor_email: str
    employee_name: str
    title: str
    unit_name: str
    start_date: date
    escalate_after_working_days: int


class ConfirmationResult(StrEnum):
    CONFIRMED = "confirmed"
    ALREADY_CONFIRMED = "already_confirmed"
    BUSY = "busy"  # the reminders flow holds the item this very moment: try again


def due_after(today: date, working_days: int) -> datetime:
    """The morning (00:00 Helsinki) of the ``working_days``-th working day after today, in UTC; 0 means now."""
    if working_days == 0:
        return datetime.now(UTC)
    # In UTC: the queue stores naive UTC on SQLite.
    return datetime.combine(add_working_days(today, working_days), time.min, tzinfo=HELSINKI).astimezone(UTC)


def reminder_due(today: date, settings: EmploymentStartSettings) -> datetime:
    """When the supervisor is reminded if there is no answer yet."""
    return due_after(today, settings.confirm_within_working_days)


def record_confirmation(queue: WorkQueue, confirmation_item_id: int, *, confirmed_by: str, via: str, note: str = "") -> ConfirmationResult:
    """Close the confirmation item and write who confirmed, how and when into both audit trails.

    Idempotent: a second answer (the other channel, a double click) changes nothing.
    """
    item = queue.get(confirmation_item_id)
    if item.state is ItemState.DONE:
        return ConfirmationResult.ALREADY_CONFIRMED
    if item.state is ItemState.IN_PROGRESS:
        return ConfirmationResult.BUSY
    at = datetime.now(HELSINKI)
    actor = f"{' '.join(confirmed_by.split())} ({via})"[:128]
    reason = f"Esihenkilö vahvisti perehdytyksen {at:%d.%m.%Y klo %H.%M}" + (f": {note.strip()}" if note.strip() else "")
    try:
        confirmed = Confirmed(by=confirmed_by, via=via, at=at)
        queue.checkpoint(confirmation_item_id, confirmed.STEP, confirmed.stored())
        queue.mark_done(confirmation_item_id, reason=reason, actor=actor)
    except InvalidTransitionError:
        return ConfirmationResult.ALREADY_CONFIRMED if queue.get(confirmation_item_id).state is ItemState.DONE else ConfirmationResult.BUSY
    if item.parent_id is not None:
        queue.record(item.parent_id, actor=actor, action="supervisor_confirmed", reason=reason)
    return ConfirmationResult.CONFIRMED


def confirmation_of(queue: WorkQueue, employment_item: WorkItem) -> WorkItem | None:
    """The employment start's confirmation item, once the robot asked for it."""
    requested = ConfirmationRequested.read(queue.checkpoints(employment_item.id))
    return queue.get(requested.confirmation_item_id) if requested else None


#: How long the link waits for a run that is on its way to suspending: the run looked at the confirmation
#: item just before the answer was recorded, so nobody would resume it otherwise.
SUSPEND_GRACE_SECONDS = 30.0


def resume_waiting_run(queue: WorkQueue, confirmation_item_id: int, answer: dict[str, Any], *, grace_seconds: float = SUSPEND_GRACE_SECONDS) -> bool:
    """Resume the Prefect run waiting on this confirmation; True when resumed.

    A run that is still running (between its last look at the item and its suspension) is waited
    for up to ``grace_seconds`` and then resumed; a run that has finished, or is not found, is left alone.
    """
    from prefect.exceptions import PrefectException  # noqa: PLC0415 (Prefect is heavy; kept off the staff app's start-up, which needs it only here)
    from prefect.flow_runs import resume_flow_run  # noqa: PLC0415 (as above)

    waiting = WaitingRun.read(queue.checkpoints(confirmation_item_id))
    if waiting is None:
        return False
    deadline = monotonic() + grace_seconds
    while True:
        try:
            resume_flow_run(waiting.flow_run_id, run_input=answer)
        except (PrefectException, RuntimeError) as error:  # NotPausedError, ObjectNotFound, a timed-out pause
            if type(error).__name__ == "NotPausedError" and monotonic() < deadline and _still_running(waiting.flow_run_id):
                sleep(0.25)
                continue
            logging.getLogger(__name__).info("Confirmation %s: no paused run to resume (%s)", confirmation_item_id, type(error).__name__)
            return False
        return True


def _still_running(flow_run_id: str) -> bool:
    """Whether the run has not finished yet: it may be about to pause, or has paused since the last try."""
    from prefect.client.orchestration import get_client  # noqa: PLC0415 (see resume_waiting_run)

    with get_client(sync_client=True) as client:
        state = client.read_flow_run(flow_run_id).state
    return state is not None and not state.is_final()
