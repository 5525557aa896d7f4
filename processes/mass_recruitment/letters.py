"""What mass recruitment derives from the recruitment system's data: the job's requirements, the
register's answer as the screening reads it, the invitation with its calendar entry, and a hire as
an employment start's payload. No I/O."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from icalendar import Calendar, Event, vCalAddress

from connectors.email.models import EmailAttachment
from connectors.helbit import ExportedApplicant, Job
from connectors.valvira import Professional
from processes.mass_recruitment.checkpoints import BookedSeat
from schemas.recruitment import (
    Candidate,
    HiredCandidate,
    JobRequirements,
    Letter,
    RegisteredRight,
    RegisterPerson,
    invitation_letter,
    usable_registration_number,
)

HELSINKI = ZoneInfo("Europe/Helsinki")


def requirements_of(job: Job) -> JobRequirements:
    """The job's screening requirements from its custom fields (Finnish at a good level when unset)."""
    language, _, level = str(job.custom("required_languages") or "fi:hyvä").partition(":")
    return JobRequirements(
        job_key=job.requisition_id,
        job_id=job.id,
        title=job.name,
        professions=list(job.custom("required_professions") or []),
        qualifications=list(job.custom("accepted_qualifications") or []),
        language=language or "fi",
        language_level=level or "hyvä",
        period_start=job.custom("period_start"),
        period_end=job.custom("period_end"),
    )


def register_person(found: Professional | None) -> RegisterPerson | None:
    """The register's record as the screening rules read it."""
    if found is None:
        return None
    return RegisterPerson(
        registration_number=found.registration_number,
        last_name=found.last_name,
        first_names=found.first_names,
        birth_date=found.birth_date,
        rights=[RegisteredRight(profession=r.profession, status=r.status.value, valid_from=r.valid_from, valid_until=r.valid_until) for r in found.rights],
    )


def interview_invitation(
    requirements: JobRequirements, job_key: str, candidate: Candidate, seat: BookedSeat, organizer: str | None
) -> tuple[Letter, list[EmailAttachment]]:
    """The invitation letter and its calendar entry."""
    starts, ends = (datetime.fromisoformat(moment).astimezone(HELSINKI) for moment in (seat.start, seat.end))
    letter = invitation_letter(candidate, requirements, starts=starts, ends=ends, location=seat.location)
    return letter, [EmailAttachment.calendar("ryhmahaastattelu.ics", interview_ics(requirements, job_key, candidate, seat, organizer))]


def interview_ics(requirements: JobRequirements, job_key: str, candidate: Candidate, seat: BookedSeat, organizer: str | None) -> str:
    """The group interview as an iCalendar REQUEST; the UID is the booking's, so a resend updates, not duplicates."""
    calendar = Calendar()
    calendar.add("prodid", "-//Kuntaflow//Mass recruitment//FI")
    calendar.add("version", "2.0")
    calendar.add("method", "REQUEST")
    event = Event()
    event.add("uid", f"helbit-interview-{seat.id}@kuntaflow")
    event.add("dtstamp", datetime.now(UTC))
    event.add("dtstart", datetime.fromisoformat(seat.start))
    event.add("dtend", datetime.fromisoformat(seat.end))
    event.add("summary", f"Ryhmähaastattelu: {requirements.title}")
    event.add("location", seat.location)
    event.add("description", f"Ryhmähaastattelu, työavain {job_key}.")
    if organizer:
        event.add("organizer", vCalAddress(f"mailto:{organizer}"))
    attendee = vCalAddress(f"mailto:{candidate.email}")
    attendee.params["ROLE"] = "REQ-PARTICIPANT"
    attendee.params["RSVP"] = "TRUE"
    event.add("attendee", attendee, encode=False)
    calendar.add_component(event)
    return calendar.to_ical().decode("utf-8")


def hired_candidate(job: Job, requirements: JobRequirements, exported: ExportedApplicant, start_date: date | None) -> HiredCandidate:
    """A hire as the employment start's payload: what the recruitment system knows, the rest for HR to fill in."""
    employment = str(job.custom("employment_type") or "").lower()
    fixed_term = employment.startswith("määräaik")
    number = usable_registration_number(Candidate.model_validate(exported.model_dump(exclude={"stage", "status", "applied_at"})))
    return HiredCandidate(
        first_names=exported.first_names,
        last_name=exported.last_name,
        date_of_birth=exported.birth_date,
        personal_email=exported.email,
        phone=exported.phone,
        start_date=start_date or requirements.period_start,
        end_date=requirements.period_end if fixed_term else None,
        employment_type="määräaikainen" if fixed_term else "vakinainen",
        title=job.name.split(",")[0].strip().lower(),
        workplace_address=job.address,
        licence_number=number or "",
        source={"system": "helbit", "job_key": requirements.job_key, "application_id": exported.application_id, "candidate_id": exported.candidate_id},
    )
