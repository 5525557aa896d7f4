"""Typed client for the Helbit-like recruitment system: the public open-jobs API (v2.3) and the
applications API (Greenhouse Harvest v1 shapes; contract in connectors/helbit/README.md).

Writes carry an ``Idempotency-Key`` (a repeat gets the first answer), so they are resent after
timeouts and 5xx. A move or rejection that finds the application already where it was sent is
not an error (another attempt did it): the methods return the application as it is.
"""

from __future__ import annotations

import logging
import re
from datetime import date
from typing import Any

import httpx

from connectors.errors import AutomationError
from connectors.helbit.errors import (
    ApplicationNotFoundError,
    HelbitAuthenticationError,
    HelbitUnavailableError,
    HelbitValidationError,
    JobNotFoundError,
    OpenJobsError,
    SlotFullError,
)
from connectors.helbit.models import (
    Application,
    InterviewBooked,
    InterviewSlot,
    Job,
    JobStage,
    OpenJob,
    OpenJobsResponse,
    RejectionReasonRef,
    ScheduledInterview,
    check_job_key,
)
from connectors.helbit.settings import HelbitSettings
from connectors.http import ConnectorClient, ErrorDetails, RetryPolicy

SYSTEM = "helbit"
OPEN_JOBS_PATH = "/portal-api/recruitment/v2.3/open-jobs"
logger = logging.getLogger("connectors.helbit")
_NEXT = re.compile(r'<([^>]+)>;\s*rel="next"')


class HelbitClient(ConnectorClient):
    """Helbit's open-jobs API and applications API. Contract: connectors/helbit/README.md."""

    def __init__(self, settings: HelbitSettings | None = None, *, transport: httpx.BaseTransport | None = None, retry: RetryPolicy | None = None) -> None:
        self.settings = settings or HelbitSettings()
        self.api = self.api_client(
            self.settings,
            system=SYSTEM,
            auth=httpx.BasicAuth(self.settings.api_token.get_secret_value(), ""),
            error_mapper=_map_helbit_error,
            transient_error=HelbitUnavailableError,
            transport=transport,
            retry=retry,
        )

    # ------------------------------------------------------------------ public open-jobs API

    def open_jobs(self, lang: str = "fi_FI") -> list[OpenJob]:
        """The open job advertisements, as the city's open-jobs site reads them.

        Raises:
            OpenJobsError: the API answered a ``status`` other than ``OK``.
        """
        response = self.api.request_model(OpenJobsResponse, "GET", OPEN_JOBS_PATH, params={"client": self.settings.client, "lang": lang})
        if response.status != "OK":
            raise OpenJobsError(f"{SYSTEM}: the open-jobs API answered status {response.status!r}")
        return response.job_advertisements

    # ------------------------------------------------------------------ jobs

    def list_jobs(self) -> list[Job]:
        return self.api.request_model(list[Job], "GET", "/api/v1/jobs", params={"status": "open"})

    def job_by_key(self, key: str) -> Job:
        """The job whose requisition id is the Helsinki job key.

        Raises:
            ValueError: not a job key.
            JobNotFoundError: no open job has that key.
        """
        key = check_job_key(key)
        for job in self.list_jobs():
            if job.requisition_id == key:
                return job
        raise JobNotFoundError(f"{SYSTEM}: no open job {key}", business_ids={"job_key": key})

    def job_stages(self, job_id: int) -> list[JobStage]:
        return self.api.request_model(list[JobStage], "GET", f"/api/v1/jobs/{int(job_id)}/stages", business_ids={"job_id": job_id})

    def interview_slots(self, job_id: int) -> list[InterviewSlot]:
        """The job's group-interview slots with their capacity and seats taken, earliest first."""
        return self.api.request_model(list[InterviewSlot], "GET", f"/api/v1/jobs/{int(job_id)}/interview_slots", business_ids={"job_id": job_id})

    def rejection_reasons(self) -> list[RejectionReasonRef]:
        return self.api.request_model(list[RejectionReasonRef], "GET", "/api/v1/rejection_reasons")

    # ------------------------------------------------------------------ applications

    def list_applications(self, job_id: int, *, status: str | None = None, per_page: int = 500) -> list[Application]:
        """Every application of the job (following the ``Link`` header's pages), optionally by status."""
        params: dict[str, Any] = {"job_id": int(job_id), "per_page": per_page}
        if status:
            params["status"] = status
        found: list[Application] = []
        url: str | None = "/api/v1/applications"
        while url is not None:
            response = self.api.request("GET", url, params=params, business_ids={"job_id": job_id})
            found.extend(self.api.decode(response, list[Application]))
            match = _NEXT.search(response.headers.get("link", ""))
            url, params = (match.group(1), None) if match else (None, None)  # the next link carries its own query
        return found

    def get_application(self, application_id: int) -> Application:
        """Raises: ApplicationNotFoundError."""
        return self.api.request_model(Application, "GET", f"/api/v1/applications/{int(application_id)}", business_ids={"application_id": application_id})

    def move_application(self, application_id: int, *, from_stage_id: int, to_stage_id: int, idempotency_key: str) -> Application:
        """Move to a stage. Already there (an earlier attempt moved it) returns it as it is.

        Raises:
            HelbitValidationError: it is in another stage than ``from_stage_id``, or rejected or hired meanwhile.
        """
        ids = {"application_id": application_id, "to_stage_id": to_stage_id}
        try:
            return self._write(
                Application,
                f"/api/v1/applications/{int(application_id)}/move",
                {"from_stage_id": from_stage_id, "to_stage_id": to_stage_id},
                idempotency_key,
                ids,
            )
        except HelbitValidationError:
            current = self.get_application(application_id)
            if current.current_stage is not None and current.current_stage.id == to_stage_id:
                logger.info("helbit: application %s was already in stage %s", application_id, to_stage_id)
                return current
            raise

    def reject_application(self, application_id: int, *, rejection_reason_id: int, notes: str | None, idempotency_key: str) -> Application:
        """Reject (without Helbit's own e-mail: the robot sends the letter). Already rejected returns it as it is.

        Raises:
            HelbitValidationError: the application was hired meanwhile, or the reason is unknown.
        """
        ids = {"application_id": application_id}
        body = {"rejection_reason_id": rejection_reason_id, "notes": notes}
        try:
            return self._write(Application, f"/api/v1/applications/{int(application_id)}/reject", body, idempotency_key, ids)
        except HelbitValidationError:
            current = self.get_application(application_id)
            if current.status == "rejected":
                return current
            raise

    def hire_application(self, application_id: int, *, start_date: date, idempotency_key: str) -> Application:
        """Mark the application hired with its start date (for people and tests; the robot reads hires)."""
        return self._write(
            Application,
            f"/api/v1/applications/{int(application_id)}/hire",
            {"start_date": start_date.isoformat()},
            idempotency_key,
            {"application_id": application_id},
        )

    # ------------------------------------------------------------------ interviews

    def book_interview(self, application_id: int, slot_id: int, *, idempotency_key: str) -> InterviewBooked:
        """Take a seat in a group-interview slot; the application's existing booking comes back with ``created=False``.

        Raises:
            SlotFullError: no seat left in the slot (another robot may have taken the last one).
            HelbitValidationError: the slot is of another job, or the application is not active.
        """
        ids = {"application_id": application_id, "interview_slot_id": slot_id}
        response = self.api.request(
            "POST",
            "/api/v2/scheduled_interviews",
            json={"application_id": application_id, "interview_slot_id": slot_id},
            headers=self._write_headers(idempotency_key),
            resend=True,
            business_ids=ids,
        )
        interview = self.api.decode(response, ScheduledInterview, business_ids=ids)
        return InterviewBooked(interview=interview, created=response.status_code == 201 and response.headers.get("idempotent-replayed") != "true")

    def book_first_free_slot(
        self, application_id: int, job_id: int, *, idempotency_key: str, free_seats: dict[int, int] | None = None
    ) -> InterviewBooked | None:
        """Book the earliest slot with a free seat; None when every slot is full.

        ``free_seats`` (slot id → seats believed free, earliest first) lets a robot booking many
        candidates skip re-reading the slots each time; it is updated in place, and read afresh
        from the system once it runs out. The system's capacity check is the arbiter: a slot that
        filled up meanwhile (another robot took the last seat) is skipped for the next one, so
        concurrent robots never overbook. The key, suffixed per slot, makes a resend after a lost
        answer return the booking that was made, and an application that has a seat gets it back.
        """
        seats = free_seats if free_seats is not None else {}
        for fresh in (False, True):
            if fresh or not seats:
                seats.clear()
                seats.update({slot.id: slot.free for slot in self.interview_slots(job_id)})
            for slot_id, free in list(seats.items()):
                if free <= 0:
                    continue
                try:
                    booked = self.book_interview(application_id, slot_id, idempotency_key=f"{idempotency_key}:{slot_id}")
                except SlotFullError:
                    logger.info("helbit: slot %s filled up meanwhile; trying the next", slot_id)
                    seats[slot_id] = 0
                    continue
                if booked.created:
                    seats[slot_id] = free - 1
                return booked
        existing = [i for i in self.scheduled_interviews(application_id) if i.status == "scheduled"]
        return InterviewBooked(interview=existing[0], created=False) if existing else None

    def scheduled_interviews(self, application_id: int) -> list[ScheduledInterview]:
        return self.api.request_model(
            list[ScheduledInterview], "GET", f"/api/v1/applications/{int(application_id)}/scheduled_interviews", business_ids={"application_id": application_id}
        )

    # ------------------------------------------------------------------ internals

    def _write_headers(self, idempotency_key: str) -> dict[str, str]:
        if not re.fullmatch(r"[\x21-\x7e]{1,255}", idempotency_key):
            raise ValueError("an idempotency key is 1-255 printable ASCII characters without spaces")
        return {"On-Behalf-Of": str(self.settings.on_behalf_of), "Idempotency-Key": idempotency_key}

    def _write(self, model: type[Any], path: str, body: dict[str, Any], idempotency_key: str, ids: dict[str, Any]) -> Any:
        return self.api.request_model(model, "POST", path, json=body, headers=self._write_headers(idempotency_key), resend=True, business_ids=ids)


def _messages(response: httpx.Response) -> str:
    try:
        payload = response.json()
    except ValueError:
        return ""
    if not isinstance(payload, dict):
        return ""
    parts = [str(payload.get("message", ""))] + [f"{e.get('field')}: {e.get('message')}" for e in payload.get("errors", []) if isinstance(e, dict)]
    return "; ".join(p for p in parts if p)


def _map_helbit_error(response: httpx.Response, details: ErrorDetails) -> AutomationError | None:
    status = response.status_code
    where = f"{response.request.method} {response.request.url.path}"
    said = _messages(response)
    if status in (401, 403):
        return HelbitAuthenticationError(f"{SYSTEM}: {where} answered {status}: {said}", **details)
    if status == 404:
        kind = ApplicationNotFoundError if "/applications/" in where else JobNotFoundError if "/jobs/" in where else None
        return kind(f"{SYSTEM}: {where}: not found", **details) if kind else None
    if status == 409 and "slot_full" in said:
        return SlotFullError(f"{SYSTEM}: {where}: the interview slot is full", **details)
    if status == 422:
        return HelbitValidationError(f"{SYSTEM}: {where} refused: {said}", **details)
    return None
