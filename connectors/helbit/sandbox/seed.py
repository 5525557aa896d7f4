"""The recruitment world both recruitment sandboxes share: jobs, applicants, their licences.

One deterministic generator (:func:`recruitment_world`) builds the seeded jobs of the Helbit-like
sandbox and, from the same draws, the professional register entries of the Valvira-like sandbox,
so an applicant's registration number, name and birth date agree across the two systems exactly
as far as the seed says they should (a typo, a namesake, an expired right are made on purpose).

Dates are relative to ``today`` (interview slots are always in the future, an expired right has
always just expired); for a given ``today`` every run gives the same people. Nobody here has a
henkilötunnus: recruitment does not need one, and keeping it out of the data keeps it out of the
exports and reports too.

Each applicant gets one **profile**, which says what the screening should find:

``fits`` (valid licence in the job's profession, accepted qualification, Finnish, available the
whole period, consents to references), ``no_number`` (fits, but gave no registration number: found
by name and birth date), ``namesake`` (no number; the register has only a namesake born on another
day), ``number_typo`` (gave someone else's number), ``number_unknown`` (a number the register does
not know), ``wrong_profession``, ``expired``, ``limited``, ``no_qualification``, ``weak_finnish``,
``not_available``, ``partly_available``, ``no_consent``.
"""

from __future__ import annotations

import functools
import random
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from connectors.sandbox_people import FEMALE_FIRST_NAMES, MALE_FIRST_NAMES

HELSINKI = ZoneInfo("Europe/Helsinki")
CLIENT_ID = "helsinki"

#: Profiles and their weights in every job (per mille). ``fits`` takes the rest.
PROFILE_WEIGHTS: dict[str, int] = {
    "no_number": 50,
    "namesake": 20,
    "number_typo": 15,
    "number_unknown": 10,
    "wrong_profession": 60,
    "expired": 40,
    "limited": 20,
    "no_qualification": 40,
    "weak_finnish": 40,
    "not_available": 40,
    "partly_available": 30,
    "no_consent": 35,
}
LANGUAGE_LEVELS = ("alkeet", "tyydyttävä", "hyvä", "erinomainen", "äidinkieli")
LANGUAGE_NAMES = {"fi": "suomi", "sv": "ruotsi", "en": "englanti", "et": "viro", "ru": "venäjä", "so": "somali", "ar": "arabia"}

_FEMALE = (*FEMALE_FIRST_NAMES, "Hanna", "Sari", "Jenni", "Outi", "Eveliina", "Milla")
_MALE = (*MALE_FIRST_NAMES, "Tuomas", "Joonas")
_SECOND = ("Maria", "Johanna", "Kristiina", "Helena", "Sofia", "Emilia", "Juhani", "Tapani", "Olavi", "Mikael", "Kalevi", "Ilmari")
_SURNAMES = (
    "Virtanen",
    "Korhonen",
    "Mäkinen",
    "Nieminen",
    "Mäkelä",
    "Hämäläinen",
    "Laine",
    "Heikkinen",
    "Koskinen",
    "Järvinen",
    "Lehtonen",
    "Lehtinen",
    "Saarinen",
    "Salminen",
    "Heinonen",
    "Niemi",
    "Heikkilä",
    "Kinnunen",
    "Salonen",
    "Turunen",
    "Salo",
    "Laitinen",
    "Tuominen",
    "Rantanen",
    "Karjalainen",
    "Jokinen",
    "Mattila",
    "Savolainen",
    "Lahtinen",
    "Ahonen",
    "Lindqvist",
    "Nyström",
    "Mohamed",
    "Ivanova",
    "Tamm",
)
_ASCII = str.maketrans({"ä": "a", "ö": "o", "å": "a", "Ä": "A", "Ö": "O", "Å": "A"})


@dataclass(frozen=True)
class JobSeed:
    """A seeded job and what it demands."""

    job_id: int
    key: str
    title: str
    professions: tuple[str, ...]
    qualifications: tuple[str, ...]
    organization: str
    address: str
    postal_code: str
    postal_area: str
    contact_email: str
    applicants: int
    slots: int
    slot_capacity: int
    period_start_in_days: int
    period_days: int | None
    employment: str = "Määräaikainen"
    #: Applicants (by number) already past screening on an earlier night, and of those the ones hired.
    processed: int = 0
    hired: int = 0


JOBS: tuple[JobSeed, ...] = (
    JobSeed(
        4101,
        "sote-03-2180-26",
        "Sairaanhoitaja, kotihoito",
        ("Sairaanhoitaja", "Terveydenhoitaja"),
        ("Sairaanhoitaja (AMK)", "Terveydenhoitaja (AMK)", "Sairaanhoitajan tutkinto (opistoaste)"),
        "Sosiaali-, terveys- ja pelastustoimiala, Kotihoito",
        "Työpajankatu 8",
        "00580",
        "Helsinki",
        "rekrytointi.kotihoito@hel.fi",
        200,
        12,
        12,
        30,
        182,
    ),
    JobSeed(
        4102,
        "sote-03-2201-26",
        "Lähihoitaja, kesätyö",
        ("Lähihoitaja", "Sairaanhoitaja"),
        ("Lähihoitaja (sosiaali- ja terveysalan perustutkinto)", "Perushoitaja", "Sairaanhoitaja (AMK)"),
        "Sosiaali-, terveys- ja pelastustoimiala, Sairaala-, kuntoutus- ja hoivapalvelut",
        "Toinen linja 4 A",
        "00530",
        "Helsinki",
        "kesarekry.shk@hel.fi",
        1000,
        50,
        15,
        45,
        92,
    ),
    JobSeed(
        4103,
        "sote-05-1142-26",
        "Fysioterapeutti, kuntoutus",
        ("Fysioterapeutti",),
        ("Fysioterapeutti (AMK)",),
        "Sosiaali-, terveys- ja pelastustoimiala, Kuntoutuspalvelut",
        "Laakson sairaala, Lääkärinkatu 8",
        "00250",
        "Helsinki",
        "rekrytointi.kuntoutus@hel.fi",
        20,
        3,
        4,
        21,
        None,
        employment="Vakinainen",
    ),
    JobSeed(
        4104,
        "sote-04-0977-26",
        "Kätilö, synnytysosasto",
        ("Kätilö",),
        ("Kätilö (AMK)",),
        "Sosiaali-, terveys- ja pelastustoimiala, Naistentautien ja synnytysten palvelut",
        "Haartmaninkatu 2",
        "00290",
        "Helsinki",
        "rekrytointi.synnytys@hel.fi",
        40,
        4,
        5,
        14,
        365,
        processed=10,
        hired=3,
    ),
)

#: Other licensed professions people apply with (the wrong one for the job).
_OTHER_PROFESSIONS = ("Lähihoitaja", "Sairaanhoitaja", "Fysioterapeutti", "Sosionomi", "Kätilö", "Röntgenhoitaja")
_OTHER_QUALIFICATIONS = ("Merkonomi", "Kasvatustieteen kandidaatti", "Sosionomi (AMK)", "Liikunnanohjaaja (AMK)", "Hierojan tutkinto")


@dataclass(frozen=True)
class LanguageSkill:
    language: str
    level: str


@dataclass(frozen=True)
class Right:
    """A right to practise as the register keeps it."""

    profession: str
    kind: str  # "laillistettu" (licensed) or "nimikesuojattu" (protected title)
    valid_from: date
    valid_until: date | None
    status: str  # "valid", "expired", "limited"
    limitation: str | None = None


@dataclass(frozen=True)
class RegisterEntry:
    """One person in the professional register."""

    registration_number: str
    last_name: str
    first_names: str
    birth_date: date
    rights: tuple[Right, ...]


@dataclass(frozen=True)
class ApplicantSeed:
    """One application as the seed makes it; ``profile`` says what screening should find."""

    application_id: int
    candidate_id: int
    job_id: int
    profile: str
    first_names: str
    last_name: str
    birth_date: date
    email: str
    phone: str
    registration_number: str | None
    qualifications: tuple[str, ...]
    languages: tuple[LanguageSkill, ...]
    available_from: date
    available_until: date | None
    reference_consent: bool
    applied_at: datetime
    stage: str = "new"  # "new", "interview"
    hired_start: date | None = None

    @property
    def first_name(self) -> str:
        return self.first_names.split()[0]


@dataclass(frozen=True)
class InterviewSlotSeed:
    slot_id: int
    job_id: int
    start: datetime
    end: datetime
    location: str
    capacity: int


@dataclass
class RecruitmentWorld:
    """Everything seeded for one ``today``."""

    today: date
    jobs: tuple[JobSeed, ...]
    applicants: list[ApplicantSeed] = field(default_factory=list)
    slots: list[InterviewSlotSeed] = field(default_factory=list)
    register: list[RegisterEntry] = field(default_factory=list)

    def job(self, key: str) -> JobSeed:
        return next(job for job in self.jobs if job.key == key)

    def applicants_of(self, key: str) -> list[ApplicantSeed]:
        job_id = self.job(key).job_id
        return [a for a in self.applicants if a.job_id == job_id]


def period_of(job: JobSeed, today: date) -> tuple[date, date | None]:
    start = today + timedelta(days=job.period_start_in_days)
    return start, (start + timedelta(days=job.period_days - 1)) if job.period_days else None


@functools.lru_cache(maxsize=4)
def recruitment_world(today: date) -> RecruitmentWorld:
    """The seeded jobs, applicants, interview slots and register entries for ``today`` (cached; treat as read-only)."""
    world = RecruitmentWorld(today=today, jobs=JOBS)
    numbers = _RegistrationNumbers(random.Random("valvira-numbers"))
    for job in JOBS:
        rng = random.Random(f"helbit:{job.key}")
        for number in range(job.applicants):
            applicant, entries = _applicant(rng, job, number, today, numbers)
            world.applicants.append(applicant)
            world.register.extend(entries)
        world.slots.extend(_slots(job, today))
    # People in the register who applied nowhere, a few sharing names with applicants (namesakes).
    rng = random.Random("valvira-others")
    for _ in range(300):
        first, last, born = _name(rng), rng.choice(_SURNAMES), _birth_date(rng, today)
        world.register.append(RegisterEntry(numbers.next(), last, first, born, (_right(rng, rng.choice(_OTHER_PROFESSIONS), today, "valid"),)))
    return world


class _RegistrationNumbers:
    """Unique 11-digit register numbers (a technical number, as Valvira says)."""

    def __init__(self, rng: random.Random) -> None:
        self._rng, self._used = rng, set[str]()

    def next(self) -> str:
        while True:
            number = f"10{self._rng.randrange(10**9):09d}"
            if number not in self._used:
                self._used.add(number)
                return number


def _profile(rng: random.Random) -> str:
    roll = rng.randrange(1000)
    for profile, weight in PROFILE_WEIGHTS.items():
        if roll < weight:
            return profile
        roll -= weight
    return "fits"


def _name(rng: random.Random) -> str:
    first = rng.choice(_FEMALE if rng.random() < 0.8 else _MALE)  # social and health care is mostly women
    return f"{first} {rng.choice(_SECOND)}" if rng.random() < 0.7 else first


def _birth_date(rng: random.Random, today: date) -> date:
    return today - timedelta(days=rng.randrange(20 * 365, 62 * 365))


def _right(rng: random.Random, profession: str, today: date, status: str) -> Right:
    kind = "nimikesuojattu" if profession in ("Lähihoitaja", "Sosionomi", "Perushoitaja") else "laillistettu"
    valid_from = today - timedelta(days=rng.randrange(200, 9000))
    if status == "expired":
        return Right(profession, kind, valid_from, today - timedelta(days=rng.randrange(1, 400)), "expired")
    if status == "limited":
        return Right(profession, kind, valid_from, None, "limited", "Oikeus toimia ammatissa vain laillistetun ammattihenkilön johdon ja valvonnan alaisena")
    return Right(profession, kind, valid_from, None, "valid")


@dataclass
class _Draft:
    """What an applicant's profile may still change before the seed record is made."""

    qualification: str
    languages: list[LanguageSkill]
    rights: list[Right]
    available_from: date
    available_until: date | None = None
    consent: bool = True


def _applicant(rng: random.Random, job: JobSeed, number: int, today: date, numbers: _RegistrationNumbers) -> tuple[ApplicantSeed, list[RegisterEntry]]:
    """One applicant of the job and their register entries; the random draws keep their order, so a seed gives the same world."""
    profile = _profile(rng)
    first, last, born = _name(rng), rng.choice(_SURNAMES), _birth_date(rng, today)
    email = f"{first.split()[0]}.{last}{rng.randrange(1, 99)}@example.fi".lower().translate(_ASCII)
    phone = f"+358 4{rng.randrange(10)} {rng.randrange(100, 1000)} {rng.randrange(1000, 10000)}"
    profession = rng.choice(job.professions[:1] * 3 + job.professions)  # mostly the job's first profession
    qualification = rng.choice(job.qualifications)
    start, _ = period_of(job, today)
    available_from = start - timedelta(days=rng.randrange(0, 60))
    languages = [LanguageSkill("fi", rng.choice(("äidinkieli", "äidinkieli", "erinomainen", "hyvä")))]
    for extra in rng.sample(("sv", "en", "et", "ru", "so", "ar"), rng.randrange(0, 3)):
        languages.append(LanguageSkill(extra, rng.choice(LANGUAGE_LEVELS)))
    number_given: str | None = numbers.next()
    draft = _Draft(qualification, languages, [_right(rng, profession, today, "valid")], available_from)
    _shape_by_profile(rng, draft, profile, job, profession, today)
    number_given, entries = _register_entries(rng, profile, number_given, draft.rights, (first, last, born), profession, today, numbers)

    applied = datetime.combine(today - timedelta(days=rng.randrange(1, 14)), time(rng.randrange(7, 23), rng.randrange(60)), HELSINKI)
    stage, hired_start = "new", None
    if number < job.processed:
        stage = "interview"
        if number < job.hired:
            hired_start = start
    applicant = ApplicantSeed(
        application_id=job.job_id * 10_000 + number + 1,
        candidate_id=job.job_id * 100_000 + number + 1,
        job_id=job.job_id,
        profile=profile,
        first_names=first,
        last_name=last,
        birth_date=born,
        email=email,
        phone=phone,
        registration_number=number_given,
        qualifications=(draft.qualification,),
        languages=tuple(draft.languages),
        available_from=draft.available_from,
        available_until=draft.available_until,
        reference_consent=draft.consent,
        applied_at=applied,
        stage=stage,
        hired_start=hired_start,
    )
    return applicant, entries


def _shape_by_profile(rng: random.Random, draft: _Draft, profile: str, job: JobSeed, profession: str, today: date) -> None:
    """Make the applicant what their profile says: the wrong licence, no qualification, weak Finnish, not available …"""
    start, end = period_of(job, today)
    if profile == "wrong_profession":
        other = rng.choice([p for p in _OTHER_PROFESSIONS if p not in job.professions])
        draft.rights = [_right(rng, other, today, "valid")]
    elif profile == "expired":
        draft.rights = [_right(rng, profession, today, "expired")]
    elif profile == "limited":
        draft.rights = [_right(rng, profession, today, "limited")]
    elif profile == "no_qualification":
        draft.qualification = rng.choice(_OTHER_QUALIFICATIONS)
    elif profile == "weak_finnish":
        draft.languages[0] = LanguageSkill("fi", rng.choice(("alkeet", "tyydyttävä")))
        draft.languages.insert(0, LanguageSkill(rng.choice(("et", "ru", "en")), "äidinkieli"))
    elif profile == "not_available":
        draft.available_from = (end or start) + timedelta(days=rng.randrange(1, 60)) if end else start + timedelta(days=400)
    elif profile == "partly_available":
        draft.available_from = start + timedelta(days=rng.randrange(7, 30))
    elif profile == "no_consent":
        draft.consent = False
    if profile == "not_available" and end is None:
        draft.available_until = start - timedelta(days=1)
        draft.available_from = today
    if job.period_days and rng.random() < 0.3 and profile not in ("not_available",):
        draft.available_until = end + timedelta(days=rng.randrange(0, 120)) if end else None


def _register_entries(
    rng: random.Random,
    profile: str,
    number_given: str | None,
    rights: list[Right],
    person: tuple[str, str, date],
    profession: str,
    today: date,
    numbers: _RegistrationNumbers,
) -> tuple[str | None, list[RegisterEntry]]:
    """(the registration number the applicant gives, the professional register's entries the profile makes)."""
    first, last, born = person
    entries: list[RegisterEntry] = []
    in_register = True
    own_number = number_given
    if profile in ("no_number", "namesake"):
        number_given = None
    if profile == "namesake":
        # The applicant is not in the register; someone with the same name, born on another day, is.
        in_register = False
        other_born = born + timedelta(days=rng.choice((-1, 1)) * rng.randrange(200, 4000))
        entries.append(RegisterEntry(own_number, last, first, other_born, tuple(rights)))
    elif profile == "number_typo":
        # A number that belongs to somebody else (an earlier-made register entry).
        number_given = numbers.next()
        entries.append(RegisterEntry(number_given, rng.choice(_SURNAMES), _name(rng), _birth_date(rng, today), (_right(rng, profession, today, "valid"),)))
    elif profile == "number_unknown":
        number_given = f"10{rng.randrange(10**9):09d}"
        while number_given in numbers._used:  # never one the register knows
            number_given = f"10{rng.randrange(10**9):09d}"
    if in_register:
        entries.append(RegisterEntry(own_number, last, first, born, tuple(rights)))
        if rng.random() < 0.1:  # a namesake born elsewhere in time, also licensed
            entries.append(
                RegisterEntry(numbers.next(), last, first, born + timedelta(days=rng.randrange(400, 6000)), (_right(rng, profession, today, "valid"),))
            )
    return number_given, entries


def _slots(job: JobSeed, today: date) -> list[InterviewSlotSeed]:
    slots = []
    for n in range(job.slots):
        day = today + timedelta(days=7 + n // 2)
        while day.weekday() >= 5:
            day += timedelta(days=2)
        start = datetime.combine(day, time(9, 0) if n % 2 == 0 else time(13, 0), HELSINKI)
        slots.append(
            InterviewSlotSeed(
                slot_id=job.job_id * 100 + n + 1,
                job_id=job.job_id,
                start=start,
                end=start + timedelta(minutes=90),
                location=f"{job.address}, {job.postal_code} {job.postal_area}, ryhmähaastattelutila",
                capacity=job.slot_capacity,
            )
        )
    return slots
