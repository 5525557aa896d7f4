"""The sandbox IdP's test persons: fictional, with Suomi.fi-style test hetus (individual numbers 900–999).

Each hetu was computed with :func:`schemas.hetu.check_character`, and a test asserts it is
valid. Birth dates are fixed so the hetus stay stable; they were chosen so that each person stays
in their category for years (ages on 25 Nov 2026 in brackets):

- Aino Virtanen (41), an adult with an e-mail and a Suomi.fi Messages mailbox. She is in the
  Koha and Messages sandbox seeds too.
- Mikko Korhonen (47), guardian of Eetu Korhonen (8). Mikko has no Messages mailbox, as in the
  Messages seed, and Eetu is his Koha guarantee.
- Sanna Laine (44), guardian of Ella Laine (15; born 14 Feb 2011, so 15 or over from now on, and
  under 18 until 2029) and Onni Laine (10; born 20 May 2016, so under 15 until May 2031).
- Tuuli Salonen (36), with a non-disclosure marking (TurvakieltoTieto = 1): no municipality and
  no address are sent.
- Matti Nieminen (68), without an e-mail address, living in bilingual Vaasa (Swedish street
  names too).
- Liisa Mäkinen (56), a Finn living in Sweden: a foreign permanent address and no home municipality.
- Erik Johansson, an eIDAS user from Sweden: no hetu and no population-register data, only
  PersonIdentifier, names and DateOfBirth.

The guardian → child relation is what Suomi.fi itself does not send; in real life the e-service
asks Suomi.fi Valtuudet or the Population Information System. The sandbox publishes it as
``GET /persons/{key}/children`` (see the sandbox app) so the e-service can be built and tested
against the same people.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from types import MappingProxyType

from connectors.suomifi_tunnistus.settings import EIDAS_SUBSTANTIAL, LOA3
from schemas import Hetu


@dataclass(frozen=True)
class Address:
    """A permanent address in Finland, in Finnish and (where different) Swedish."""

    street_fi: str
    postal_code: str
    post_office_fi: str
    street_sv: str | None = None
    post_office_sv: str | None = None


@dataclass(frozen=True)
class Municipality:
    number: str
    name_fi: str
    name_sv: str


@dataclass(frozen=True)
class AbroadAddress:
    street: str
    locality_fi: str
    locality_sv: str
    locality_plain: str
    country_code: str


@dataclass(frozen=True, repr=False)
class TestPerson:
    """One person the sandbox IdP can log in. ``key`` is a stable, non-personal handle."""

    __test__ = False  # not a pytest test class, despite the name

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
    eidas_person_identifier: str | None = None
    eidas_date_of_birth: date | None = None
    loa: str = LOA3
    children: tuple[str, ...] = field(default=())

    def __repr__(self) -> str:
        return f"TestPerson({self.key!r})"

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

    def attributes(self) -> dict[str, list[str]]:
        """The attribute statement Suomi.fi would send, by friendly name (the IdP maps them to URIs)."""
        if self.hetu is None:
            assert self.eidas_person_identifier is not None and self.eidas_date_of_birth is not None
            return {
                "PersonIdentifier": [self.eidas_person_identifier],
                "FamilyName": [self.surname],
                "FirstName": [self.first_names],
                "DateOfBirth": [self.eidas_date_of_birth.isoformat()],
            }
        found: dict[str, str | None] = {
            "nationalIdentificationNumber": self.hetu,
            "cn": f"{self.surname} {self.first_names}",
            "displayName": self.display_name,
            "givenName": self.calling_name,
            "sn": self.surname,
            "FirstName": self.first_names,
            "mail": self.email,
            "VtjVerified": "true",
            "SuomenKansalaisuusTietokoodi": "1",
        }
        if self.non_disclosure:
            found["TurvakieltoTieto"] = "1"
        else:
            if self.municipality is not None:
                found |= {
                    "KotikuntaKuntanumero": self.municipality.number,
                    "KotikuntaKuntaS": self.municipality.name_fi,
                    "KotikuntaKuntaR": self.municipality.name_sv,
                }
            if self.address is not None:
                found |= {
                    "VakinainenKotimainenLahiosoiteS": self.address.street_fi,
                    "VakinainenKotimainenLahiosoiteR": self.address.street_sv,
                    "VakinainenKotimainenLahiosoitePostinumero": self.address.postal_code,
                    "VakinainenKotimainenLahiosoitePostitoimipaikkaS": self.address.post_office_fi,
                    "VakinainenKotimainenLahiosoitePostitoimipaikkaR": self.address.post_office_sv,
                }
            if self.abroad is not None:
                found |= {
                    "VakinainenUlkomainenLahiosoite": self.abroad.street,
                    "VakinainenUlkomainenLahiosoitePaikkakuntaJaValtioS": self.abroad.locality_fi,
                    "VakinainenUlkomainenLahiosoitePaikkakuntaJaValtioR": self.abroad.locality_sv,
                    "VakinainenUlkomainenLahiosoitePaikkakuntaJaValtioSelvakielinen": self.abroad.locality_plain,
                    "VakinainenUlkomainenLahiosoiteValtiokoodi": self.abroad.country_code,
                }
        return {name: [value] for name, value in found.items() if value is not None}


JYVASKYLA = Municipality("179", "Jyväskylä", "Jyväskylä")
AANEKOSKI = Municipality("992", "Äänekoski", "Äänekoski")
VAASA = Municipality("905", "Vaasa", "Vasa")

KORHONEN_HOME = Address("Keskustie 5", "44100", "ÄÄNEKOSKI")
LAINE_HOME = Address("Väinönkatu 26 B 12", "40100", "JYVÄSKYLÄ")

PERSONS: MappingProxyType[str, TestPerson] = MappingProxyType(
    {
        person.key: person
        for person in (
            TestPerson(
                key="aino",
                hetu="150385-9046",
                first_names="Aino Maria",
                surname="Virtanen",
                municipality=JYVASKYLA,
                address=Address("Kauppakatu 12 A 3", "40100", "JYVÄSKYLÄ"),
                email="aino.virtanen@example.org",
                messages_mailbox=True,
                description={
                    "fi": "Aikuinen, sähköposti ja Suomi.fi-viestit käytössä",
                    "sv": "Vuxen, e-post och Suomi.fi-meddelanden i bruk",
                    "en": "Adult with e-mail and Suomi.fi Messages",
                },
            ),
            TestPerson(
                key="mikko",
                hetu="070779-912Y",
                first_names="Mikko Juhani",
                surname="Korhonen",
                municipality=AANEKOSKI,
                address=KORHONEN_HOME,
                email="mikko.korhonen@example.org",
                children=("eetu",),
                description={
                    "fi": "Aikuinen ilman Suomi.fi-viestejä, Eetun huoltaja",
                    "sv": "Vuxen utan Suomi.fi-meddelanden, Eetus vårdnadshavare",
                    "en": "Adult without Suomi.fi Messages, Eetu's guardian",
                },
            ),
            TestPerson(
                key="eetu",
                hetu="120318A916B",
                first_names="Eetu Matias",
                surname="Korhonen",
                municipality=AANEKOSKI,
                address=KORHONEN_HOME,
                description={"fi": "Alle 15-vuotias lapsi, huoltaja Mikko", "sv": "Barn under 15 år, vårdnadshavare Mikko", "en": "Child under 15, guardian Mikko"},
            ),
            TestPerson(
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
            TestPerson(
                key="ella",
                hetu="140211A942V",
                first_names="Ella Sofia",
                surname="Laine",
                municipality=JYVASKYLA,
                address=LAINE_HOME,
                email="ella.laine@example.org",
                description={"fi": "Nuori (15–17 v.), hakee itse", "sv": "Ung (15–17 år), ansöker själv", "en": "Young person (15–17), applies alone"},
            ),
            TestPerson(
                key="onni",
                hetu="200516A9379",
                first_names="Onni Eemeli",
                surname="Laine",
                municipality=JYVASKYLA,
                address=LAINE_HOME,
                description={"fi": "Alle 15-vuotias lapsi, huoltaja Sanna", "sv": "Barn under 15 år, vårdnadshavare Sanna", "en": "Child under 15, guardian Sanna"},
            ),
            TestPerson(
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
            TestPerson(
                key="matti",
                hetu="300458-9174",
                first_names="Matti Olavi",
                surname="Nieminen",
                municipality=VAASA,
                address=Address("Hovioikeudenpuistikko 15 A 4", "65100", "VAASA", "Hovrättsesplanaden 15 A 4", "VASA"),
                description={"fi": "Aikuinen ilman sähköpostia", "sv": "Vuxen utan e-post", "en": "Adult without e-mail"},
            ),
            TestPerson(
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
            TestPerson(
                key="erik",
                first_names="Erik Lars",
                surname="Johansson",
                eidas_person_identifier="SE/FI/199005151234",
                eidas_date_of_birth=date(1990, 5, 15),
                loa=EIDAS_SUBSTANTIAL,
                email=None,
                description={
                    "fi": "Eurooppalainen tunnistus (eIDAS), ei henkilötunnusta",
                    "sv": "Europeisk identifiering (eIDAS), ingen personbeteckning",
                    "en": "European identification (eIDAS), no Finnish identity code",
                },
            ),
        )
    }
)


def person(key: str) -> TestPerson:
    """Raises: KeyError: no such test person."""
    return PERSONS[key]


def guardians_of(key: str) -> list[TestPerson]:
    return [candidate for candidate in PERSONS.values() if key in candidate.children]
