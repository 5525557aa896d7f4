"""What the Suomi.fi SP hands the e-service: the verified identity, the SAML session, redirects.

Attribute meanings: shared/reference/suomifi.md §1.4. Personal fields are left out of every
``repr`` (the hetu is a :class:`schemas.Hetu`, whose repr is masked anyway), so a model that ends
up in a log line or a traceback shows no personal data.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Protocol

from pydantic import BaseModel, ConfigDict, Field, model_validator

from schemas import Hetu


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", hide_input_in_errors=True)


class SamlSession(_Model):
    """What single logout needs: the assertion's NameID with its qualifiers and the SessionIndex.

    The NameID is transient (a new one per login), so it identifies this login session, not the
    person; the e-service keys people on the hetu (or the eIDAS identifier) instead.
    """

    idp_entity_id: str
    name_id: str = Field(repr=False)
    name_id_format: str | None = None
    name_qualifier: str | None = None
    sp_name_qualifier: str | None = None
    session_index: str | None = Field(default=None, repr=False)
    authenticated_at: datetime | None = None


class HomeMunicipality(_Model):
    """KotikuntaKuntanumero with the municipality's Finnish and Swedish names."""

    number: str = Field(repr=False, description="Statistics Finland code, three digits, e.g. '179'.")
    name_fi: str | None = Field(default=None, repr=False)
    name_sv: str | None = Field(default=None, repr=False)


class DomesticAddress(_Model):
    """Vakinainen kotimainen lähiosoite: the permanent address in Finland, in Finnish and Swedish."""

    street_fi: str | None = Field(default=None, repr=False)
    street_sv: str | None = Field(default=None, repr=False)
    postal_code: str | None = Field(default=None, repr=False)
    post_office_fi: str | None = Field(default=None, repr=False)
    post_office_sv: str | None = Field(default=None, repr=False)

    @property
    def street(self) -> str | None:
        """The Finnish form, else the Swedish one (Swedish-only street names exist)."""
        return self.street_fi or self.street_sv

    @property
    def post_office(self) -> str | None:
        return self.post_office_fi or self.post_office_sv


class ForeignAddress(_Model):
    """Vakinainen ulkomainen lähiosoite: a permanent address abroad."""

    street: str | None = Field(default=None, repr=False)
    locality_and_country_fi: str | None = Field(default=None, repr=False)
    locality_and_country_sv: str | None = Field(default=None, repr=False)
    locality_and_country_plain: str | None = Field(default=None, repr=False)
    country_code: str | None = Field(default=None, repr=False, description="ISO 3166 code.")


class SuomiFiIdentity(_Model):
    """A person as Suomi.fi e-Identification verified them.

    A Finnish user has ``hetu`` (and, with the medium data scope, the home municipality and the
    addresses from the Population Information System). An eIDAS user from another EU country has
    no hetu and no VTJ data: ``eidas_person_identifier``, ``surname`` (FamilyName),
    ``first_names`` and ``date_of_birth`` instead. With a non-disclosure marking
    (``non_disclosure``) Suomi.fi sends no address at all, and none is set here.
    """

    hetu: Hetu | None = Field(default=None, description="nationalIdentificationNumber; None for an eIDAS user.")
    eidas_person_identifier: str | None = Field(default=None, repr=False, description="eIDAS PersonIdentifier, e.g. 'SE/FI/199005151234'.")
    date_of_birth: date | None = Field(default=None, repr=False, description="eIDAS DateOfBirth (Finnish users: see the hetu).")
    first_names: str = Field(min_length=1, repr=False, description="All first names (FirstName / CurrentGivenName).")
    given_name: str | None = Field(default=None, repr=False, description="Calling name (givenName).")
    surname: str = Field(min_length=1, repr=False, description="sn, or FamilyName for an eIDAS user.")
    display_name: str | None = Field(default=None, repr=False, description="Calling name and surname (displayName).")
    home_municipality: HomeMunicipality | None = Field(default=None, repr=False)
    permanent_address: DomesticAddress | None = Field(default=None, repr=False)
    foreign_address: ForeignAddress | None = Field(default=None, repr=False)
    non_disclosure: bool = Field(default=False, description="TurvakieltoTieto = 1: no address is sent or may be shown.")
    email: str | None = Field(default=None, repr=False, description="mail, when the person has given one to Suomi.fi.")
    loa: str = Field(description="AuthnContextClassRef of the assertion, e.g. http://ftn.ficora.fi/2017/loa3.")
    session: SamlSession = Field(description="For single logout.")

    @model_validator(mode="after")
    def _someone(self) -> SuomiFiIdentity:
        if self.hetu is None and not (self.eidas_person_identifier and self.date_of_birth):
            raise ValueError("an identity has a hetu, or an eIDAS PersonIdentifier with DateOfBirth")
        return self

    @property
    def is_eidas(self) -> bool:
        return self.hetu is None

    @property
    def birth_date(self) -> date | None:
        """From the hetu, else the eIDAS DateOfBirth."""
        return self.hetu.info().birth_date if self.hetu is not None else self.date_of_birth


class LoginRedirect(_Model):
    """A signed AuthnRequest as the browser's redirect to Suomi.fi.

    Keep ``request_id`` server-side (keyed by ``relay_state``): the ACS accepts only a response
    to it, once.
    """

    request_id: str
    relay_state: str = Field(repr=False)
    url: str = Field(repr=False)


class LogoutRedirect(_Model):
    """A signed LogoutRequest as a redirect; keep ``request_id`` to check the IdP's answer."""

    request_id: str
    url: str = Field(repr=False)


class LogoutOutcome(_Model):
    """The IdP's LogoutResponse: whether single logout succeeded everywhere."""

    in_response_to: str | None
    success: bool
    status: str


class LogoutTarget(_Model):
    """Who an IdP-initiated LogoutRequest logs out: the NameID of the login and its SessionIndexes."""

    idp_entity_id: str
    name_id: str = Field(repr=False)
    name_qualifier: str | None = None
    sp_name_qualifier: str | None = None
    session_indexes: tuple[str, ...] = Field(default=(), repr=False)


class IdpLogoutResult(_Model):
    """The signed LogoutResponse to redirect the IdP's iframe to, and how many sessions ended."""

    url: str = Field(repr=False)
    sessions_ended: int
    request_id: str


class SamlSessionStore(Protocol):
    """The e-service's server-side sessions, as IdP-initiated logout needs them.

    The logout arrives in an iframe on the Suomi.fi logout page, with no cookies, so the session
    is found by the NameID (and SessionIndex) the login's :class:`SamlSession` recorded.
    """

    def end_sessions(self, target: LogoutTarget) -> int:
        """End every local session of ``target``; return how many there were."""
        ...


class ChildAddress(BaseModel):
    """The child's permanent address in Finland (VakinainenKotimainenLahiosoite), the guardian's too."""

    model_config = ConfigDict(frozen=True)

    street_address: str
    postal_code: str
    post_office: str


class Child(BaseModel):
    """A child in a guardian's care, as the e-service needs it to apply on the child's behalf.

    The register's answer carries the child's home municipality and permanent address (none for
    a child with a non-disclosure marking), so a guardian's application passes the address rule.
    """

    model_config = ConfigDict(frozen=True)

    key: str
    hetu: str
    first_names: str
    surname: str
    birth_date: date
    age: int
    home_municipality_number: str | None
    home_municipality: str | None = None
    permanent_address: ChildAddress | None = None
    non_disclosure: bool = False
