"""Mass recruitment: the candidate as the robot reads them, the job's requirements, the screening
rules with reason codes, and the plain-Finnish letters candidates get.

Screening is a pure function of the candidate, the job and what the professional register said
(:func:`match_register`), so every rule is tested on its own. An outcome is ``ELIGIBLE``,
``NOT_ELIGIBLE`` (with the reasons, which the rejection letter explains in plain Finnish) or
``NEEDS_REVIEW`` (a person decides: register data that does not settle who the applicant is, a
limited right, partial availability, no consent to contact references, no free interview seat).
Nothing here holds an identity number: recruitment needs none.
"""

from __future__ import annotations

import re
from datetime import date
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

PROCESS = "mass_recruitment"
#: Hires flow on into this queue (the employment-start process).
EMPLOYMENT_START_PROCESS = "employment_start"
LANGUAGE_LEVELS = ("alkeet", "tyydyttävä", "hyvä", "erinomainen", "äidinkieli")
#: Language names as the recruitment system writes them → ISO 639-1.
LANGUAGE_CODES = {"suomi": "fi", "ruotsi": "sv", "englanti": "en", "viro": "et", "venäjä": "ru", "somali": "so", "arabia": "ar"}
_REGISTRATION_NUMBER = re.compile(r"^\d{11}$")


class Outcome(StrEnum):
    ELIGIBLE = "ELIGIBLE"
    NOT_ELIGIBLE = "NOT_ELIGIBLE"
    NEEDS_REVIEW = "NEEDS_REVIEW"


class ReasonCode(StrEnum):
    # not eligible
    LICENCE_EXPIRED = "LICENCE_EXPIRED"
    WRONG_PROFESSION = "WRONG_PROFESSION"
    QUALIFICATION_MISSING = "QUALIFICATION_MISSING"
    FINNISH_INSUFFICIENT = "FINNISH_INSUFFICIENT"
    NOT_AVAILABLE = "NOT_AVAILABLE"
    # a person decides
    LICENCE_NOT_FOUND = "LICENCE_NOT_FOUND"
    LICENCE_DETAILS_MISMATCH = "LICENCE_DETAILS_MISMATCH"
    SEVERAL_REGISTER_MATCHES = "SEVERAL_REGISTER_MATCHES"
    LICENCE_LIMITED = "LICENCE_LIMITED"
    PARTLY_AVAILABLE = "PARTLY_AVAILABLE"
    NO_REFERENCE_CONSENT = "NO_REFERENCE_CONSENT"
    NO_INTERVIEW_SLOT = "NO_INTERVIEW_SLOT"
    UNREADABLE_APPLICATION = "UNREADABLE_APPLICATION"

    @property
    def outcome(self) -> Outcome:
        return Outcome.NOT_ELIGIBLE if self in _NOT_ELIGIBLE else Outcome.NEEDS_REVIEW


_NOT_ELIGIBLE = {
    ReasonCode.LICENCE_EXPIRED,
    ReasonCode.WRONG_PROFESSION,
    ReasonCode.QUALIFICATION_MISSING,
    ReasonCode.FINNISH_INSUFFICIENT,
    ReasonCode.NOT_AVAILABLE,
}

#: What the recruiter reads in the report for each reason (Finnish, like the rest of their tools).
RECRUITER_TEXT: dict[ReasonCode, str] = {
    ReasonCode.LICENCE_EXPIRED: "Ammattioikeus on päättynyt",
    ReasonCode.WRONG_PROFESSION: "Ei tehtävän edellyttämää ammattioikeutta",
    ReasonCode.QUALIFICATION_MISSING: "Ei vaadittua tutkintoa",
    ReasonCode.FINNISH_INSUFFICIENT: "Suomen kielen taito alle vaaditun",
    ReasonCode.NOT_AVAILABLE: "Ei käytettävissä työsuhteen aikana",
    ReasonCode.LICENCE_NOT_FOUND: "Ei löydy ammattihenkilörekisteristä: tarkista numero tai nimi ja syntymäaika",
    ReasonCode.LICENCE_DETAILS_MISMATCH: "Rekisteröintinumeron haltija on eri henkilö (nimi tai syntymäaika ei täsmää)",
    ReasonCode.SEVERAL_REGISTER_MATCHES: "Rekisterissä useita samannimisiä samana päivänä syntyneitä",
    ReasonCode.LICENCE_LIMITED: "Ammattioikeutta on rajoitettu",
    ReasonCode.PARTLY_AVAILABLE: "Käytettävissä vain osan työsuhteesta",
    ReasonCode.NO_REFERENCE_CONSENT: "Ei suostumusta suosittelijoihin: pyydä suostumus",
    ReasonCode.NO_INTERVIEW_SLOT: "Soveltuva, mutta haastatteluajat ovat täynnä: lisää aikoja",
    ReasonCode.UNREADABLE_APPLICATION: "Hakemuksen tietoja ei voitu lukea",
}


class Candidate(BaseModel):
    """One applicant as read from the recruiter UI's export (what the application form said)."""

    model_config = ConfigDict(frozen=True, hide_input_in_errors=True)

    application_id: int
    candidate_id: int
    first_names: str = Field(min_length=1, repr=False)
    last_name: str = Field(min_length=1, repr=False)
    birth_date: date = Field(repr=False)
    email: str | None = Field(default=None, repr=False)
    phone: str | None = Field(default=None, repr=False)
    registration_number: str | None = Field(default=None, repr=False)
    qualifications: list[str] = Field(default_factory=list, repr=False)
    languages: dict[str, str] = Field(default_factory=dict, repr=False, description="ISO 639-1 code → level (alkeet … äidinkieli).")
    available_from: date | None = Field(default=None, repr=False)
    available_until: date | None = Field(default=None, repr=False)
    reference_consent: bool = Field(default=False, repr=False)

    @field_validator("languages", mode="before")
    @classmethod
    def _codes(cls, value: Any) -> Any:
        if isinstance(value, dict):
            return {LANGUAGE_CODES.get(str(k).strip().lower(), str(k).strip().lower()): str(v).strip().lower() for k, v in value.items()}
        return value

    @property
    def first_name(self) -> str:
        return self.first_names.split()[0]

    @property
    def full_name(self) -> str:
        return f"{self.first_names} {self.last_name}"


class JobRequirements(BaseModel):
    """What the job demands, from its custom fields in the recruitment system."""

    model_config = ConfigDict(frozen=True)

    job_key: str
    job_id: int
    title: str
    professions: list[str] = Field(default_factory=list, description="Rights to practise that qualify (empty: none needed).")
    qualifications: list[str] = Field(default_factory=list, description="Degrees that qualify (empty: any).")
    language: str = "fi"
    language_level: str = "hyvä"
    period_start: date
    period_end: date | None = None

    @field_validator("language_level")
    @classmethod
    def _level(cls, value: str) -> str:
        if value not in LANGUAGE_LEVELS:
            raise ValueError(f"a language level is one of {', '.join(LANGUAGE_LEVELS)}")
        return value


class RegisteredRight(BaseModel):
    """A right to practise as the register reported it (connectors.valvira.RightToPractise, flattened)."""

    profession: str
    status: str  # valid, limited, expired
    valid_from: date
    valid_until: date | None = None


class RegisterPerson(BaseModel):
    registration_number: str
    last_name: str
    first_names: str
    birth_date: date
    rights: list[RegisteredRight] = Field(default_factory=list)


class LicenceFinding(BaseModel):
    """What the register said about the candidate: ``found`` (one person, who is the candidate),
    ``not_found``, ``mismatch`` (the number's holder is someone else) or ``ambiguous``."""

    status: str
    searched_by: str  # "registration_number" or "name_and_birth_date"
    registration_number: str | None = None
    rights: list[RegisteredRight] = Field(default_factory=list)


class Screening(BaseModel):
    outcome: Outcome
    reasons: list[ReasonCode] = Field(default_factory=list)


def usable_registration_number(candidate: Candidate) -> str | None:
    """The registration number the candidate gave, if it is 11 digits (else they are looked up by name)."""
    number = "".join((candidate.registration_number or "").split())
    return number if _REGISTRATION_NUMBER.match(number) else None


def match_register(candidate: Candidate, *, by_number: RegisterPerson | None = None, by_name: list[RegisterPerson] | None = None) -> LicenceFinding:
    """Decide who in the register the candidate is.

    A match needs the registration number (and its holder must then have the candidate's
    surname, a first name and birth date: a typo may point at someone else), or the surname,
    first name and birth date together (namesakes born on other days are not the candidate).
    Pass ``by_number`` (the holder of the number, None if unknown) when the candidate gave a
    usable number, else ``by_name`` (the register's people with the name and birth date).
    """
    if usable_registration_number(candidate) is not None:
        if by_number is None:
            return LicenceFinding(status="not_found", searched_by="registration_number")
        if not _same_person(candidate, by_number):
            return LicenceFinding(status="mismatch", searched_by="registration_number", registration_number=by_number.registration_number)
        return LicenceFinding(status="found", searched_by="registration_number", registration_number=by_number.registration_number, rights=by_number.rights)
    matches = [p for p in by_name or [] if _same_person(candidate, p)]
    if not matches:
        return LicenceFinding(status="not_found", searched_by="name_and_birth_date")
    if len(matches) > 1:
        return LicenceFinding(status="ambiguous", searched_by="name_and_birth_date")
    return LicenceFinding(status="found", searched_by="name_and_birth_date", registration_number=matches[0].registration_number, rights=matches[0].rights)


def _same_person(candidate: Candidate, person: RegisterPerson) -> bool:
    return (
        person.last_name.casefold() == candidate.last_name.casefold()
        and candidate.first_name.casefold() in person.first_names.casefold().split()
        and person.birth_date == candidate.birth_date
    )


def screen(candidate: Candidate, job: JobRequirements, licence: LicenceFinding | None, *, today: date) -> Screening:
    """Apply the job's requirements: licence, qualification, language, availability, reference consent.

    ``licence`` may be None only for a job that needs no right to practise.
    """
    reasons = [
        *_licence_reasons(job, licence, today),
        *_qualification_reasons(candidate, job),
        *_language_reasons(candidate, job),
        *_availability_reasons(candidate, job),
    ]
    if not candidate.reference_consent:
        reasons.append(ReasonCode.NO_REFERENCE_CONSENT)
    return outcome_of(reasons)


def outcome_of(reasons: list[ReasonCode]) -> Screening:
    if any(reason.outcome is Outcome.NOT_ELIGIBLE for reason in reasons):
        return Screening(outcome=Outcome.NOT_ELIGIBLE, reasons=reasons)
    return Screening(outcome=Outcome.NEEDS_REVIEW if reasons else Outcome.ELIGIBLE, reasons=reasons)


def _licence_reasons(job: JobRequirements, licence: LicenceFinding | None, today: date) -> list[ReasonCode]:
    if not job.professions:
        return []
    if licence is None or licence.status == "not_found":
        return [ReasonCode.LICENCE_NOT_FOUND]
    if licence.status == "mismatch":
        return [ReasonCode.LICENCE_DETAILS_MISMATCH]
    if licence.status == "ambiguous":
        return [ReasonCode.SEVERAL_REGISTER_MATCHES]
    wanted = {p.casefold() for p in job.professions}
    relevant = [r for r in licence.rights if r.profession.casefold() in wanted]
    in_force = [r for r in relevant if r.status != "expired" and r.valid_from <= today and (r.valid_until is None or today <= r.valid_until)]
    if any(r.status == "valid" for r in in_force):
        return []
    if in_force:
        return [ReasonCode.LICENCE_LIMITED]
    return [ReasonCode.LICENCE_EXPIRED] if relevant else [ReasonCode.WRONG_PROFESSION]


def _qualification_reasons(candidate: Candidate, job: JobRequirements) -> list[ReasonCode]:
    if not job.qualifications:
        return []
    accepted = {q.casefold() for q in job.qualifications}
    return [] if any(q.casefold() in accepted for q in candidate.qualifications) else [ReasonCode.QUALIFICATION_MISSING]


def _language_reasons(candidate: Candidate, job: JobRequirements) -> list[ReasonCode]:
    level = candidate.languages.get(job.language)
    enough = level in LANGUAGE_LEVELS and LANGUAGE_LEVELS.index(level) >= LANGUAGE_LEVELS.index(job.language_level)
    return [] if enough else [ReasonCode.FINNISH_INSUFFICIENT]


def _availability_reasons(candidate: Candidate, job: JobRequirements) -> list[ReasonCode]:
    start, end = job.period_start, job.period_end
    frm, until = candidate.available_from, candidate.available_until
    if frm is None:
        return [ReasonCode.PARTLY_AVAILABLE]  # unknown: a person asks
    overlaps = (end is None or frm <= end) and (until is None or until >= start)
    if not overlaps:
        return [ReasonCode.NOT_AVAILABLE]
    covers = frm <= start and (until is None or (end is not None and until >= end))
    return [] if covers else [ReasonCode.PARTLY_AVAILABLE]


# ---------------------------------------------------------------------- letters (plain Finnish)

SIGNATURE = "Ystävällisin terveisin\nHelsingin kaupunki, rekrytointi"
_WEEKDAYS = ("maanantaina", "tiistaina", "keskiviikkona", "torstaina", "perjantaina", "lauantaina", "sunnuntaina")


class Letter(BaseModel):
    subject: str
    text: str


def _finnish_date(day: date) -> str:
    return f"{day.day}.{day.month}.{day.year}"


def candidate_reason(reason: ReasonCode, job: JobRequirements) -> str:
    """Why a candidate was not chosen, as the rejection letter says it."""
    period = _finnish_date(job.period_start) + (f"–{_finnish_date(job.period_end)}" if job.period_end else " alkaen")
    texts = {
        ReasonCode.LICENCE_EXPIRED: "Oikeutesi toimia ammatissa ei ole enää voimassa Valviran ammattihenkilörekisterissä. "
        "Tehtävä edellyttää voimassa olevaa oikeutta.",
        ReasonCode.WRONG_PROFESSION: f"Valviran ammattihenkilörekisterin mukaan sinulla ei ole tehtävään vaadittavaa ammattioikeutta "
        f"({', '.join(p.lower() for p in job.professions)}).",
        ReasonCode.QUALIFICATION_MISSING: f"Hakemuksessasi ei ole tehtävään vaadittavaa tutkintoa ({', '.join(job.qualifications)}).",
        ReasonCode.FINNISH_INSUFFICIENT: "Tehtävässä tarvitaan vähintään hyvää suomen kielen taitoa.",
        ReasonCode.NOT_AVAILABLE: f"Hakemuksesi mukaan et ole käytettävissä työsuhteen aikana ({period}).",
    }
    return texts[reason]


def rejection_letter(candidate: Candidate, job: JobRequirements, reasons: list[ReasonCode], *, reply_by: date) -> Letter:
    """The letter to a candidate who is not eligible, with every reason in plain Finnish."""
    lines = "\n".join(f"- {candidate_reason(r, job)}" for r in reasons if r.outcome is Outcome.NOT_ELIGIBLE)
    text = (
        f"Hei {candidate.first_name},\n\n"
        f"kiitos hakemuksestasi tehtävään {job.title} ({job.job_key}).\n\n"
        f"Emme voi valita sinua tässä haussa jatkoon, koska\n{lines}\n\n"
        f"Jos tiedoissa on mielestäsi virhe, vastaa tähän viestiin {_finnish_date(reply_by)} mennessä, niin tarkistamme asian.\n\n"
        "Toivomme, että haet meille töihin myös jatkossa. Avoimet työpaikat löydät osoitteesta hel.fi/rekry.\n\n"
        f"{SIGNATURE}"
    )
    return Letter(subject=f"Hakemuksesi tehtävään {job.title} ({job.job_key})", text=text)


def invitation_letter(candidate: Candidate, job: JobRequirements, *, starts: Any, ends: Any, location: str) -> Letter:
    """The invitation to a group interview (``starts``/``ends`` are aware datetimes in Helsinki time)."""
    text = (
        f"Hei {candidate.first_name},\n\n"
        f"kiitos hakemuksestasi tehtävään {job.title} ({job.job_key}). Kutsumme sinut ryhmähaastatteluun.\n\n"
        f"Aika: {_WEEKDAYS[starts.weekday()]} {_finnish_date(starts.date())} klo {starts:%H.%M}–{ends:%H.%M}\n"
        f"Paikka: {location}\n\n"
        "Ota mukaan kuvallinen henkilötodistus ja tutkintotodistuksesi. Kalenterikutsu on tämän viestin liitteenä.\n"
        "Jos et pääse paikalle, vastaa tähän viestiin, niin etsimme sinulle toisen ajan.\n\n"
        f"{SIGNATURE}"
    )
    return Letter(subject=f"Kutsu ryhmähaastatteluun: {job.title} ({job.job_key})", text=text)


class HiredCandidate(BaseModel):
    """The ``employment_start`` work item a hire in the recruitment system becomes.

    Field names follow ``schemas.employee.NewEmployee`` where the recruitment system knows the
    value; it does not know the henkilötunnus, the HR unit or the supervisor, so HR completes
    those (``kuntaflow queue edit-payload``) before the employment-start robot can create the
    employment. ``source`` says where the hire came from.
    """

    first_names: str = Field(repr=False)
    last_name: str = Field(repr=False)
    date_of_birth: date = Field(repr=False)
    personal_email: str | None = Field(default=None, repr=False)
    phone: str | None = Field(default=None, repr=False)
    start_date: date
    end_date: date | None = None
    employment_type: str = Field(description="NewEmployee's values: vakinainen, määräaikainen, sijainen.")
    title: str
    workplace_address: str | None = None
    licence_number: str = ""
    source: dict[str, Any] = Field(default_factory=dict, description="system, job_key, application_id, candidate_id")
    missing: list[str] = Field(default=["hetu", "unit_id", "supervisor_id"], description="NewEmployee fields HR must add.")


def still_missing(payload: dict[str, Any]) -> list[str] | None:
    """A hire's ``missing`` list without the fields that now have a value (None: the payload has no such list)."""
    missing = payload.get("missing")
    if not isinstance(missing, list):
        return None
    return [name for name in missing if payload.get(name) in (None, "")]


class JobToScreen(BaseModel):
    """The payload of a ``mass_recruitment`` work item: one job, one night (reference ``<job_key>:<night>``)."""

    model_config = ConfigDict(frozen=True)

    job_key: str = Field(pattern=r"^[a-z]{2,10}-\d{2}-\d{1,5}-\d{2}$", description="Helsinki job key, e.g. sote-03-2180-26.")
    night: date = Field(description="The night (Helsinki date) the screening belongs to.")

    @property
    def reference(self) -> str:
        return f"{self.job_key}:{self.night.isoformat()}"
