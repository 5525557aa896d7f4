"""The fictional people every sandbox knows: one population register for the IdP, Messages and Koha.

The sandbox Suomi.fi IdP logs these people in, the Suomi.fi Messages sandbox knows whose mailbox
is active, and the Koha sandbox has some of them as existing patrons. All three read this module,
so a library-card case can be followed from login to letter with the same person everywhere.

Every hetu is a Suomi.fi-test-style code (individual number 900–999) with a valid check
character; a test asserts it. Birth dates are fixed, so the codes never change.

Named people (``NAMED``; ages on 1 Jan 2026 in brackets):

- ``aino`` Aino Virtanen (40), Jyväskylä: e-mail and a Messages mailbox; a Koha patron.
- ``mikko`` Mikko Korhonen (46), Äänekoski: guardian of ``eetu`` Eetu Korhonen (7); no mailbox.
  Both are Koha patrons, Eetu with Mikko as guarantor; Eetu's card runs out in 12 days.
- ``sanna`` Sanna Laine (43), Jyväskylä: guardian of ``ella`` Ella Laine (14; 15 from Feb 2026) and
  ``onni`` Onni Laine (9). Neither child is a patron.
- ``tuuli`` Tuuli Salonen (35): a non-disclosure marking (no address is released).
- ``matti`` Matti Nieminen (67), bilingual Vaasa: no e-mail address.
- ``liisa`` Liisa Mäkinen (55): lives in Sweden, no home municipality in Finland.
- ``erik`` Erik Johansson: an eIDAS user from Sweden, no hetu.
- ``nordea`` Nordea Demo (44), Helsinki: Suomi.fi's own published test person (210281-9988), with
  a mailbox.

Children have their guardian's permanent address and home municipality, as in the population
register, so a guardian's application for a child can pass the address rule.

Generated people (``population(count, seed=…)``): ``count`` further adults aged 15–90 on 1 Jan
2026, keys ``p0001``, ``p0002``, …, deterministic for a given ``seed``: municipalities of the Keski
area mostly (some from Vaasa, Helsinki, Tampere), about 75 % with an active Messages mailbox,
about 15 % without an e-mail address, about 10 % already Koha patrons at their local library (every
fourth generated person's card, if they have one, runs out within 30 days).

Which people the sandboxes serve: :func:`sandbox_population` = ``NAMED`` + ``population(size,
seed)`` with ``KUNTAFLOW_SANDBOX_POPULATION_SIZE`` (default 200) and
``KUNTAFLOW_SANDBOX_POPULATION_SEED`` (default 2026), the same for every sandbox in a process.

Keys are non-personal handles: the IdP's picker takes one (``person`` form field, or the
"other person" key box), and URLs and pages use keys, never hetus. ``GET /persons`` on the IdP
lists everyone's key, name and flags without the hetu.

Example (what ``make run`` does to log a generated person in)::

    people = sandbox_population()
    someone = people.get("p0042")        # SandboxPerson; .hetu only for server-side use
    adults_with_mailbox = [p for p in people if p.messages_mailbox]
"""

from __future__ import annotations

import functools
import random
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from types import MappingProxyType

from dateutil.relativedelta import relativedelta
from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from schemas.hetu import Hetu, check_character

REFERENCE_DATE = date(2026, 1, 1)
"""Generated ages are counted on this day, so the population does not drift with the clock."""
DEFAULT_POPULATION_SIZE = 200
DEFAULT_POPULATION_SEED = 2026
#: Generated people at most (benchmarks queue tens of thousands of applications).
MAX_POPULATION = 50_000


@dataclass(frozen=True)
class Municipality:
    number: str
    name_fi: str
    name_sv: str


@dataclass(frozen=True)
class Address:
    """A permanent address in Finland, in Finnish and (where different) Swedish."""

    street_fi: str
    postal_code: str
    post_office_fi: str
    street_sv: str | None = None
    post_office_sv: str | None = None


@dataclass(frozen=True)
class AbroadAddress:
    street: str
    locality_fi: str
    locality_sv: str
    locality_plain: str
    country_code: str


@dataclass(frozen=True)
class KohaPatronship:
    """The person is already a patron in the Koha sandbox: home library, and guarantor's key for a child."""

    library_id: str
    mobile: str | None = None
    guarantor: str | None = None
    card_expires_in_days: int | None = None  # None: a card enrolled today (the category's period)


@dataclass(frozen=True, repr=False)
class SandboxPerson:
    """One fictional person. ``key`` is a stable, non-personal handle; ``repr`` shows only it."""

    key: str
    first_names: str
    surname: str
    description: dict[str, str]
    hetu: str | None = None
    given_name: str | None = None
    municipality: Municipality | None = None
    address: Address | None = None
    abroad: AbroadAddress | None = None
    non_disclosure: bool = False
    email: str | None = None
    messages_mailbox: bool = False
    koha: KohaPatronship | None = None
    eidas_person_identifier: str | None = None
    eidas_date_of_birth: date | None = None
    children: tuple[str, ...] = field(default=())
    generated: bool = False

    def __repr__(self) -> str:
        return f"SandboxPerson({self.key!r})"

    @property
    def eidas(self) -> bool:
        return self.hetu is None

    @property
    def calling_name(self) -> str:
        return self.given_name or self.first_names.split()[0]

    @property
    def display_name(self) -> str:
        return f"{self.calling_name} {self.surname}"

    @property
    def birth_date(self) -> date:
        if self.hetu is not None:
            return Hetu(self.hetu).info().birth_date
        assert self.eidas_date_of_birth is not None
        return self.eidas_date_of_birth

    def age_on(self, day: date) -> int:
        born = self.birth_date
        return day.year - born.year - ((day.month, day.day) < (born.month, born.day))


JYVASKYLA = Municipality("179", "Jyväskylä", "Jyväskylä")
AANEKOSKI = Municipality("992", "Äänekoski", "Äänekoski")
LAUKAA = Municipality("410", "Laukaa", "Laukaa")
JAMSA = Municipality("182", "Jämsä", "Jämsä")
PIHTIPUDAS = Municipality("601", "Pihtipudas", "Pihtipudas")
VAASA = Municipality("905", "Vaasa", "Vasa")
HELSINKI = Municipality("091", "Helsinki", "Helsingfors")
TAMPERE = Municipality("837", "Tampere", "Tammerfors")

KORHONEN_HOME = Address("Keskustie 5", "44100", "ÄÄNEKOSKI")
LAINE_HOME = Address("Väinönkatu 26 B 12", "40100", "JYVÄSKYLÄ")

_NAMED: tuple[SandboxPerson, ...] = (
    SandboxPerson(
        key="aino",
        hetu="150385-9046",
        first_names="Aino Maria",
        surname="Virtanen",
        municipality=JYVASKYLA,
        address=Address("Kauppakatu 12 A 3", "40100", "JYVÄSKYLÄ"),
        email="aino.virtanen@example.org",
        messages_mailbox=True,
        koha=KohaPatronship("JYVPK", mobile="+358401234567"),
        description={
            "fi": "Aikuinen, sähköposti ja Suomi.fi-viestit käytössä",
            "sv": "Vuxen, e-post och Suomi.fi-meddelanden i bruk",
            "en": "Adult with e-mail and Suomi.fi Messages",
        },
    ),
    SandboxPerson(
        key="mikko",
        hetu="070779-912Y",
        first_names="Mikko Juhani",
        surname="Korhonen",
        municipality=AANEKOSKI,
        address=KORHONEN_HOME,
        email="mikko.korhonen@example.org",
        children=("eetu",),
        koha=KohaPatronship("AANPK", mobile="+358501112223"),
        description={
            "fi": "Aikuinen ilman Suomi.fi-viestejä, Eetun huoltaja",
            "sv": "Vuxen utan Suomi.fi-meddelanden, Eetus vårdnadshavare",
            "en": "Adult without Suomi.fi Messages, Eetu's guardian",
        },
    ),
    SandboxPerson(
        key="eetu",
        hetu="120318A916B",
        first_names="Eetu Matias",
        surname="Korhonen",
        municipality=AANEKOSKI,
        address=KORHONEN_HOME,
        koha=KohaPatronship("AANPK", guarantor="mikko", card_expires_in_days=12),
        description={"fi": "Alle 15-vuotias lapsi, huoltaja Mikko", "sv": "Barn under 15 år, vårdnadshavare Mikko", "en": "Child under 15, guardian Mikko"},
    ),
    SandboxPerson(
        key="sanna",
        hetu="230982-946S",
        first_names="Sanna Kristiina",
        surname="Laine",
        municipality=JYVASKYLA,
        address=LAINE_HOME,
        email="sanna.laine@example.org",
        children=("ella", "onni"),
        description={
            "fi": "Huoltaja: Ella (15–17 v.) ja Onni (alle 15 v.)",
            "sv": "Vårdnadshavare: Ella (15–17 år) och Onni (under 15 år)",
            "en": "Guardian of Ella (15–17) and Onni (under 15)",
        },
    ),
    SandboxPerson(
        key="ella",
        hetu="140211A942V",
        first_names="Ella Sofia",
        surname="Laine",
        municipality=JYVASKYLA,
        address=LAINE_HOME,
        email="ella.laine@example.org",
        description={"fi": "Nuori (15–17 v.), hakee itse", "sv": "Ung (15–17 år), ansöker själv", "en": "Young person (15–17), applies alone"},
    ),
    SandboxPerson(
        key="onni",
        hetu="200516A9379",
        first_names="Onni Eemeli",
        surname="Laine",
        municipality=JYVASKYLA,
        address=LAINE_HOME,
        description={"fi": "Alle 15-vuotias lapsi, huoltaja Sanna", "sv": "Barn under 15 år, vårdnadshavare Sanna", "en": "Child under 15, guardian Sanna"},
    ),
    SandboxPerson(
        key="tuuli",
        hetu="041190-964S",
        first_names="Tuuli Johanna",
        surname="Salonen",
        municipality=JYVASKYLA,
        address=Address("Salainen tie 1", "40100", "JYVÄSKYLÄ"),
        non_disclosure=True,
        email="tuuli.salonen@example.org",
        description={
            "fi": "Turvakielto: osoitetta ei luovuteta",
            "sv": "Spärrmarkering: ingen adress lämnas ut",
            "en": "Non-disclosure marking: no address is released",
        },
    ),
    SandboxPerson(
        key="matti",
        hetu="300458-9174",
        first_names="Matti Olavi",
        surname="Nieminen",
        municipality=VAASA,
        address=Address("Hovioikeudenpuistikko 15 A 4", "65100", "VAASA", "Hovrättsesplanaden 15 A 4", "VASA"),
        description={"fi": "Aikuinen ilman sähköpostia", "sv": "Vuxen utan e-post", "en": "Adult without e-mail"},
    ),
    SandboxPerson(
        key="liisa",
        hetu="110770-984J",
        first_names="Liisa Annikki",
        surname="Mäkinen",
        abroad=AbroadAddress("Drottninggatan 71 C", "Tukholma, Ruotsi", "Stockholm, Sverige", "Stockholm, Sweden", "SE"),
        email="liisa.makinen@example.org",
        description={
            "fi": "Asuu ulkomailla: ei kotikuntaa Suomessa",
            "sv": "Bor utomlands: ingen hemkommun i Finland",
            "en": "Lives abroad: no home municipality in Finland",
        },
    ),
    SandboxPerson(
        key="erik",
        first_names="Erik Lars",
        surname="Johansson",
        eidas_person_identifier="SE/FI/199005151234",
        eidas_date_of_birth=date(1990, 5, 15),
        description={
            "fi": "Eurooppalainen tunnistus (eIDAS), ei henkilötunnusta",
            "sv": "Europeisk identifiering (eIDAS), ingen personbeteckning",
            "en": "European identification (eIDAS), no Finnish identity code",
        },
    ),
    SandboxPerson(
        key="nordea",
        hetu="210281-9988",
        first_names="Nordea",
        surname="Demo",
        municipality=HELSINKI,
        address=Address("Nordeatie 2", "00120", "HELSINKI", "Nordeavägen 2", "HELSINGFORS"),
        messages_mailbox=True,
        description={
            "fi": "Suomi.fi:n julkaisema testihenkilö, Suomi.fi-viestit käytössä",
            "sv": "Suomi.fi:s publicerade testperson, Suomi.fi-meddelanden i bruk",
            "en": "Suomi.fi's published test person, with Suomi.fi Messages",
        },
    ),
)

NAMED: MappingProxyType[str, SandboxPerson] = MappingProxyType({person.key: person for person in _NAMED})
"""The named people by key, in picker order."""


class Population:
    """A set of people with lookups by key and hetu, and the guardian ↔ child relation."""

    def __init__(self, people: Iterable[SandboxPerson]) -> None:
        self._by_key: dict[str, SandboxPerson] = {}
        self._by_hetu: dict[str, SandboxPerson] = {}
        for person in people:
            if person.key in self._by_key or (person.hetu is not None and person.hetu in self._by_hetu):
                raise ValueError(f"two sandbox people share the key or hetu of {person.key!r}")
            self._by_key[person.key] = person
            if person.hetu is not None:
                self._by_hetu[person.hetu] = person
        for person in self._by_key.values():
            for child in person.children:
                if child not in self._by_key:
                    raise ValueError(f"{person.key!r} names a child {child!r} who is not in the population")

    def __iter__(self) -> Iterator[SandboxPerson]:
        return iter(self._by_key.values())

    def __len__(self) -> int:
        return len(self._by_key)

    def __contains__(self, key: object) -> bool:
        return key in self._by_key

    def __getitem__(self, key: str) -> SandboxPerson:
        """Raises: KeyError: no such person."""
        return self._by_key[key]

    def get(self, key: str) -> SandboxPerson | None:
        return self._by_key.get(key)

    def by_hetu(self, hetu: str) -> SandboxPerson | None:
        return self._by_hetu.get(hetu)

    def keys(self) -> list[str]:
        return list(self._by_key)

    @property
    def named(self) -> list[SandboxPerson]:
        return [person for person in self if not person.generated]

    @property
    def generated(self) -> list[SandboxPerson]:
        return [person for person in self if person.generated]

    def children_of(self, key: str) -> list[SandboxPerson]:
        person = self._by_key.get(key)
        return [self._by_key[child] for child in person.children] if person else []

    def guardians_of(self, key: str) -> list[SandboxPerson]:
        return [candidate for candidate in self if key in candidate.children]


# --------------------------------------------------------------------------- generated people

FEMALE_FIRST_NAMES = (
    "Aino",
    "Anna",
    "Elina",
    "Emilia",
    "Helmi",
    "Johanna",
    "Kaisa",
    "Katja",
    "Laura",
    "Maria",
    "Minna",
    "Noora",
    "Pirjo",
    "Riikka",
    "Satu",
    "Tiina",
    "Venla",
    "Sofia",
)
MALE_FIRST_NAMES = (
    "Antti",
    "Eero",
    "Heikki",
    "Ilkka",
    "Jari",
    "Juha",
    "Kalle",
    "Lauri",
    "Markku",
    "Mikael",
    "Niko",
    "Olli",
    "Pekka",
    "Sami",
    "Timo",
    "Ville",
    "Johan",
    "Elias",
)
_SURNAMES = (
    "Virtanen", "Korhonen", "Mäkinen", "Nieminen", "Mäkelä", "Hämäläinen", "Laine", "Heikkinen", "Koskinen", "Järvinen",
    "Lehtonen", "Lehtinen", "Saarinen", "Salminen", "Heinonen", "Niemi", "Heikkilä", "Kinnunen", "Salonen", "Turunen",
    "Salo", "Laitinen", "Tuominen", "Rantanen", "Karjalainen", "Jokinen", "Mattila", "Savolainen", "Lahtinen", "Ahonen",
    "Lindholm", "Nyström",
)  # fmt: skip
_STREETS = (
    "Kauppakatu",
    "Kilpisenkatu",
    "Vapaudenkatu",
    "Puistokatu",
    "Koivistontie",
    "Rantatie",
    "Myllytie",
    "Koulukatu",
    "Kirkkotie",
    "Ahjokatu",
    "Harjutie",
    "Keskustie",
)
# (municipality, postal code and post office choices, local Koha library, weight)
_PLACES: tuple[tuple[Municipality, tuple[tuple[str, str], ...], str | None, int], ...] = (
    (JYVASKYLA, (("40100", "JYVÄSKYLÄ"), ("40200", "JYVÄSKYLÄ"), ("40320", "JYVÄSKYLÄ"), ("40520", "JYVÄSKYLÄ")), "JYVPK", 40),
    (JYVASKYLA, (("40800", "VAAJAKOSKI"),), "JYVVAA", 6),
    (JYVASKYLA, (("41800", "KORPILAHTI"),), "JYVKORPI", 3),
    (AANEKOSKI, (("44100", "ÄÄNEKOSKI"), ("44150", "ÄÄNEKOSKI")), "AANPK", 8),
    (LAUKAA, (("41340", "LAUKAA"),), "LAUPK", 8),
    (JAMSA, (("42100", "JÄMSÄ"),), "JAMPK", 6),
    (PIHTIPUDAS, (("44800", "PIHTIPUDAS"),), "PIHPK", 3),
    (VAASA, (("65100", "VAASA"), ("65200", "VAASA")), None, 4),
    (HELSINKI, (("00100", "HELSINKI"), ("00530", "HELSINKI")), None, 6),
    (TAMPERE, (("33100", "TAMPERE"),), None, 4),
)
_OLD_SIGNS = {1900: "-YXWVU", 2000: "ABCDEF"}  # century signs; the 2023 ones are used now and then
_ASCII = str.maketrans({"ä": "a", "ö": "o", "å": "a", "Ä": "A", "Ö": "O", "Å": "A"})


def _card_expiry_days(number: int) -> int | None:
    """Every fourth generated person's card runs out within 30 days (card-expiry reminders have work); the rest are new."""
    return (number * 7) % 30 + 1 if number % 4 == 0 else None


def population(count: int, *, seed: int = DEFAULT_POPULATION_SEED) -> tuple[SandboxPerson, ...]:
    """``count`` generated adults (keys ``p0001``…), the same for the same ``seed`` on every machine.

    Their hetus never collide with each other or with the named people.

    Raises:
        ValueError: ``count`` is negative or above MAX_POPULATION.
    """
    if not 0 <= count <= MAX_POPULATION:
        raise ValueError(f"a sandbox population has 0 to {MAX_POPULATION} generated people")
    rng = random.Random(seed)
    taken = {person.hetu for person in _NAMED if person.hetu}
    weights = [place[3] for place in _PLACES]
    people = []
    for number in range(1, count + 1):
        age = rng.randint(15, 90)
        born = REFERENCE_DATE - relativedelta(years=age) - timedelta(days=rng.randint(1, 364))
        signs = _OLD_SIGNS[1900 if born.year < 2000 else 2000]
        sign = signs[0] if rng.random() < 0.9 else rng.choice(signs[1:])
        while True:
            individual = rng.randint(900, 999)
            nine = f"{born:%d%m%y}{individual}"
            hetu = f"{nine[:6]}{sign}{individual}{check_character(nine)}"
            if hetu not in taken:
                taken.add(hetu)
                break
        female = individual % 2 == 0
        names = FEMALE_FIRST_NAMES if female else MALE_FIRST_NAMES
        first, second = rng.sample(names, 2)
        surname = rng.choice(_SURNAMES)
        municipality, postcodes, library, _ = rng.choices(_PLACES, weights=weights)[0]
        postal_code, post_office = rng.choice(postcodes)
        street = f"{rng.choice(_STREETS)} {rng.randint(1, 60)}" + (f" {rng.choice('ABC')} {rng.randint(1, 40)}" if rng.random() < 0.5 else "")
        has_email = rng.random() >= 0.15
        mailbox = rng.random() < 0.75
        patron = library is not None and rng.random() < 0.15
        email = f"{first}.{surname}.{number}@example.org".lower().translate(_ASCII) if has_email else None
        people.append(
            SandboxPerson(
                key=f"p{number:04d}",
                hetu=hetu,
                first_names=f"{first} {second}",
                surname=surname,
                municipality=municipality,
                address=Address(street, postal_code, post_office),
                email=email,
                messages_mailbox=mailbox,
                koha=KohaPatronship(library, card_expires_in_days=_card_expiry_days(number)) if patron and library else None,
                description=_describe(mailbox=mailbox, email=has_email, patron=patron),
                generated=True,
            )
        )
    return tuple(people)


def _describe(*, mailbox: bool, email: bool, patron: bool) -> dict[str, str]:
    parts = [
        ("Suomi.fi-viestit käytössä", "Suomi.fi-meddelanden i bruk", "Suomi.fi Messages")
        if mailbox
        else ("ei Suomi.fi-viestejä", "utan Suomi.fi-meddelanden", "no Suomi.fi Messages"),
        *([] if email else [("ei sähköpostia", "utan e-post", "no e-mail")]),
        *([("jo kirjaston asiakas", "redan låntagare", "already a library patron")] if patron else []),
    ]
    heads = ("Generoitu aikuinen", "Genererad vuxen", "Generated adult")
    return {lang: f"{heads[i]}: " + ", ".join(part[i] for part in parts) for i, lang in enumerate(("fi", "sv", "en"))}


class SandboxPopulationSettings(BaseSettings):
    """How many generated people the sandboxes serve (env prefix ``KUNTAFLOW_SANDBOX_POPULATION_``)."""

    model_config = SettingsConfigDict(env_prefix="KUNTAFLOW_SANDBOX_POPULATION_", extra="ignore")

    size: int = Field(default=DEFAULT_POPULATION_SIZE, ge=0, le=MAX_POPULATION, description="Generated people besides the named ones.")
    seed: int = Field(default=DEFAULT_POPULATION_SEED, description="Seed of the generated people (same seed, same people).")


@functools.lru_cache(maxsize=8)
def _build(size: int, seed: int) -> Population:
    return Population((*_NAMED, *population(size, seed=seed)))


def sandbox_population(size: int | None = None, *, seed: int | None = None) -> Population:
    """The named people plus the generated ones; by default as ``KUNTAFLOW_SANDBOX_POPULATION_*`` says."""
    if size is None or seed is None:
        settings = SandboxPopulationSettings()
        size = settings.size if size is None else size
        seed = settings.seed if seed is None else seed
    return _build(size, seed)


def named_population() -> Population:
    """Only the named people (tests that count patrons or mailboxes)."""
    return _build(0, DEFAULT_POPULATION_SEED)
