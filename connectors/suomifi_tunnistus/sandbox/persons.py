"""The sandbox IdP's test persons, and what Suomi.fi would say about each of them.

The people themselves live in :mod:`connectors.sandbox_people`, shared with the Messages and
Koha sandboxes: the named ones (Aino, Mikko and Eetu, Sanna with Ella and Onni, Tuuli with a
non-disclosure marking, Matti without e-mail, Liisa abroad, Erik from eIDAS, Nordea Demo) and a
generated population (keys ``p0001``…). The IdP can log any of them in.

This module maps a person to the attribute statement of reference/suomifi.md §1.4 and the level
of assurance. The guardian → child relation is what Suomi.fi itself does not send; an e-service
asks Suomi.fi Valtuudet (its sandbox, ``connectors/suomifi_valtuudet``, reads the same people). The
IdP shows it to a person as ``GET /persons/{key}/children``.
"""

from __future__ import annotations

from connectors.sandbox_people import NAMED, Population, SandboxPerson, sandbox_population
from connectors.suomifi_tunnistus.settings import EIDAS_SUBSTANTIAL, LOA3

TestPerson = SandboxPerson
"""The IdP's name for a person it can log in (kept for tests and the SamlTestKit)."""

PERSONS = NAMED
"""The named test persons by key (the generated ones: ``sandbox_population()``)."""


def loa(person: SandboxPerson) -> str:
    """The level of assurance Suomi.fi reports: loa3 for a Finnish login, eIDAS substantial for eIDAS."""
    return EIDAS_SUBSTANTIAL if person.eidas else LOA3


def attributes(person: SandboxPerson) -> dict[str, list[str]]:
    """The attribute statement Suomi.fi would send, by friendly name (the IdP maps them to URIs)."""
    if person.hetu is None:
        assert person.eidas_person_identifier is not None and person.eidas_date_of_birth is not None
        return {
            "PersonIdentifier": [person.eidas_person_identifier],
            "FamilyName": [person.surname],
            "FirstName": [person.first_names],
            "DateOfBirth": [person.eidas_date_of_birth.isoformat()],
        }
    found: dict[str, str | None] = {
        "nationalIdentificationNumber": person.hetu,
        "cn": f"{person.surname} {person.first_names}",
        "displayName": person.display_name,
        "givenName": person.calling_name,
        "sn": person.surname,
        "FirstName": person.first_names,
        "mail": person.email,
        "VtjVerified": "true",
        "SuomenKansalaisuusTietokoodi": "1",
    }
    if person.non_disclosure:
        found["TurvakieltoTieto"] = "1"
    else:
        if person.municipality is not None:
            found |= {
                "KotikuntaKuntanumero": person.municipality.number,
                "KotikuntaKuntaS": person.municipality.name_fi,
                "KotikuntaKuntaR": person.municipality.name_sv,
            }
        if person.address is not None:
            found |= {
                "VakinainenKotimainenLahiosoiteS": person.address.street_fi,
                "VakinainenKotimainenLahiosoiteR": person.address.street_sv,
                "VakinainenKotimainenLahiosoitePostinumero": person.address.postal_code,
                "VakinainenKotimainenLahiosoitePostitoimipaikkaS": person.address.post_office_fi,
                "VakinainenKotimainenLahiosoitePostitoimipaikkaR": person.address.post_office_sv,
            }
        if person.abroad is not None:
            found |= {
                "VakinainenUlkomainenLahiosoite": person.abroad.street,
                "VakinainenUlkomainenLahiosoitePaikkakuntaJaValtioS": person.abroad.locality_fi,
                "VakinainenUlkomainenLahiosoitePaikkakuntaJaValtioR": person.abroad.locality_sv,
                "VakinainenUlkomainenLahiosoitePaikkakuntaJaValtioSelvakielinen": person.abroad.locality_plain,
                "VakinainenUlkomainenLahiosoiteValtiokoodi": person.abroad.country_code,
            }
    return {name: [value] for name, value in found.items() if value is not None}


def person(key: str, people: Population | None = None) -> SandboxPerson:
    """Raises: KeyError: no such test person."""
    return (people if people is not None else sandbox_population())[key]


def guardians_of(key: str, people: Population | None = None) -> list[SandboxPerson]:
    return (people if people is not None else sandbox_population()).guardians_of(key)
