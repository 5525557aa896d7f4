"""A new employee: what HR types into the ``employment-start`` form, and the rules the robot applies.

Process ``employment_start`` (ARCHITECTURE.md; shared/reference/domain.md §4.2). The model is
flat on purpose: Prefect renders each field of a flat model as a real form control (text, date
picker, select, switch, list), which HR fills in the deployment's "Custom run" form. Malformed
input (a bad henkilötunnus, a date of birth that does not match it, an end date before the start,
a fixed-term job without an end date, a malformed licence number) is refused at the form.
Business rules that depend on the day or on other systems (a start date in the past, a supervisor
HR does not know, a licensed title without its registration number) are the robot's, so the case
reaches HR as BUSINESS_FAILED with a reason rather than vanishing.

Licensed and protected-title professions are those Valvira registers (Terhikki for health care,
Suosikki for social welfare): the employer must check the right to practise, so the 11-digit
registration number is required for them (domain.md §4.1, point 3).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, SecretStr, StringConstraints, field_validator, model_validator
from pydantic_core import PydanticCustomError

from schemas.hetu import Hetu, hetu_key

PROCESS = "employment_start"
#: The supervisor's confirmation waits as a child item of its own (see flows/employment_start.py).
CONFIRMATION_PROCESS = "employment_start_confirmation"

_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s.]+")
_PHONE = re.compile(r"\+?[0-9]{6,19}")
_REGISTRATION_NUMBER = re.compile(r"[0-9]{11}")

Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]


class EmploymentType(StrEnum):
    """Palvelussuhteen laji. A substitute (sijainen) is fixed-term in HR, with an end date."""

    PERMANENT = "vakinainen"
    FIXED_TERM = "määräaikainen"
    SUBSTITUTE = "sijainen"

    @property
    def hr_type(self) -> str:
        return "permanent" if self is EmploymentType.PERMANENT else "fixed_term"


class RegisterKind(StrEnum):
    LICENSED = "laillistettu ammattihenkilö"
    PROTECTED_TITLE = "nimikesuojattu ammattihenkilö"


@dataclass(frozen=True)
class Profession:
    """A profession in Valvira's registers, as a job title names it."""

    name: str
    kind: RegisterKind
    register: str  # Terhikki (health care) or Suosikki (social welfare)
    care_work: bool = True  # work clothes and a name badge


#: Title endings → registered profession; matched on the lower-cased title, longest ending first,
#: so "erikoislääkäri" is a physician and "apulaisosastonhoitaja" a nurse. A city edits this table.
PROFESSIONS: dict[str, Profession] = {
    "lääkäri": Profession("lääkäri", RegisterKind.LICENSED, "Terhikki"),
    "hammaslääkäri": Profession("hammaslääkäri", RegisterKind.LICENSED, "Terhikki"),
    "sairaanhoitaja": Profession("sairaanhoitaja", RegisterKind.LICENSED, "Terhikki"),
    "osastonhoitaja": Profession("sairaanhoitaja", RegisterKind.LICENSED, "Terhikki"),
    "vastaava hoitaja": Profession("sairaanhoitaja", RegisterKind.LICENSED, "Terhikki"),
    "terveydenhoitaja": Profession("terveydenhoitaja", RegisterKind.LICENSED, "Terhikki"),
    "kätilö": Profession("kätilö", RegisterKind.LICENSED, "Terhikki"),
    "ensihoitaja": Profession("ensihoitaja", RegisterKind.LICENSED, "Terhikki"),
    "fysioterapeutti": Profession("fysioterapeutti", RegisterKind.LICENSED, "Terhikki"),
    "toimintaterapeutti": Profession("toimintaterapeutti", RegisterKind.LICENSED, "Terhikki"),
    "puheterapeutti": Profession("puheterapeutti", RegisterKind.LICENSED, "Terhikki"),
    "psykologi": Profession("psykologi", RegisterKind.LICENSED, "Terhikki"),
    "farmaseutti": Profession("farmaseutti", RegisterKind.LICENSED, "Terhikki"),
    "proviisori": Profession("proviisori", RegisterKind.LICENSED, "Terhikki"),
    "suuhygienisti": Profession("suuhygienisti", RegisterKind.LICENSED, "Terhikki"),
    "röntgenhoitaja": Profession("röntgenhoitaja", RegisterKind.LICENSED, "Terhikki"),
    "bioanalyytikko": Profession("bioanalyytikko", RegisterKind.LICENSED, "Terhikki"),
    "lähihoitaja": Profession("lähihoitaja", RegisterKind.PROTECTED_TITLE, "Terhikki"),
    "hammashoitaja": Profession("hammashoitaja", RegisterKind.PROTECTED_TITLE, "Terhikki"),
    "sosiaalityöntekijä": Profession("sosiaalityöntekijä", RegisterKind.LICENSED, "Suosikki"),
    "sosiaaliohjaaja": Profession("sosiaaliohjaaja", RegisterKind.LICENSED, "Suosikki"),
}


def profession_for(title: str) -> Profession | None:
    """The registered profession a job title names, or None for an unregistered title."""
    text = " ".join(title.lower().split())
    for ending in sorted(PROFESSIONS, key=len, reverse=True):
        if text.endswith(ending):
            return PROFESSIONS[ending]
    return None


def _error(code: str, message: str) -> PydanticCustomError:
    return PydanticCustomError(code, message)


class NewEmployee(BaseModel):
    """Uuden työntekijän tiedot. Kentät ilman merkintää (Optional) ovat pakollisia; Valviran rekisteröintinumero tarvitaan terveys- ja sosiaalialan ammateissa."""  # noqa: E501 (the Prefect form shows this line as its help text)

    # The docstring is the form's help text in the Prefect UI, so it is Finnish, for HR. This model is
    # the payload of an ``employment_start`` work item too; field titles are Finnish for the same reason.

    model_config = ConfigDict(extra="forbid", hide_input_in_errors=True, title="Uusi työntekijä")

    first_names: Name = Field(title="Etunimet", repr=False)
    last_name: Name = Field(title="Sukunimi", repr=False)
    hetu: Hetu = Field(title="Henkilötunnus", repr=False, description="HR:n palvelussuhdetta varten; ei näy lokeissa.")
    date_of_birth: date = Field(title="Syntymäaika", repr=False)
    personal_email: str = Field(title="Henkilökohtainen sähköposti", repr=False, max_length=254)
    phone: str = Field(title="Puhelin", repr=False, max_length=25)
    start_date: date = Field(title="Aloituspäivä")
    end_date: date | None = Field(default=None, title="Päättymispäivä", description="Määräaikaiselle ja sijaiselle.")
    employment_type: EmploymentType = Field(default=EmploymentType.PERMANENT, title="Palvelussuhteen laji")
    title: Name = Field(title="Tehtävänimike", description="Esim. sairaanhoitaja, lähihoitaja, erikoislääkäri.")
    unit_id: str = Field(title="Yksikkö", min_length=1, max_length=40, description="HR:n yksikkötunnus, esim. SOTE-LAAKSO-OS7.")
    cost_centre: str = Field(default="", title="Kustannuspaikka", max_length=20, description="Tyhjä: yksikön oletus.")
    supervisor_id: int = Field(title="Esihenkilön henkilönumero", gt=0, description="Esihenkilön numero HR:ssä.")
    workplace_address: Name = Field(title="Työpaikan osoite", description="Minne ensimmäisenä päivänä tullaan.")
    licence_number: str = Field(
        default="",
        title="Rekisteröintinumero (Valvira)",
        max_length=20,
        description="Terhikki/Suosikki, 11 numeroa; pakollinen laillistetuille ja nimikesuojatuille ammateille.",
    )
    it_account: bool = Field(default=True, title="Käyttäjätunnus ja sähköposti")
    phone_needed: bool = Field(default=True, title="Työpuhelin")
    laptop_needed: bool = Field(default=False, title="Kannettava tietokone")
    access_card: bool = Field(default=True, title="Kulkukortti")
    # Not "keys": Prefect walks parameters with dict(model), which a field named keys breaks.
    keys_needed: list[Name] = Field(default=[], title="Avaimet", description="Nimetyt avaimet, esim. 'Osasto 7 lääkehuone'.")
    work_clothes: bool = Field(default=False, title="Työvaatteet", description="Hoitotyössä.")
    name_badge: bool = Field(default=False, title="Nimikyltti", description="Hoitotyössä.")

    @field_validator("personal_email")
    @classmethod
    def _email(cls, value: str) -> str:
        value = value.strip()
        if not _EMAIL.fullmatch(value) or not value.isascii():
            raise _error("email_invalid", "tämä ei näytä sähköpostiosoitteelta (vain a–z, 0–9 ja .-_+@)")
        local, _, domain = value.rpartition("@")
        return f"{local}@{domain.lower()}"

    @field_validator("phone")
    @classmethod
    def _phone(cls, value: str) -> str:
        compact = re.sub(r"[\s()-]", "", value)
        if not _PHONE.fullmatch(compact):
            raise _error("phone_invalid", "puhelinnumerossa on 6–19 numeroa ja valinnainen + alussa")
        return compact

    @field_validator("unit_id")
    @classmethod
    def _unit(cls, value: str) -> str:
        return value.strip().upper()

    @field_validator("cost_centre", "licence_number")
    @classmethod
    def _compact(cls, value: str) -> str:
        return "".join(value.split())

    @field_validator("licence_number")
    @classmethod
    def _licence(cls, value: str) -> str:
        if value and not _REGISTRATION_NUMBER.fullmatch(value):
            raise _error("licence_number_invalid", "Valviran rekisteröintinumero on 11 numeroa")
        return value

    @model_validator(mode="before")
    @classmethod
    def _blank_end_date(cls, data: Any) -> Any:
        if isinstance(data, dict) and data.get("end_date") == "":
            data = {**data, "end_date": None}
        return data

    @model_validator(mode="after")
    def _consistent(self) -> NewEmployee:
        if self.hetu.info().birth_date != self.date_of_birth:
            raise _error("date_of_birth_mismatch", "syntymäaika ei täsmää henkilötunnukseen")
        if self.employment_type is not EmploymentType.PERMANENT and self.end_date is None:
            raise _error("end_date_missing", "määräaikaiselle ja sijaiselle tarvitaan päättymispäivä")
        if self.end_date is not None and self.end_date < self.start_date:
            raise _error("end_before_start", "päättymispäivä on ennen aloituspäivää")
        return self

    def __repr__(self) -> str:
        return f"NewEmployee(title={self.title!r}, unit_id={self.unit_id!r}, start_date={self.start_date})"

    __str__ = __repr__

    @property
    def profession(self) -> Profession | None:
        return profession_for(self.title)

    @property
    def calling_name(self) -> str:
        return self.first_names.split()[0]

    @property
    def full_name(self) -> str:
        return f"{self.first_names} {self.last_name}"


def employment_start_reference(employee: NewEmployee, salt: SecretStr) -> str:
    """The work item's reference: the same person and start date give the same item.

    The person is the keyed hash of the hetu (never the hetu; letters only, so it never looks like
    one to the redaction filter), shortened to 128 bits.
    """
    return f"{PROCESS}:{hetu_key(employee.hetu, salt)[:32]}:{employee.start_date.isoformat()}"


class StartCheck(StrEnum):
    """Why the robot sends a start to HR instead of doing it (BUSINESS_FAILED codes)."""

    START_DATE_IN_PAST = "START_DATE_IN_PAST"
    UNKNOWN_SUPERVISOR = "UNKNOWN_SUPERVISOR"
    LICENCE_NUMBER_MISSING = "LICENCE_NUMBER_MISSING"
    INVALID_EMPLOYEE = "INVALID_EMPLOYEE"
    HIRE_DETAILS_MISSING = "HIRE_DETAILS_MISSING"


#: Keys a hire from the recruitment system carries beside NewEmployee's (schemas.recruitment.HiredCandidate).
HIRE_KEYS = ("source", "missing")
#: Finnish names of the fields HR adds to a hire, for its message.
HIRE_FIELD_NAMES = {"hetu": "henkilötunnus", "unit_id": "yksikkö", "supervisor_id": "esihenkilön henkilönumero"}


def hire_fields_missing(payload: dict[str, Any]) -> list[str]:
    """The NewEmployee fields a hire from the recruitment system still lacks (its ``missing`` list,
    less what HR has since added); empty for a start HR entered on the form."""
    listed = payload.get("missing") or []
    return [name for name in listed if payload.get(name) in (None, "")]


def employee_from_payload(payload: dict[str, Any]) -> NewEmployee:
    """The new employee of an ``employment_start`` work item: HR's form as it is, or a hire from the
    recruitment system once HR has completed it (its ``source`` and ``missing`` set aside).

    Raises:
        ValidationError: the data is not a valid NewEmployee.
    """
    return NewEmployee.model_validate({key: value for key, value in payload.items() if key not in HIRE_KEYS})


def check_start(employee: NewEmployee, *, today: date) -> tuple[StartCheck, str] | None:
    """The day- and title-dependent rules; None when the start may go ahead. Messages are for HR, in Finnish."""
    if employee.start_date < today:
        return StartCheck.START_DATE_IN_PAST, (f"Aloituspäivä {employee.start_date:%d.%m.%Y} on jo mennyt; korjaa päivä ja käynnistä uudelleen.")
    profession = employee.profession
    if profession is not None and not employee.licence_number:
        return StartCheck.LICENCE_NUMBER_MISSING, (
            f"Nimike '{employee.title}' on {profession.kind.value} ({profession.register}): "
            "Valviran rekisteröintinumero puuttuu, eikä ammattioikeutta voi tarkistaa."
        )
    return None
