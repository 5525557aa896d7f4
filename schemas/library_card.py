"""The library-card application: what the e-service enqueues, the library's rules, the decision.

Process ``library_card`` (ARCHITECTURE.md). The e-service builds a :class:`LibraryCardApplication`
from the Suomi.fi e-Identification attributes (shared/reference/suomifi.md §1.4) and the form,
validates it and enqueues it as the work item's payload; the robot checks it against the rules
below, registers the patron in Koha and tells the citizen the decision.

The rules are the Keski-kirjastot / HelMet practice (shared/reference/domain.md §2.1–2.4):
anyone 15 or over applies alone; an under-15 gets a card only through an adult guardian, who
becomes the card's guarantor; a permanent address in Finland is required; a person with a
non-disclosure marking (turvakielto) is registered without an address and checked by staff;
an eIDAS user without a Finnish henkilötunnus is handled by staff. Every decision has a
plain-language explanation and next step in Finnish, Swedish and English.

Validation errors carry a stable ``type`` per problem (see :data:`ERROR_MESSAGES`), so the
e-service can show them in the citizen's language with :func:`describe_errors`. Personal fields
are left out of ``repr`` and every hetu is a :class:`schemas.hetu.Hetu` (masked repr).
"""

from __future__ import annotations

import re
from datetime import date, datetime
from enum import StrEnum
from typing import Any, Protocol

from dateutil.relativedelta import relativedelta
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator
from pydantic_core import PydanticCustomError

from schemas.email_address import check_address
from schemas.hetu import HELSINKI, Hetu
from schemas.messages import Channel, Language, MessageTemplate, MessageText, NotificationPreference, choose_channel, format_date

PROCESS = "library_card"

#: From this age a person applies alone (Keski and HelMet rules: "alle 15-vuotias tarvitsee …").
INDEPENDENT_AGE = 15
#: A guarantor must be of age (Keski: "täysi-ikäisen vastuuhenkilön").
GUARDIAN_MIN_AGE = 18

_POSTAL_CODE = re.compile(r"[0-9]{5}")
_MUNICIPALITY_CODE = re.compile(r"[0-9]{3}")
_LIBRARY_CODE = re.compile(r"[A-Z0-9_-]{1,10}")
_PHONE = re.compile(r"\+?[0-9]{5,20}")
_EIDAS_ID = re.compile(r"[A-Z]{2}/[A-Z]{2}/\S{1,200}")
#: Characters no name or address needs: C0/C1 controls, lone surrogates (they cannot be stored as
#: UTF-8), text-direction overrides and isolates (they make a name display as something else),
#: the byte-order mark and the non-characters U+FFFE/U+FFFF.
_UNUSABLE = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff\u202a-\u202e\u2066-\u2069\ufeff\ufffe\uffff]")


class GuardianshipVerification(StrEnum):
    """How the e-service verified that the guardian may act for the child."""

    SUOMI_FI_VALTUUDET = "suomifi_valtuudet"  # HPA "henkilön puolesta asiointi": ALLOWED
    VTJ = "vtj"  # Population Information System: Huoltaja-Huollettavat


def _error(code: str, message: str) -> PydanticCustomError:
    return PydanticCustomError(code, message)


def _text(value: str, *, field: str, max_length: int) -> str:
    value = " ".join(value.split())
    if not value:
        raise _error(f"{field}_missing", f"the {field.replace('_', ' ')} is empty")
    if len(value) > max_length:
        raise _error(f"{field}_too_long", f"the {field.replace('_', ' ')} is longer than {max_length} characters")
    if _UNUSABLE.search(value):
        raise _error(f"{field}_invalid", f"the {field.replace('_', ' ')} holds control, surrogate or text-direction characters")
    return value


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, hide_input_in_errors=True)


class FinnishAddress(_Strict):
    """A permanent street address in Finland (VTJ's "vakinainen kotimainen lähiosoite")."""

    street_address: str = Field(repr=False, description="Street and number, e.g. 'Kauppakatu 1 A 2'.")
    postal_code: str = Field(repr=False, description="Five digits.")
    post_office: str = Field(repr=False, description="Postitoimipaikka, e.g. 'Jyväskylä'.")

    @field_validator("street_address")
    @classmethod
    def _street(cls, value: str) -> str:
        return _text(value, field="street_address", max_length=256)

    @field_validator("postal_code")
    @classmethod
    def _postal_code(cls, value: str) -> str:
        value = value.strip()
        if not _POSTAL_CODE.fullmatch(value):
            raise _error("postal_code_invalid", "a Finnish postal code is five digits")
        return value

    @field_validator("post_office")
    @classmethod
    def _post_office(cls, value: str) -> str:
        return _text(value, field="post_office", max_length=64)


class VerifiedPerson(_Strict):
    """A person as Suomi.fi e-Identification verified them (attributes of suomifi.md §1.4).

    Either ``hetu`` (nationalIdentificationNumber) or, for an eIDAS user from another EU
    country, ``eidas_person_identifier`` with ``date_of_birth``. Suomi.fi sends no address for
    a person with a non-disclosure marking, and neither may the e-service.
    """

    hetu: Hetu | None = Field(default=None, description="Henkilötunnus; None for an eIDAS user.")
    eidas_person_identifier: str | None = Field(default=None, repr=False, description="eIDAS PersonIdentifier 'XX/YY/…', for users without a Finnish hetu.")
    date_of_birth: date | None = Field(default=None, repr=False, description="eIDAS DateOfBirth; must match the hetu when both are given.")
    first_names: str = Field(repr=False, description="All first names (FirstName).")
    surname: str = Field(repr=False, description="Surname (sn / FamilyName).")
    home_municipality_code: str | None = Field(default=None, repr=False, description="KotikuntaKuntanumero, three digits.")
    home_municipality: str | None = Field(default=None, repr=False, description="KotikuntaKuntaS.")
    permanent_address: FinnishAddress | None = Field(default=None, repr=False, description="VakinainenKotimainenLahiosoite*; None when there is none.")
    non_disclosure: bool = Field(default=False, description="TurvakieltoTieto = 1.")

    @field_validator("first_names", "surname")
    @classmethod
    def _name(cls, value: str, info: Any) -> str:
        return _text(value, field=info.field_name, max_length=100)

    @field_validator("home_municipality")
    @classmethod
    def _municipality(cls, value: str | None) -> str | None:
        return None if value is None else _text(value, field="home_municipality", max_length=100)

    @field_validator("home_municipality_code")
    @classmethod
    def _municipality_code(cls, value: str | None) -> str | None:
        if value is not None and not _MUNICIPALITY_CODE.fullmatch(value.strip()):
            raise _error("municipality_code_invalid", "a municipality number is three digits")
        return None if value is None else value.strip()

    @field_validator("eidas_person_identifier")
    @classmethod
    def _eidas(cls, value: str | None) -> str | None:
        if value is not None and not _EIDAS_ID.fullmatch(value.strip()):
            raise _error("eidas_id_invalid", "an eIDAS person identifier reads 'XX/YY/identifier'")
        return None if value is None else value.strip()

    @model_validator(mode="after")
    def _identity(self) -> VerifiedPerson:
        if self.hetu is None and self.eidas_person_identifier is None:
            raise _error("identity_missing", "a verified person has a henkilötunnus or an eIDAS person identifier")
        if self.hetu is None and self.date_of_birth is None:
            raise _error("date_of_birth_missing", "an eIDAS user's date of birth is needed")
        if self.hetu is not None and self.date_of_birth is not None and self.date_of_birth != self.hetu.info().birth_date:
            raise _error("date_of_birth_mismatch", "the date of birth does not match the henkilötunnus")
        if self.non_disclosure and self.permanent_address is not None:
            raise _error("address_with_non_disclosure", "a person with a non-disclosure marking is sent without an address")
        return self

    @property
    def birth_date(self) -> date:
        if self.hetu is not None:
            return self.hetu.info().birth_date
        assert self.date_of_birth is not None  # the validator guarantees it
        return self.date_of_birth

    def age_on(self, day: date) -> int:
        """Age in whole years on ``day`` (29 Feb birthdays age on 1 Mar in common years)."""
        if self.hetu is not None:
            return self.hetu.info().age_on(day)
        born = self.birth_date
        return day.year - born.year - ((day.month, day.day) < (born.month, born.day))

    @property
    def full_name(self) -> str:
        """'Surname First Names', as a letter's address block reads."""
        return f"{self.surname} {self.first_names}"


class Guardian(VerifiedPerson):
    """The guardian applying for a child under 15; becomes the card's guarantor in Koha."""

    relationship_verified_by: GuardianshipVerification | None = Field(
        default=None,
        description="How the e-service verified the guardianship; None sends the case to staff.",
    )
    relationship_verified_at: AwareDatetime | None = None

    @model_validator(mode="after")
    def _guardian_identity(self) -> Guardian:
        if self.hetu is None:
            raise _error("guardian_hetu_missing", "a guardian identifies with a Finnish henkilötunnus")
        if self.relationship_verified_by is not None and self.relationship_verified_at is None:
            raise _error("guardianship_time_missing", "say when the guardianship was verified")
        return self


class LibraryCardApplication(_Strict):
    """The payload of a ``library_card`` work item: one person's application for a library card."""

    applicant: VerifiedPerson = Field(description="The person the card is for.")
    guardian: Guardian | None = Field(default=None, description="The guardian, when a guardian applies for a child under 15.")
    home_library: str = Field(description="Koha library_id of the chosen home library, e.g. 'JYVPK'.")
    email: str | None = Field(default=None, repr=False, description="Contact e-mail (the guardian's when a guardian applies).")
    phone: str | None = Field(default=None, repr=False, description="Digits and an optional leading +.")
    language: Language = Field(default=Language.FI, description="Language of the decision.")
    notification_preference: NotificationPreference = Field(
        default=NotificationPreference.SUOMI_FI, description="Used when the recipient has no active Suomi.fi mailbox."
    )
    rules_accepted: bool = Field(description="The applicant (or guardian) accepted the library rules; must be true.")
    submitted_at: AwareDatetime = Field(description="When the citizen sent the application.")

    @field_validator("home_library", mode="before")
    @classmethod
    def _library(cls, value: Any) -> Any:
        if isinstance(value, str):
            value = value.strip().upper()
            if not _LIBRARY_CODE.fullmatch(value):
                raise _error("library_code_invalid", "a library code is 1-10 letters, digits, '_' or '-'")
        return value

    @field_validator("email")
    @classmethod
    def _email(cls, value: str | None) -> str | None:
        if value is None:
            return None
        value = value.strip()
        if not value:
            return None
        # The mail connector's own rule: an address the decision e-mail could not go to is refused
        # here, on the form, rather than failing the case in the robot.
        try:
            value = check_address(value)
        except ValueError:
            raise _error("email_invalid", "this does not look like an e-mail address") from None
        local, _, domain = value.rpartition("@")
        return f"{local}@{domain.lower()}"

    @field_validator("phone")
    @classmethod
    def _phone(cls, value: str | None) -> str | None:
        if value is None:
            return None
        compact = re.sub(r"[\s()-]", "", value)
        if not compact:
            return None
        if not _PHONE.fullmatch(compact):
            raise _error("phone_invalid", "a phone number holds 5-20 digits and an optional leading +")
        return compact

    @field_validator("rules_accepted")
    @classmethod
    def _rules(cls, value: bool) -> bool:
        if value is not True:
            raise _error("rules_not_accepted", "the library rules must be accepted")
        return value

    @model_validator(mode="after")
    def _contact(self) -> LibraryCardApplication:
        if self.notification_preference is NotificationPreference.EMAIL and self.email is None:
            raise _error("email_missing_for_preference", "an e-mail address is needed to be told by e-mail")
        return self

    @property
    def recipient(self) -> VerifiedPerson:
        """Who is told the decision: the guardian who applied, else the applicant."""
        return self.guardian or self.applicant


# --------------------------------------------------------------------------- citizen-readable validation errors

#: Messages for every error ``type`` an application can fail with, in the citizen's language.
ERROR_MESSAGES: dict[str, dict[Language, str]] = {
    "missing": {
        Language.FI: "Tieto puuttuu.",
        Language.SV: "Uppgiften saknas.",
        Language.EN: "This information is missing.",
    },
    "hetu_invalid": {
        Language.FI: "Henkilötunnus ei ole oikein.",
        Language.SV: "Personbeteckningen är inte korrekt.",
        Language.EN: "The personal identity code is not valid.",
    },
    "identity_missing": {
        Language.FI: "Tunnistautuminen ei antanut henkilötunnusta eikä eIDAS-tunnistetta. Tunnistaudu uudelleen.",
        Language.SV: "Identifieringen gav varken personbeteckning eller eIDAS-identifierare. Identifiera dig på nytt.",
        Language.EN: "The identification gave neither a personal identity code nor an eIDAS identifier. Please log in again.",
    },
    "eidas_id_invalid": {
        Language.FI: "eIDAS-tunniste ei ole oikeassa muodossa. Tunnistaudu uudelleen.",
        Language.SV: "eIDAS-identifieraren har fel format. Identifiera dig på nytt.",
        Language.EN: "The eIDAS identifier is not in the right format. Please log in again.",
    },
    "date_of_birth_missing": {
        Language.FI: "Syntymäaika puuttuu.",
        Language.SV: "Födelsedatum saknas.",
        Language.EN: "The date of birth is missing.",
    },
    "date_of_birth_mismatch": {
        Language.FI: "Syntymäaika ei vastaa henkilötunnusta.",
        Language.SV: "Födelsedatumet stämmer inte med personbeteckningen.",
        Language.EN: "The date of birth does not match the personal identity code.",
    },
    "address_with_non_disclosure": {
        Language.FI: "Turvakiellon alaisen henkilön osoitetta ei käsitellä hakemuksessa.",
        Language.SV: "Adressen för en person med spärrmarkering behandlas inte i ansökan.",
        Language.EN: "The address of a person with a non-disclosure marking is not processed in the application.",
    },
    "first_names_missing": {
        Language.FI: "Etunimi puuttuu.",
        Language.SV: "Förnamn saknas.",
        Language.EN: "The first name is missing.",
    },
    "first_names_too_long": {
        Language.FI: "Etunimet ovat liian pitkät (enintään 100 merkkiä).",
        Language.SV: "Förnamnen är för långa (högst 100 tecken).",
        Language.EN: "The first names are too long (at most 100 characters).",
    },
    "first_names_invalid": {
        Language.FI: "Etunimessä on merkkejä, joita ei voi käyttää.",
        Language.SV: "Förnamnet innehåller tecken som inte kan användas.",
        Language.EN: "The first name contains characters that cannot be used.",
    },
    "surname_missing": {
        Language.FI: "Sukunimi puuttuu.",
        Language.SV: "Efternamn saknas.",
        Language.EN: "The surname is missing.",
    },
    "surname_too_long": {
        Language.FI: "Sukunimi on liian pitkä (enintään 100 merkkiä).",
        Language.SV: "Efternamnet är för långt (högst 100 tecken).",
        Language.EN: "The surname is too long (at most 100 characters).",
    },
    "surname_invalid": {
        Language.FI: "Sukunimessä on merkkejä, joita ei voi käyttää.",
        Language.SV: "Efternamnet innehåller tecken som inte kan användas.",
        Language.EN: "The surname contains characters that cannot be used.",
    },
    "home_municipality_missing": {
        Language.FI: "Kotikunta puuttuu.",
        Language.SV: "Hemkommun saknas.",
        Language.EN: "The home municipality is missing.",
    },
    "home_municipality_too_long": {
        Language.FI: "Kotikunnan nimi on liian pitkä.",
        Language.SV: "Hemkommunens namn är för långt.",
        Language.EN: "The home municipality's name is too long.",
    },
    "home_municipality_invalid": {
        Language.FI: "Kotikunnan nimessä on merkkejä, joita ei voi käyttää.",
        Language.SV: "Hemkommunens namn innehåller tecken som inte kan användas.",
        Language.EN: "The home municipality's name contains characters that cannot be used.",
    },
    "municipality_code_invalid": {
        Language.FI: "Kuntanumero on kolme numeroa.",
        Language.SV: "Kommunnumret består av tre siffror.",
        Language.EN: "A municipality number has three digits.",
    },
    "street_address_missing": {
        Language.FI: "Katuosoite puuttuu.",
        Language.SV: "Gatuadress saknas.",
        Language.EN: "The street address is missing.",
    },
    "street_address_too_long": {
        Language.FI: "Katuosoite on liian pitkä.",
        Language.SV: "Gatuadressen är för lång.",
        Language.EN: "The street address is too long.",
    },
    "street_address_invalid": {
        Language.FI: "Katuosoitteessa on merkkejä, joita ei voi käyttää.",
        Language.SV: "Gatuadressen innehåller tecken som inte kan användas.",
        Language.EN: "The street address contains characters that cannot be used.",
    },
    "postal_code_invalid": {
        Language.FI: "Postinumero on viisi numeroa.",
        Language.SV: "Postnumret består av fem siffror.",
        Language.EN: "A Finnish postal code has five digits.",
    },
    "post_office_missing": {
        Language.FI: "Postitoimipaikka puuttuu.",
        Language.SV: "Postanstalt saknas.",
        Language.EN: "The post office is missing.",
    },
    "post_office_too_long": {
        Language.FI: "Postitoimipaikka on liian pitkä.",
        Language.SV: "Postanstalten är för lång.",
        Language.EN: "The post office is too long.",
    },
    "post_office_invalid": {
        Language.FI: "Postitoimipaikassa on merkkejä, joita ei voi käyttää.",
        Language.SV: "Postanstalten innehåller tecken som inte kan användas.",
        Language.EN: "The post office contains characters that cannot be used.",
    },
    "guardian_hetu_missing": {
        Language.FI: "Huoltajan pitää tunnistautua suomalaisella henkilötunnuksella.",
        Language.SV: "Vårdnadshavaren ska identifiera sig med finsk personbeteckning.",
        Language.EN: "The guardian must identify with a Finnish personal identity code.",
    },
    "guardianship_time_missing": {
        Language.FI: "Huoltajuuden tarkistusaika puuttuu.",
        Language.SV: "Tidpunkten för kontrollen av vårdnaden saknas.",
        Language.EN: "The time the guardianship was checked is missing.",
    },
    "library_code_invalid": {
        Language.FI: "Valitse kotikirjasto listasta.",
        Language.SV: "Välj ett hembibliotek i listan.",
        Language.EN: "Choose a home library from the list.",
    },
    "email_invalid": {
        Language.FI: "Sähköpostiosoite ei ole oikeassa muodossa, esimerkiksi nimi@esimerkki.fi.",
        Language.SV: "E-postadressen har fel format, till exempel namn@exempel.fi.",
        Language.EN: "The e-mail address is not in the right format, for example name@example.fi.",
    },
    "email_missing_for_preference": {
        Language.FI: "Anna sähköpostiosoite, jos haluat tiedon sähköpostilla.",
        Language.SV: "Ange en e-postadress om du vill få beskedet per e-post.",
        Language.EN: "Give an e-mail address if you want to be told by e-mail.",
    },
    "phone_invalid": {
        Language.FI: "Puhelinnumerossa voi olla vain numeroita ja alussa +, esimerkiksi +358401234567.",
        Language.SV: "Telefonnumret får bara innehålla siffror och ett + i början, till exempel +358401234567.",
        Language.EN: "A phone number may hold only digits and a leading +, for example +358401234567.",
    },
    "rules_not_accepted": {
        Language.FI: "Kirjastokortin saa, kun hyväksyt kirjaston käyttösäännöt.",
        Language.SV: "Du får ett bibliotekskort när du godkänner bibliotekets regler.",
        Language.EN: "You get a library card when you accept the library rules.",
    },
    "timezone_aware": {
        Language.FI: "Lähetysaika puuttuu tai on väärässä muodossa.",
        Language.SV: "Sändningstiden saknas eller har fel format.",
        Language.EN: "The time of sending is missing or in the wrong format.",
    },
}

_FALLBACK = {
    Language.FI: "Tarkista tämä tieto.",
    Language.SV: "Kontrollera den här uppgiften.",
    Language.EN: "Please check this information.",
}


class FieldProblem(BaseModel):
    """One problem with an application, for the e-service to show next to the field."""

    field: str
    code: str
    message: str


def describe_errors(error: ValidationError, language: Language | str = Language.FI) -> list[FieldProblem]:
    """Citizen-readable problems of a failed :class:`LibraryCardApplication` validation.

    ``field`` is the dotted path (``applicant.permanent_address.postal_code``), ``code`` the
    stable error type; the input is never quoted.
    """
    language = Language(language)
    problems = []
    for item in error.errors(include_input=False, include_url=False):
        code = item["type"]
        field = ".".join(str(part) for part in item["loc"])
        problems.append(FieldProblem(field=field, code=code, message=ERROR_MESSAGES.get(code, _FALLBACK)[language]))
    return problems


# --------------------------------------------------------------------------- decisions


class ReasonCode(StrEnum):
    """Why an application ended as it did. Everything but CARD_GRANTED ends BUSINESS_FAILED."""

    CARD_GRANTED = "CARD_GRANTED"
    NON_DISCLOSURE_STAFF_REVIEW = "NON_DISCLOSURE_STAFF_REVIEW"
    ALREADY_A_PATRON = "ALREADY_A_PATRON"
    UNDER_15_NO_GUARDIAN = "UNDER_15_NO_GUARDIAN"
    GUARDIAN_NOT_ADULT = "GUARDIAN_NOT_ADULT"
    GUARDIANSHIP_NOT_VERIFIED = "GUARDIANSHIP_NOT_VERIFIED"
    NO_PERMANENT_ADDRESS_IN_FINLAND = "NO_PERMANENT_ADDRESS_IN_FINLAND"
    NO_FINNISH_HETU_STAFF_REVIEW = "NO_FINNISH_HETU_STAFF_REVIEW"
    UNKNOWN_HOME_LIBRARY = "UNKNOWN_HOME_LIBRARY"
    POSSIBLE_DUPLICATE_STAFF_REVIEW = "POSSIBLE_DUPLICATE_STAFF_REVIEW"

    @property
    def registers_patron(self) -> bool:
        """The applicant gets a patron record (a person with a non-disclosure marking too)."""
        return self in (ReasonCode.CARD_GRANTED, ReasonCode.NON_DISCLOSURE_STAFF_REVIEW)

    @property
    def is_business_failure(self) -> bool:
        return self is not ReasonCode.CARD_GRANTED

    @property
    def staff_review(self) -> bool:
        """A person at the library picks the case up (rather than the citizen acting)."""
        return self in _STAFF_REVIEW


_STAFF_REVIEW = frozenset(
    {
        ReasonCode.NON_DISCLOSURE_STAFF_REVIEW,
        ReasonCode.GUARDIANSHIP_NOT_VERIFIED,
        ReasonCode.NO_FINNISH_HETU_STAFF_REVIEW,
        ReasonCode.UNKNOWN_HOME_LIBRARY,
        ReasonCode.POSSIBLE_DUPLICATE_STAFF_REVIEW,
    }
)


def check_library_rules(application: LibraryCardApplication, *, today: date) -> ReasonCode:
    """The first library rule that stops or reroutes the application, or CARD_GRANTED.

    NON_DISCLOSURE_STAFF_REVIEW still registers the applicant (without an address). Whether the
    person already has a card, and whether the chosen library exists, need the library system
    and are checked by the robot after this.
    """
    applicant = application.applicant
    if applicant.hetu is None:
        return ReasonCode.NO_FINNISH_HETU_STAFF_REVIEW
    if applicant.age_on(today) < INDEPENDENT_AGE:
        guardian = application.guardian
        if guardian is None:
            return ReasonCode.UNDER_15_NO_GUARDIAN
        if guardian.age_on(today) < GUARDIAN_MIN_AGE:
            return ReasonCode.GUARDIAN_NOT_ADULT
        if guardian.relationship_verified_by is None:
            return ReasonCode.GUARDIANSHIP_NOT_VERIFIED
    if applicant.non_disclosure:
        return ReasonCode.NON_DISCLOSURE_STAFF_REVIEW
    if applicant.permanent_address is None:
        return ReasonCode.NO_PERMANENT_ADDRESS_IN_FINLAND
    return ReasonCode.CARD_GRANTED


def needs_guarantor(application: LibraryCardApplication, *, today: date) -> bool:
    """An under-15 card is linked to the guardian who applied (the guardian answers for the loans)."""
    return application.guardian is not None and application.applicant.age_on(today) < INDEPENDENT_AGE


# --------------------------------------------------------------------------- category and expiry


class PatronCategoryLike(Protocol):
    """What the rules need of a library-system patron category (Koha's ``PatronCategory`` fits)."""

    @property
    def patron_category_id(self) -> str: ...
    @property
    def category_type(self) -> str | None: ...
    @property
    def upper_age_limit(self) -> float | None: ...
    @property
    def enrolment_period(self) -> float | None: ...
    @property
    def enrolment_period_date(self) -> date | None: ...


class CategoryConfigurationError(LookupError):
    """The configured categories are missing from the library system or do not fit the age rules."""


def choose_category(
    categories: list[PatronCategoryLike] | tuple[PatronCategoryLike, ...],
    *,
    age: int,
    adult_category: str,
    child_category: str,
) -> PatronCategoryLike:
    """The configured child category while ``age`` is under its upper age limit, else the adult one.

    Raises:
        CategoryConfigurationError: a configured code is not in ``categories``, or the adult
            category's own upper age limit excludes ``age``.
    """
    by_code = {category.patron_category_id: category for category in categories}
    missing = [code for code in (adult_category, child_category) if code not in by_code]
    if missing:
        raise CategoryConfigurationError(f"the library system has no patron category {', '.join(missing)}")
    child = by_code[child_category]
    limit = child.upper_age_limit if child.upper_age_limit is not None else INDEPENDENT_AGE
    if age < limit:
        return child
    adult = by_code[adult_category]
    if adult.upper_age_limit is not None and age >= adult.upper_age_limit:
        raise CategoryConfigurationError(f"category {adult_category} has an upper age limit below {age}")
    return adult


def card_expiry(category: PatronCategoryLike, *, enrolled_on: date) -> date:
    """When a card enrolled on ``enrolled_on`` expires, as Koha works it out.

    Koha (``Koha::Patron::Category::get_expiry_date``): the category's fixed
    ``enrolment_period_date`` when it has one, else ``enrolment_period`` months from enrolment.

    Raises:
        CategoryConfigurationError: the category has neither.
    """
    if category.enrolment_period_date is not None:
        return category.enrolment_period_date
    if not category.enrolment_period:
        raise CategoryConfigurationError(f"category {category.patron_category_id} has no enrolment period")
    return enrolled_on + relativedelta(months=int(category.enrolment_period))


# --------------------------------------------------------------------------- what the robot decided


class ApplicationDecision(BaseModel):
    """The outcome of one application, without personal data: the work item's output."""

    model_config = ConfigDict(extra="forbid")

    reason: ReasonCode
    patron_id: int | None = None
    library_id: str | None = None
    category_id: str | None = None
    expiry_date: date | None = None
    existing_patron_id: int | None = None
    existing_library_id: str | None = None
    guarantor_patron_id: int | None = None
    channel: Channel | None = None
    message_id: str | None = None

    @property
    def work_item_state(self) -> str:
        return "BUSINESS_FAILED" if self.reason.is_business_failure else "DONE"


# --------------------------------------------------------------------------- the decision in plain language


class DecisionFacts(BaseModel):
    """What a decision text may mention."""

    library_name: str = Field(description="Name of the chosen home library.")
    existing_library_name: str | None = Field(default=None, description="Where an existing card is registered.")
    expiry_date: date | None = None
    child_first_name: str | None = Field(default=None, repr=False, description="Set when the guardian is the recipient.")


_Text = MessageTemplate

_PICK_UP = {
    Language.FI: (
        "Voit noutaa kortin kirjastosta {library} aikaisintaan huomenna. Ota mukaan kuvallinen henkilöllisyystodistus. Saat kirjastosta myös "
        "PIN-koodin, jota ei lähetetä postitse eikä sähköpostilla."
    ),
    Language.SV: (
        "Du kan hämta kortet på biblioteket {library} tidigast i morgon. Ta med ett identitetsbevis med foto. På biblioteket får du också en "
        "PIN-kod, som inte skickas per post eller e-post."
    ),
    Language.EN: (
        "You can collect the card at {library} tomorrow at the earliest. Bring a photo ID. The library also gives you a PIN code, which is never "
        "sent by post or e-mail."
    ),
}

_TEXTS: dict[ReasonCode, dict[Language, _Text]] = {
    ReasonCode.CARD_GRANTED: {
        Language.FI: _Text(
            "Kirjastokorttisi on valmis",
            ("Kirjastokorttihakemuksesi on hyväksytty. Kotikirjastosi on {library}, ja kortti on voimassa {expiry} asti.", _PICK_UP[Language.FI]),
        ),
        Language.SV: _Text(
            "Ditt bibliotekskort är klart",
            ("Din ansökan om bibliotekskort har godkänts. Ditt hembibliotek är {library} och kortet gäller till {expiry}.", _PICK_UP[Language.SV]),
        ),
        Language.EN: _Text(
            "Your library card is ready",
            ("Your library card application has been approved. Your home library is {library}, and the card is valid until {expiry}.", _PICK_UP[Language.EN]),
        ),
    },
    ReasonCode.NON_DISCLOSURE_STAFF_REVIEW: {
        Language.FI: _Text(
            "Kirjastokorttihakemuksesi on vastaanotettu",
            (
                "Sinulle on tehty asiakastiedot kirjastoon {library}. Koska sinulla on turvakielto, osoitettasi ei tallenneta kirjastojärjestelmään, "
                "ja kirjaston henkilökunta viimeistelee asiakastietosi.",
                _PICK_UP[Language.FI],
            ),
        ),
        Language.SV: _Text(
            "Din ansökan om bibliotekskort har tagits emot",
            (
                "Du har registrerats som kund vid biblioteket {library}. Eftersom du har spärrmarkering sparas din adress inte i bibliotekssystemet, "
                "och bibliotekets personal slutför dina kunduppgifter.",
                _PICK_UP[Language.SV],
            ),
        ),
        Language.EN: _Text(
            "Your library card application has been received",
            (
                "You have been registered as a customer of {library}. Because you have a non-disclosure marking, your address is not stored in the "
                "library system, and the library staff will complete your customer details.",
                _PICK_UP[Language.EN],
            ),
        ),
    },
    ReasonCode.ALREADY_A_PATRON: {
        Language.FI: _Text(
            "Sinulla on jo kirjastokortti",
            (
                "Sinulla on jo kirjastokortti. Se on rekisteröity kirjastoon {existing_library}.",
                "Jos kortti on kadonnut tai olet unohtanut PIN-koodin, käy missä tahansa kirjastossa ja ota mukaan kuvallinen "
                "henkilöllisyystodistus. Uutta korttia ei tarvitse hakea verkossa.",
            ),
        ),
        Language.SV: _Text(
            "Du har redan ett bibliotekskort",
            (
                "Du har redan ett bibliotekskort. Det är registrerat vid biblioteket {existing_library}.",
                "Om kortet har kommit bort eller om du har glömt PIN-koden kan du besöka vilket bibliotek som helst. Ta med ett identitetsbevis med "
                "foto. Du behöver inte ansöka om ett nytt kort på nätet.",
            ),
        ),
        Language.EN: _Text(
            "You already have a library card",
            (
                "You already have a library card. It is registered at {existing_library}.",
                "If the card is lost or you have forgotten the PIN code, visit any library and bring a photo ID. You do not need to apply for a new "
                "card online.",
            ),
        ),
    },
    ReasonCode.UNDER_15_NO_GUARDIAN: {
        Language.FI: _Text(
            "Alle 15-vuotias hakee kirjastokorttia huoltajan kanssa",
            (
                "Et saanut kirjastokorttia tällä hakemuksella, koska alle 15-vuotias tarvitsee kortin takaajaksi huoltajan.",
                "Pyydä huoltajaasi hakemaan korttia puolestasi: huoltaja tunnistautuu verkkoasiointiin omilla tunnuksillaan ja tekee hakemuksen "
                "sinulle. Voitte myös käydä yhdessä kirjastossa; ottakaa mukaan henkilöllisyystodistukset.",
            ),
        ),
        Language.SV: _Text(
            "Den som är under 15 år ansöker om bibliotekskort med sin vårdnadshavare",
            (
                "Du fick inget bibliotekskort med den här ansökan, eftersom den som är under 15 år behöver en vårdnadshavare som borgen för kortet.",
                "Be din vårdnadshavare ansöka om kortet för din räkning: vårdnadshavaren identifierar sig i e-tjänsten med sina egna koder och gör "
                "ansökan åt dig. Ni kan också besöka biblioteket tillsammans; ta med identitetsbevis.",
            ),
        ),
        Language.EN: _Text(
            "Under-15s apply for a library card with a guardian",
            (
                "You did not get a library card with this application, because a person under 15 needs a guardian as the guarantor of the card.",
                "Ask your guardian to apply for you: your guardian logs in to the e-service with their own credentials and makes the application for "
                "you. You can also visit the library together; bring your IDs.",
            ),
        ),
    },
    ReasonCode.GUARDIAN_NOT_ADULT: {
        Language.FI: _Text(
            "Kortin takaajan pitää olla täysi-ikäinen",
            (
                "Alle 15-vuotiaan kirjastokorttia ei voitu myöntää, koska kortin takaajan pitää olla täysi-ikäinen.",
                "Pyydä täysi-ikäistä huoltajaa tekemään hakemus verkossa, tai käykää yhdessä kirjastossa {library}.",
            ),
        ),
        Language.SV: _Text(
            "Borgen för kortet ska vara myndig",
            (
                "Bibliotekskort för den som är under 15 år kunde inte beviljas, eftersom borgen för kortet ska vara myndig.",
                "Be en myndig vårdnadshavare göra ansökan på nätet, eller besök biblioteket {library} tillsammans.",
            ),
        ),
        Language.EN: _Text(
            "The guarantor of the card must be an adult",
            (
                "A library card for a person under 15 could not be granted, because the guarantor of the card must be an adult.",
                "Ask an adult guardian to apply online, or visit {library} together.",
            ),
        ),
    },
    ReasonCode.GUARDIANSHIP_NOT_VERIFIED: {
        Language.FI: _Text(
            "Kirjasto tarkistaa hakemuksen",
            (
                "Kirjastokorttihakemus on vastaanotettu, mutta huoltajuutta ei voitu tarkistaa sähköisesti.",
                "Kirjaston henkilökunta käsittelee hakemuksen ja ottaa yhteyttä. Voitte myös käydä kirjastossa {library}; ottakaa mukaan "
                "henkilöllisyystodistukset.",
            ),
        ),
        Language.SV: _Text(
            "Biblioteket granskar ansökan",
            (
                "Ansökan om bibliotekskort har tagits emot, men vårdnaden kunde inte kontrolleras elektroniskt.",
                "Bibliotekets personal behandlar ansökan och tar kontakt. Ni kan också besöka biblioteket {library}; ta med identitetsbevis.",
            ),
        ),
        Language.EN: _Text(
            "The library will check the application",
            (
                "The library card application has been received, but the guardianship could not be checked electronically.",
                "The library staff will handle the application and get in touch. You can also visit {library}; bring your IDs.",
            ),
        ),
    },
    ReasonCode.NO_PERMANENT_ADDRESS_IN_FINLAND: {
        Language.FI: _Text(
            "Kirjastokortti edellyttää osoitetta Suomessa",
            (
                "Et saanut kirjastokorttia tällä hakemuksella, koska väestötietojärjestelmässä ei ole sinulle vakinaista osoitetta Suomessa. "
                "Kirjastokortin saa, kun sinulla on osoite Suomessa.",
                "Voit hakea korttia kirjastossa {library}. Ota mukaan kuvallinen henkilöllisyystodistus ja tieto osoitteestasi Suomessa.",
            ),
        ),
        Language.SV: _Text(
            "Bibliotekskort förutsätter en adress i Finland",
            (
                "Du fick inget bibliotekskort med den här ansökan, eftersom befolkningsdatasystemet inte har någon stadigvarande adress i Finland "
                "för dig. Du får ett bibliotekskort när du har en adress i Finland.",
                "Du kan ansöka om kortet på biblioteket {library}. Ta med ett identitetsbevis med foto och uppgift om din adress i Finland.",
            ),
        ),
        Language.EN: _Text(
            "A library card needs an address in Finland",
            (
                "You did not get a library card with this application, because the Population Information System has no permanent address in Finland "
                "for you. You can get a library card when you have an address in Finland.",
                "You can apply for the card at {library}. Bring a photo ID and details of your address in Finland.",
            ),
        ),
    },
    ReasonCode.NO_FINNISH_HETU_STAFF_REVIEW: {
        Language.FI: _Text(
            "Kirjasto käsittelee hakemuksesi",
            (
                "Kirjastokorttihakemuksesi on vastaanotettu. Koska sinulla ei ole suomalaista henkilötunnusta, kirjaston henkilökunta käsittelee hakemuksen.",
                "Käy kirjastossa {library} ja ota mukaan passi tai kuvallinen henkilökortti sekä tieto osoitteestasi Suomessa.",
            ),
        ),
        Language.SV: _Text(
            "Biblioteket behandlar din ansökan",
            (
                "Din ansökan om bibliotekskort har tagits emot. Eftersom du inte har en finsk personbeteckning behandlas ansökan av bibliotekets personal.",
                "Besök biblioteket {library} och ta med pass eller identitetskort med foto samt uppgift om din adress i Finland.",
            ),
        ),
        Language.EN: _Text(
            "The library will handle your application",
            (
                "Your library card application has been received. Because you do not have a Finnish personal identity code, the library staff will "
                "handle the application.",
                "Visit {library} and bring your passport or photo ID card and details of your address in Finland.",
            ),
        ),
    },
    ReasonCode.UNKNOWN_HOME_LIBRARY: {
        Language.FI: _Text(
            "Kirjasto käsittelee hakemuksen",
            (
                "Kirjastokorttihakemus on vastaanotettu, mutta valittua kotikirjastoa ei löytynyt kirjastojärjestelmästä.",
                "Kirjaston henkilökunta käsittelee hakemuksen ja ottaa tarvittaessa yhteyttä. Voit myös käydä missä tahansa kirjastossa; ota mukaan "
                "kuvallinen henkilöllisyystodistus.",
            ),
        ),
        Language.SV: _Text(
            "Biblioteket behandlar ansökan",
            (
                "Ansökan om bibliotekskort har tagits emot, men det valda hembiblioteket finns inte i bibliotekssystemet.",
                "Bibliotekets personal behandlar ansökan och tar kontakt vid behov. Du kan också besöka vilket bibliotek som helst; ta med ett "
                "identitetsbevis med foto.",
            ),
        ),
        Language.EN: _Text(
            "The library will handle the application",
            (
                "The library card application has been received, but the chosen home library was not found in the library system.",
                "The library staff will handle the application and get in touch if needed. You can also visit any library; bring a photo ID.",
            ),
        ),
    },
    ReasonCode.POSSIBLE_DUPLICATE_STAFF_REVIEW: {
        Language.FI: _Text(
            "Kirjasto tarkistaa hakemuksen",
            (
                "Kirjastokorttihakemus on vastaanotettu. Kirjastojärjestelmässä on jo asiakas samoilla tiedoilla, joten kirjaston henkilökunta "
                "tarkistaa asian ennen kortin tekemistä.",
                "Voit myös käydä kirjastossa {library}; ota mukaan kuvallinen henkilöllisyystodistus.",
            ),
        ),
        Language.SV: _Text(
            "Biblioteket kontrollerar ansökan",
            (
                "Ansökan om bibliotekskort har tagits emot. Bibliotekssystemet har redan en kund med samma uppgifter, så bibliotekets personal "
                "kontrollerar saken innan kortet görs.",
                "Du kan också besöka biblioteket {library}; ta med ett identitetsbevis med foto.",
            ),
        ),
        Language.EN: _Text(
            "The library will check the application",
            (
                "The library card application has been received. The library system already has a customer with the same details, so the library "
                "staff will check this before making the card.",
                "You can also visit {library}; bring a photo ID.",
            ),
        ),
    },
}

#: When a guardian applies, the decision speaks about the child.
_GUARDIAN_TEXTS: dict[ReasonCode, dict[Language, _Text]] = {
    ReasonCode.CARD_GRANTED: {
        Language.FI: _Text(
            "Lapsen kirjastokortti on valmis",
            (
                "Hakemus lapsen {child} kirjastokortista on hyväksytty. Kotikirjasto on {library}, ja kortti on voimassa {expiry} asti.",
                "Olet kortin takaaja: vastaat lapsen lainoista ja saat lapsen laina-asioiden ilmoitukset.",
                "Voitte noutaa kortin kirjastosta {library} aikaisintaan huomenna. Ottakaa mukaan henkilöllisyystodistukset. PIN-koodi annetaan kirjastossa.",
            ),
        ),
        Language.SV: _Text(
            "Barnets bibliotekskort är klart",
            (
                "Ansökan om bibliotekskort för barnet {child} har godkänts. Hembiblioteket är {library} och kortet gäller till {expiry}.",
                "Du är borgen för kortet: du ansvarar för barnets lån och får meddelandena om barnets lån.",
                "Ni kan hämta kortet på biblioteket {library} tidigast i morgon. Ta med identitetsbevis. PIN-koden ges på biblioteket.",
            ),
        ),
        Language.EN: _Text(
            "The child's library card is ready",
            (
                "The application for a library card for {child} has been approved. The home library is {library}, and the card is valid until {expiry}.",
                "You are the guarantor of the card: you are responsible for the child's loans and receive the notices about them.",
                "You can collect the card at {library} tomorrow at the earliest. Bring your IDs. The PIN code is given at the library.",
            ),
        ),
    },
    ReasonCode.GUARDIAN_NOT_ADULT: {
        Language.FI: _Text(
            "Kortin takaajan pitää olla täysi-ikäinen",
            (
                "Lapsen {child} kirjastokorttia ei voitu myöntää, koska alle 15-vuotiaan kortin takaajan pitää olla täysi-ikäinen.",
                "Pyydä täysi-ikäistä huoltajaa tekemään hakemus verkossa, tai käykää yhdessä kirjastossa {library}.",
            ),
        ),
        Language.SV: _Text(
            "Borgen för kortet ska vara myndig",
            (
                "Bibliotekskort för barnet {child} kunde inte beviljas, eftersom borgen för kortet för den som är under 15 år ska vara myndig.",
                "Be en myndig vårdnadshavare göra ansökan på nätet, eller besök biblioteket {library} tillsammans.",
            ),
        ),
        Language.EN: _Text(
            "The guarantor of the card must be an adult",
            (
                "A library card for {child} could not be granted, because the guarantor of an under-15's card must be an adult.",
                "Ask an adult guardian to apply online, or visit {library} together.",
            ),
        ),
    },
    ReasonCode.GUARDIANSHIP_NOT_VERIFIED: {
        Language.FI: _Text(
            "Kirjasto tarkistaa hakemuksen",
            (
                "Hakemus lapsen {child} kirjastokortista on vastaanotettu, mutta huoltajuutta ei voitu tarkistaa sähköisesti.",
                "Kirjaston henkilökunta käsittelee hakemuksen ja ottaa sinuun yhteyttä. Voit myös käydä lapsen kanssa kirjastossa {library}; ottakaa "
                "mukaan henkilöllisyystodistukset.",
            ),
        ),
        Language.SV: _Text(
            "Biblioteket granskar ansökan",
            (
                "Ansökan om bibliotekskort för barnet {child} har tagits emot, men vårdnaden kunde inte kontrolleras elektroniskt.",
                "Bibliotekets personal behandlar ansökan och kontaktar dig. Du kan också besöka biblioteket {library} tillsammans med barnet; ta med "
                "identitetsbevis.",
            ),
        ),
        Language.EN: _Text(
            "The library will check the application",
            (
                "The application for a library card for {child} has been received, but the guardianship could not be checked electronically.",
                "The library staff will handle the application and contact you. You can also visit {library} with the child; bring your IDs.",
            ),
        ),
    },
    ReasonCode.NON_DISCLOSURE_STAFF_REVIEW: {
        Language.FI: _Text(
            "Hakemus lapsen kirjastokortista on vastaanotettu",
            (
                "Lapselle {child} on tehty asiakastiedot kirjastoon {library}. Koska lapsella on turvakielto, osoitetta ei tallenneta "
                "kirjastojärjestelmään, ja kirjaston henkilökunta viimeistelee asiakastiedot. Olet kortin takaaja.",
                "Voitte noutaa kortin kirjastosta {library} aikaisintaan huomenna. Ottakaa mukaan henkilöllisyystodistukset. PIN-koodi annetaan kirjastossa.",
            ),
        ),
        Language.SV: _Text(
            "Ansökan om barnets bibliotekskort har tagits emot",
            (
                "Barnet {child} har registrerats som kund vid biblioteket {library}. Eftersom barnet har spärrmarkering sparas adressen inte i "
                "bibliotekssystemet, och bibliotekets personal slutför kunduppgifterna. Du är borgen för kortet.",
                "Ni kan hämta kortet på biblioteket {library} tidigast i morgon. Ta med identitetsbevis. PIN-koden ges på biblioteket.",
            ),
        ),
        Language.EN: _Text(
            "The application for the child's library card has been received",
            (
                "{child} has been registered as a customer of {library}. Because the child has a non-disclosure marking, the address is not stored "
                "in the library system, and the library staff will complete the customer details. You are the guarantor of the card.",
                "You can collect the card at {library} tomorrow at the earliest. Bring your IDs. The PIN code is given at the library.",
            ),
        ),
    },
    ReasonCode.NO_PERMANENT_ADDRESS_IN_FINLAND: {
        Language.FI: _Text(
            "Kirjastokortti edellyttää osoitetta Suomessa",
            (
                "Lapsi {child} ei saanut kirjastokorttia tällä hakemuksella, koska väestötietojärjestelmässä ei ole lapselle vakinaista osoitetta Suomessa.",
                "Voitte hakea korttia kirjastossa {library}. Ottakaa mukaan henkilöllisyystodistukset ja tieto lapsen osoitteesta Suomessa.",
            ),
        ),
        Language.SV: _Text(
            "Bibliotekskort förutsätter en adress i Finland",
            (
                "Barnet {child} fick inget bibliotekskort med den här ansökan, eftersom befolkningsdatasystemet inte har någon stadigvarande adress "
                "i Finland för barnet.",
                "Ni kan ansöka om kortet på biblioteket {library}. Ta med identitetsbevis och uppgift om barnets adress i Finland.",
            ),
        ),
        Language.EN: _Text(
            "A library card needs an address in Finland",
            (
                "{child} did not get a library card with this application, because the Population Information System has no permanent address in "
                "Finland for the child.",
                "You can apply for the card at {library}. Bring your IDs and details of the child's address in Finland.",
            ),
        ),
    },
    ReasonCode.ALREADY_A_PATRON: {
        Language.FI: _Text(
            "Lapsella on jo kirjastokortti",
            (
                "Lapsella {child} on jo kirjastokortti. Se on rekisteröity kirjastoon {existing_library}.",
                "Jos kortti on kadonnut, käykää kirjastossa ja ottakaa mukaan henkilöllisyystodistukset.",
            ),
        ),
        Language.SV: _Text(
            "Barnet har redan ett bibliotekskort",
            (
                "Barnet {child} har redan ett bibliotekskort. Det är registrerat vid biblioteket {existing_library}.",
                "Om kortet har kommit bort, besök biblioteket och ta med identitetsbevis.",
            ),
        ),
        Language.EN: _Text(
            "The child already has a library card",
            ("{child} already has a library card. It is registered at {existing_library}.", "If the card is lost, visit the library and bring your IDs."),
        ),
    },
}


def decision_text(reason: ReasonCode, language: Language | str, facts: DecisionFacts) -> MessageText:
    """The decision for ``reason`` in plain language: why, and what to do next.

    With ``facts.child_first_name`` set (a guardian applied) the text speaks about the child.
    """
    language = Language(language)
    texts = _GUARDIAN_TEXTS.get(reason) if facts.child_first_name else None
    text = (texts or _TEXTS[reason])[language]
    values = {
        "library": facts.library_name,
        "existing_library": facts.existing_library_name or facts.library_name,
        "expiry": format_date(facts.expiry_date, language) if facts.expiry_date else "",
        "child": facts.child_first_name or "",
    }
    return text.render(language, **values)


#: A decision is a message like any other (``schemas.messages``).
DecisionText = MessageText


def decided_on(moment: datetime) -> date:
    """The Helsinki calendar day of ``moment`` (decisions and ages go by Finnish dates)."""
    return moment.astimezone(HELSINKI).date()


__all__ = [
    "ERROR_MESSAGES",
    "GUARDIAN_MIN_AGE",
    "INDEPENDENT_AGE",
    "PROCESS",
    "ApplicationDecision",
    "CategoryConfigurationError",
    "Channel",
    "DecisionFacts",
    "DecisionText",
    "FieldProblem",
    "FinnishAddress",
    "Guardian",
    "GuardianshipVerification",
    "Language",
    "LibraryCardApplication",
    "NotificationPreference",
    "PatronCategoryLike",
    "ReasonCode",
    "VerifiedPerson",
    "card_expiry",
    "check_library_rules",
    "choose_category",
    "choose_channel",
    "decided_on",
    "decision_text",
    "describe_errors",
    "needs_guarantor",
]
