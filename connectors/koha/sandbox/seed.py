"""Seed data for the Koha sandbox: Keski-like branches, adult and child categories, a few patrons.

Library and category codes are site-specific (domain.md §1.5, §2.1); these follow the Keski
consortium's shape. Enrolment periods are the sandbox's choice (no public source gives Keski's).
Patrons are the people of :mod:`connectors.sandbox_people` who are Koha patrons there (Aino,
Mikko, Eetu with Mikko as guarantor, and some generated adults), plus Laura Nieminen, a patron
from before hetu keys were stored, whom only this sandbox knows. The store gets only the hetu
keys, computed with the salt the connector will use.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from dateutil.relativedelta import relativedelta
from pydantic import SecretStr

from connectors.koha.sandbox.store import ApiKey, AttributeType, KohaStore
from connectors.sandbox_people import Population, sandbox_population
from schemas.hetu import hetu_key

SANDBOX_CLIENT_ID = "kuntaflow"
SANDBOX_CLIENT_SECRET = "sandbox-secret"
SANDBOX_LIMITED_CLIENT_ID = "kuntaflow-limited"
SANDBOX_LIMITED_CLIENT_SECRET = "limited-secret"
SANDBOX_STAFF_USER = "kuntaflow"
SANDBOX_STAFF_PASSWORD = "sandbox-password"

LIBRARIES = [
    ("JYVPK", "Jyväskylän kaupunginkirjasto – pääkirjasto", "40100", "Jyväskylä"),
    ("JYVVAA", "Vaajakosken kirjasto", "40800", "Jyväskylä"),
    ("JYVKORPI", "Korpilahden kirjasto", "41800", "Jyväskylä"),
    ("AANPK", "Äänekosken kaupunginkirjasto", "44100", "Äänekoski"),
    ("PIHPK", "Pihtiputaan kirjasto", "44800", "Pihtipudas"),
    ("LAUPK", "Laukaan pääkirjasto", "41340", "Laukaa"),
    ("JAMPK", "Jämsän kaupunginkirjasto", "42100", "Jämsä"),
]

CATEGORIES = [
    {
        "patron_category_id": "HENKILO",
        "name": "Aikuinen",
        "category_type": "A",
        "enrolment_period": 60,
        "enrolment_period_date": None,
        "upper_age_limit": None,
        "lower_age_limit": True,
        "can_be_guarantee": False,
        "min_password_length": 4,
    },
    {
        "patron_category_id": "LAPSI",
        "name": "Lapsi (alle 15 v.)",
        "category_type": "C",
        "enrolment_period": 60,
        "enrolment_period_date": None,
        "upper_age_limit": 15,
        "lower_age_limit": False,
        "can_be_guarantee": True,
        "min_password_length": 4,
    },
]


@dataclass(frozen=True)
class SeedPatron:
    hetu: str | None
    surname: str
    firstname: str
    date_of_birth: str
    library_id: str
    category_id: str
    email: str | None = None
    mobile: str | None = None
    guarantor_of_index: int | None = None  # index of this patron's guarantor in the seed list
    card_expires_in_days: int | None = None  # None: enrolled today, the category's period


LEGACY_PATRONS = [SeedPatron(None, "Nieminen", "Laura", "1992-07-23", "JYVVAA", "HENKILO", "laura.nieminen@example.org", card_expires_in_days=20)]
"""Patrons without a hetu key (registered before keys were kept); no other sandbox knows them. Laura's card runs out in 20 days."""


def seed_patrons(people: Population) -> list[SeedPatron]:
    """The population's Koha patrons (guarantors before their guarantees), then the legacy ones."""
    patrons = [person for person in people if person.koha is not None and person.hetu is not None]
    index = {person.key: position for position, person in enumerate(patrons)}
    found = []
    for person in patrons:
        assert person.koha is not None and person.hetu is not None
        guarantor = person.koha.guarantor
        if guarantor is not None and index.get(guarantor, len(patrons)) >= index[person.key]:
            raise ValueError(f"the Koha guarantor of {person.key!r} must be a patron listed before them")
        found.append(
            SeedPatron(
                hetu=person.hetu,
                surname=person.surname,
                firstname=person.calling_name,
                date_of_birth=person.birth_date.isoformat(),
                library_id=person.koha.library_id,
                category_id="HENKILO" if guarantor is None else "LAPSI",
                email=person.email,
                mobile=person.koha.mobile,
                guarantor_of_index=index[guarantor] if guarantor is not None else None,
                card_expires_in_days=person.koha.card_expires_in_days,
            )
        )
    return found + LEGACY_PATRONS


def seed(store: KohaStore, salt: SecretStr, *, hetu_key_attribute: str = "SOTU", people: Population | None = None) -> None:
    """Fill an empty store; patrons from ``people`` (by default ``sandbox_population()``)."""
    for library_id, name, postal_code, city in LIBRARIES:
        store.libraries[library_id] = {
            "library_id": library_id,
            "name": name,
            "address1": None,
            "postal_code": postal_code,
            "city": city,
            "country": "Suomi",
            "email": None,
            "phone": None,
            "pickup_location": True,
            "public": True,
        }
    for category in CATEGORIES:
        store.categories[category["patron_category_id"]] = dict(category)
    store.attribute_types[hetu_key_attribute] = AttributeType(hetu_key_attribute, "Sotu-avain (hetu-avain)", unique=True)
    store.attribute_types[store.guarantor_attribute] = AttributeType(store.guarantor_attribute, "Takaaja (asiakasnumero)", repeatable=True)
    everything = frozenset({"borrowers", "catalogue", "parameters:manage_patron_categories"})
    store.api_keys[SANDBOX_CLIENT_ID] = ApiKey(SANDBOX_CLIENT_SECRET, everything)
    store.api_keys[SANDBOX_LIMITED_CLIENT_ID] = ApiKey(SANDBOX_LIMITED_CLIENT_SECRET, frozenset({"catalogue"}))
    store.staff_logins[SANDBOX_STAFF_USER] = ApiKey(SANDBOX_STAFF_PASSWORD, everything)
    ids: list[int] = []
    for person in seed_patrons(people if people is not None else sandbox_population()):
        attributes = []
        if person.hetu:
            attributes.append({"type": hetu_key_attribute, "value": hetu_key(person.hetu, salt)})
        if person.guarantor_of_index is not None:
            attributes.append({"type": store.guarantor_attribute, "value": str(ids[person.guarantor_of_index])})
        body = {
            "surname": person.surname,
            "firstname": person.firstname,
            "date_of_birth": person.date_of_birth,
            "library_id": person.library_id,
            "category_id": person.category_id,
            "email": person.email,
            "mobile": person.mobile,
            "relationship_type": "huoltaja" if person.guarantor_of_index is not None else None,
            "extended_attributes": attributes,
        }
        if person.card_expires_in_days is not None:  # enrolled one enrolment period before that day
            expires = store.today() + timedelta(days=person.card_expires_in_days)
            enrolled = expires - relativedelta(months=int(store.categories[person.category_id]["enrolment_period"]))
            body |= {"expiry_date": expires.isoformat(), "date_enrolled": enrolled.isoformat()}
        ids.append(store.add_patron(body)["patron_id"])
