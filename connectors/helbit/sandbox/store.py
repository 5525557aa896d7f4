"""State of the Helbit-like sandbox: jobs and their stages, applications, interview slots, scheduled
interviews, idempotency keys and recruiter logins. Every method takes the lock, so concurrent robots
see one consistent system (a slot is never booked past its capacity)."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime
from typing import Any

from connectors.helbit.sandbox.seed import (
    CLIENT_ID,
    HELSINKI,
    ApplicantSeed,
    InterviewSlotSeed,
    JobSeed,
    RecruitmentWorld,
    period_of,
    recruitment_world,
)
from connectors.helbit.settings import SANDBOX_UI_PASSWORD, SANDBOX_UI_USERNAME, SANDBOX_USER_ID

#: (offset, name, kind) of every job's stages; ``kind`` is what robots look stages up by.
STAGES = ((1, "Hakemus vastaanotettu", "new"), (2, "Esikarsinta: tarkistettava", "review"), (3, "Ryhmähaastattelu", "interview"), (4, "Työtarjous", "offer"))
REJECTION_REASONS = (
    {"id": 801, "name": "Ei täytä kelpoisuusehtoja", "type": {"id": 1, "name": "We rejected them"}},
    {"id": 802, "name": "Valittiin toinen hakija", "type": {"id": 1, "name": "We rejected them"}},
    {"id": 803, "name": "Hakija perui hakemuksensa", "type": {"id": 2, "name": "They rejected us"}},
)
#: Recruiter logins of the web UI: username → (password, display name).
UI_USERS = {SANDBOX_UI_USERNAME: (SANDBOX_UI_PASSWORD, "Rekrytointirobotti"), "rekrytoija": ("rekry2026", "Riikka Rekrytoija")}


class HelbitApiError(Exception):
    """An API answer other than success, in Greenhouse's error shape."""

    def __init__(self, status: int, message: str, errors: list[dict[str, Any]] | None = None, **extra: Any) -> None:
        super().__init__(status, message)
        self.status = status
        self.body: dict[str, Any] = {"message": message, **({"errors": errors} if errors else {}), **extra}


@dataclass
class Application:
    seed: ApplicantSeed
    stage_id: int | None
    status: str = "active"  # active | rejected | hired
    rejected_at: datetime | None = None
    rejection_reason_id: int | None = None
    rejection_notes: str | None = None
    hired_at: datetime | None = None
    start_date: date | None = None
    last_activity_at: datetime | None = None


@dataclass
class Remembered:
    fingerprint: str
    status: int
    body: Any


@dataclass
class HelbitStore:
    """Everything the sandbox remembers; tests read and drive it through ``app.state.store``."""

    world: RecruitmentWorld
    lock: threading.RLock = field(default_factory=threading.RLock)
    applications: dict[int, Application] = field(default_factory=dict)
    slots: dict[int, InterviewSlotSeed] = field(default_factory=dict)
    interviews: dict[int, dict[str, Any]] = field(default_factory=dict)
    idempotency: dict[str, Remembered] = field(default_factory=dict)
    exports: int = 0
    next_interview_id: int = 60_000_001

    @classmethod
    def seeded(cls, today: date | None = None) -> HelbitStore:
        world = recruitment_world(today or datetime.now(HELSINKI).date())
        store = cls(world=world)
        for seed in world.applicants:
            application = Application(seed, store.stage_id(seed.job_id, seed.stage), last_activity_at=seed.applied_at)
            if seed.hired_start is not None:
                application.status, application.stage_id = "hired", None
                application.start_date = seed.hired_start
                application.hired_at = seed.applied_at
            store.applications[seed.application_id] = application
        store.slots = {slot.slot_id: slot for slot in world.slots}
        return store

    # ------------------------------------------------------------------ jobs

    @property
    def jobs(self) -> tuple[JobSeed, ...]:
        return self.world.jobs

    def job(self, job_id: int) -> JobSeed:
        for job in self.world.jobs:
            if job.job_id == job_id:
                return job
        raise HelbitApiError(404, "Resource not found")

    def job_by_key(self, key: str) -> JobSeed | None:
        return next((job for job in self.world.jobs if job.key == key), None)

    @staticmethod
    def stage_id(job_id: int, kind: str) -> int:
        return job_id * 10 + next(offset for offset, _, k in STAGES if k == kind)

    def stages_of(self, job_id: int) -> list[dict[str, Any]]:
        self.job(job_id)
        return [
            {"id": job_id * 10 + offset, "name": name, "job_id": job_id, "priority": offset - 1, "active": True, "kind": kind, "interviews": []}
            for offset, name, kind in STAGES
        ]

    def stage(self, stage_id: int | None) -> dict[str, Any] | None:
        if stage_id is None:
            return None
        offset = stage_id % 10
        name = next((n for o, n, _ in STAGES if o == offset), None)
        return {"id": stage_id, "name": name} if name else None

    def job_json(self, job: JobSeed) -> dict[str, Any]:
        start, end = period_of(job, self.world.today)
        counts = self.counts(job.job_id)
        return {
            "id": job.job_id,
            "name": job.title,
            "requisition_id": job.key,
            "status": "open",
            "confidential": False,
            "departments": [{"id": job.job_id // 100, "name": job.organization}],
            "offices": [{"id": 1, "name": job.postal_area, "location": {"name": f"{job.address}, {job.postal_code} {job.postal_area}"}}],
            "hiring_team": {"recruiters": [{"id": SANDBOX_USER_ID, "email": job.contact_email}]},
            "openings": [{"id": job.job_id * 10 + 1, "status": "open"}],
            "keyed_custom_fields": {
                "required_professions": {"name": "Vaadittu ammattioikeus", "type": "multi_select", "value": list(job.professions)},
                "accepted_qualifications": {"name": "Hyväksytyt tutkinnot", "type": "multi_select", "value": list(job.qualifications)},
                "required_languages": {"name": "Kielitaitovaatimus", "type": "short_text", "value": "fi:hyvä"},
                "period_start": {"name": "Työsuhde alkaa", "type": "date", "value": start.isoformat()},
                "period_end": {"name": "Työsuhde päättyy", "type": "date", "value": end.isoformat() if end else None},
                "employment_type": {"name": "Palvelussuhde", "type": "single_select", "value": job.employment},
            },
            "applications_count": counts,
        }

    def counts(self, job_id: int) -> dict[str, int]:
        result = {"active": 0, "rejected": 0, "hired": 0}
        for application in self.applications.values():
            if application.seed.job_id == job_id:
                result[application.status] += 1
        return result

    def open_job_advertisement(self, job: JobSeed, lang: str) -> dict[str, Any]:
        """The public open-jobs API's ``jobAdvertisement`` for a job (Helbit's published shape)."""
        start, end = period_of(job, self.world.today)
        published = datetime.combine(self.world.today, datetime.min.time()).replace(hour=8)
        return {
            "jobAdvertisement": {
                "id": job.key,
                "title": job.title,
                "jobDesc": f"<p>{job.title}. Haemme {job.organization.split(', ')[-1].lower()}on osaavia ammattilaisia. "
                f"Tehtävä edellyttää {', '.join(job.professions).lower()} -ammattioikeutta (Valvira) ja hyvää suomen kielen taitoa.</p>",
                "address": job.address,
                "postalCode": job.postal_code,
                "postalArea": job.postal_area,
                "anonymous": False,
                "contacts": f"Rekrytointi, {job.contact_email}",
                "logo": None,
                "jobDuration": f"{start.strftime('%d.%m.%Y')} - {end.strftime('%d.%m.%Y')}" if end else "Toistaiseksi voimassa oleva",
                "numberOfVacancy": max(1, job.applicants // 25),
                "changetime": f"{published:%Y-%m-%dT%H:%M:%S}",
                "internetLink": None,
                "publishingOrganization": job.job_id // 100,
                "organization": "Helsingin kaupunki",
                "organizationDesc": job.organization,
                "embedLink": None,
                "salary": "Palkka määräytyy SOTE-sopimuksen mukaan",
                "salaryClass": None,
                "taskArea": "Sosiaali- ja terveysala",
                "type": 1,
                "employment": job.employment,
                "employmentId": 1 if job.employment == "Vakinainen" else 2,
                "employmentType": "Kokoaikatyö",
                "employmentTypeId": 1,
                "publicationStarts": f"{published:%Y-%m-%dT%H:%M:%S}",
                "publicationEnds": f"{start:%Y-%m-%d}T16:00:00",
            },
            "link": {"url": f"/{lang.split('_')[0]}/jobs/{job.key}"},
        }

    # ------------------------------------------------------------------ applications

    def application(self, application_id: int) -> Application:
        found = self.applications.get(application_id)
        if found is None:
            raise HelbitApiError(404, "Resource not found")
        return found

    def application_json(self, application: Application) -> dict[str, Any]:
        seed = application.seed
        job = self.job(seed.job_id)
        reason = next((r for r in REJECTION_REASONS if r["id"] == application.rejection_reason_id), None)
        return {
            "id": seed.application_id,
            "candidate_id": seed.candidate_id,
            "prospect": False,
            "applied_at": _iso(seed.applied_at),
            "rejected_at": _iso(application.rejected_at),
            "last_activity_at": _iso(application.last_activity_at),
            "location": None,
            "source": {"id": 1, "public_name": "Helsingin kaupungin avoimet työpaikat"},
            "credited_to": None,
            "rejection_reason": reason,
            "rejection_details": {"notes": application.rejection_notes} if application.rejection_notes else None,
            "jobs": [{"id": job.job_id, "name": job.title}],
            "job_post_id": job.job_id,
            "status": application.status,
            "current_stage": self.stage(application.stage_id),
            "answers": [],
            "attachments": [],
            # Helbit extension: the start date recorded with the hire.
            "hired_at": _iso(application.hired_at),
            "start_date": application.start_date.isoformat() if application.start_date else None,
        }

    def applications_of(self, job_id: int | None = None, status: str | None = None) -> list[Application]:
        return [a for a in self.applications.values() if (job_id is None or a.seed.job_id == job_id) and (status is None or a.status == status)]

    def move(self, application_id: int, from_stage_id: int, to_stage_id: int) -> Application:
        with self.lock:
            application = self.application(application_id)
            if application.status != "active":
                raise HelbitApiError(422, "Validation error", [{"message": f"Application is {application.status}", "field": "status"}])
            valid = {s["id"] for s in self.stages_of(application.seed.job_id)}
            if to_stage_id not in valid:
                raise HelbitApiError(422, "Validation error", [{"message": "Stage does not belong to the job", "field": "to_stage_id"}])
            if application.stage_id != from_stage_id:
                raise HelbitApiError(
                    422,
                    "Validation error",
                    [{"message": "Application is not in from_stage_id", "field": "from_stage_id"}],
                    current_stage_id=application.stage_id,
                )
            application.stage_id = to_stage_id
            application.last_activity_at = _now()
            return application

    def reject(self, application_id: int, reason_id: int, notes: str | None) -> Application:
        with self.lock:
            application = self.application(application_id)
            if reason_id not in {r["id"] for r in REJECTION_REASONS}:
                raise HelbitApiError(422, "Validation error", [{"message": "Unknown rejection reason", "field": "rejection_reason_id"}])
            if application.status == "hired":
                raise HelbitApiError(422, "Validation error", [{"message": "Application is hired", "field": "status"}])
            if application.status == "rejected":
                raise HelbitApiError(422, "Validation error", [{"message": "Application is already rejected", "field": "status"}])
            application.status, application.rejected_at = "rejected", _now()
            application.rejection_reason_id, application.rejection_notes = reason_id, notes
            application.last_activity_at = application.rejected_at
            for interview in self.interviews.values():  # a rejected candidate's seat goes back to the slot
                if interview["application_id"] == application_id and interview["status"] == "scheduled":
                    interview["status"] = "cancelled"
            return application

    def hire(self, application_id: int, start_date: date) -> Application:
        with self.lock:
            application = self.application(application_id)
            if application.status != "active":
                raise HelbitApiError(422, "Validation error", [{"message": f"Application is {application.status}", "field": "status"}])
            application.status, application.stage_id, application.start_date = "hired", None, start_date
            application.hired_at = application.last_activity_at = _now()
            return application

    # ------------------------------------------------------------------ interview slots

    def booked(self, slot_id: int) -> int:
        return sum(1 for i in self.interviews.values() if i["interview_slot_id"] == slot_id and i["status"] == "scheduled")

    def slot_json(self, slot: InterviewSlotSeed) -> dict[str, Any]:
        return {
            "id": slot.slot_id,
            "job_id": slot.job_id,
            "start": {"date_time": _iso(slot.start)},
            "end": {"date_time": _iso(slot.end)},
            "location": slot.location,
            "capacity": slot.capacity,
            "booked": self.booked(slot.slot_id),
            "interview": {"id": slot.job_id * 10 + 3, "name": "Ryhmähaastattelu"},
        }

    def slots_of(self, job_id: int) -> list[InterviewSlotSeed]:
        self.job(job_id)
        return sorted((s for s in self.slots.values() if s.job_id == job_id), key=lambda s: s.start)

    def book(self, application_id: int, slot_id: int) -> tuple[int, dict[str, Any]]:
        """Book a seat; (201, interview) or (200, the application's existing one for this job's group interview).

        Raises:
            HelbitApiError: 409 ``slot_full`` past capacity; 422 for a slot of another job or an application not active.
        """
        with self.lock:
            application = self.application(application_id)
            slot = self.slots.get(slot_id)
            if slot is None or slot.job_id != application.seed.job_id:
                raise HelbitApiError(422, "Validation error", [{"message": "Interview slot is not one of the application's job", "field": "interview_slot_id"}])
            existing = next((i for i in self.interviews.values() if i["application_id"] == application_id and i["status"] == "scheduled"), None)
            if existing is not None:
                return 200, existing
            if application.status != "active":
                raise HelbitApiError(422, "Validation error", [{"message": f"Application is {application.status}", "field": "application_id"}])
            if self.booked(slot_id) >= slot.capacity:
                raise HelbitApiError(409, "Interview slot is full", [{"message": "slot_full", "field": "interview_slot_id"}])
            interview = {
                "id": self.next_interview_id,
                "application_id": application_id,
                "interview_slot_id": slot_id,
                "external_event_id": f"helbit-slot-{slot_id}",
                "start": {"date_time": _iso(slot.start)},
                "end": {"date_time": _iso(slot.end)},
                "location": slot.location,
                "video_conferencing_url": None,
                "status": "scheduled",
                "created_at": _iso(_now()),
                "updated_at": _iso(_now()),
                "interview": {"id": slot.job_id * 10 + 3, "name": "Ryhmähaastattelu"},
                "organizer": {"id": SANDBOX_USER_ID, "name": "Rekrytointirobotti"},
                "interviewers": [],
            }
            self.next_interview_id += 1
            self.interviews[interview["id"]] = interview
            application.last_activity_at = _now()
            return 201, interview

    def interviews_of(self, application_id: int) -> list[dict[str, Any]]:
        self.application(application_id)
        return [i for i in self.interviews.values() if i["application_id"] == application_id]

    # ------------------------------------------------------------------ idempotency

    def replay(self, key: str | None, fingerprint: str) -> Remembered | None:
        if not key:
            return None
        with self.lock:
            remembered = self.idempotency.get(key)
        if remembered is not None and remembered.fingerprint != fingerprint:
            raise HelbitApiError(422, "Validation error", [{"message": "Idempotency-Key was used for another request", "field": "Idempotency-Key"}])
        return remembered

    def remember(self, key: str | None, fingerprint: str, status: int, body: Any) -> None:
        if key and status < 500:
            with self.lock:
                self.idempotency[key] = Remembered(fingerprint, status, body)


def _now() -> datetime:
    return datetime.now(UTC)


def _iso(value: datetime | None) -> str | None:
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z") if value else None


__all__ = ["CLIENT_ID", "HelbitApiError", "HelbitStore", "replace"]
