"""The e-service's side of Suomi.fi e-Identification: whom a login verified, and whose guardian they are.

The SAML work is ``connectors.suomifi_tunnistus.ServiceProvider`` (SAML 2.0 Web SSO, IdP metadata
shared/specs/suomifi/tunnistus). This module turns its :class:`SuomiFiIdentity` into the
``schemas.library_card.VerifiedPerson`` an application carries, asks who the guardian's children
under 15 are, and keeps the SAML session for single logout.

Children come from a :class:`GuardianshipLookup`: the population register's "Huoltaja-Huollettavat"
answer, which the sandbox IdP serves as ``POST /guardianship/children`` (body: the guardian's hetu,
never in a URL). The answer is what lets the e-service record the guardianship as verified (VTJ).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol
from urllib.parse import urlsplit

import httpx
from pydantic import TypeAdapter, ValidationError

from connectors.suomifi_tunnistus import AuthenticationError, SamlSession, ServiceProvider, SuomiFiIdentity, SuomiFiSettings
from connectors.suomifi_tunnistus.models import Child, SamlSessionStore
from schemas.hetu import Hetu, helsinki_today
from schemas.library_card import INDEPENDENT_AGE, FinnishAddress, GuardianshipVerification, Language, VerifiedPerson

logger = logging.getLogger("apps.eservice.login")


class LoginError(Exception):
    """A login or logout message was refused; ``code`` names why (no personal data)."""

    def __init__(self, message: str, code: str) -> None:
        super().__init__(message)
        self.code = code


class GuardianshipLookup(Protocol):
    """Whose guardian the logged-in person is, per the population register."""

    def children_of(self, guardian: Hetu) -> list[Child]: ...


class GuardianshipUnavailableError(RuntimeError):
    """The guardianship register could not be asked."""


class HttpGuardianship:
    """The register's answer over HTTP (the sandbox IdP's ``POST /guardianship/children``).

    Args:
        url: the endpoint; the hetu goes in the JSON body.
        transport: an httpx transport (tests mount the sandbox in-process).
    """

    _CHILDREN = TypeAdapter(list[Child])

    def __init__(self, url: str, *, transport: httpx.BaseTransport | None = None, timeout: float = 10.0) -> None:
        self.url = url
        self._client = httpx.Client(transport=transport, timeout=timeout)

    def children_of(self, guardian: Hetu) -> list[Child]:
        """Raises: GuardianshipUnavailableError: no answer, an error status or a malformed answer."""
        try:
            response = self._client.post(self.url, json={"guardian_hetu": guardian.value})
            response.raise_for_status()
            return self._CHILDREN.validate_python(response.json())
        except (httpx.HTTPError, ValueError, ValidationError) as error:
            raise GuardianshipUnavailableError(f"the guardianship register did not answer usably ({type(error).__name__})") from None


@dataclass(frozen=True)
class LoginResult:
    """A verified login: the person, the children they may apply for, the SAML session."""

    person: VerifiedPerson
    wards: tuple[VerifiedPerson, ...]
    wards_verified_by: GuardianshipVerification | None
    wards_verified_at: datetime | None
    saml_session: SamlSession

    @property
    def logout_subject(self) -> str:
        """What an IdP-initiated logout names this login by (the transient NameID)."""
        return self.saml_session.name_id

    def to_session(self) -> dict[str, Any]:
        """JSON for the server-side session store (sealed there; it holds the hetu)."""
        return {
            "person": self.person.model_dump(mode="json"),
            "wards": [ward.model_dump(mode="json") for ward in self.wards],
            "wards_verified_by": self.wards_verified_by.value if self.wards_verified_by else None,
            "wards_verified_at": self.wards_verified_at.isoformat() if self.wards_verified_at else None,
            "saml_session": self.saml_session.model_dump(mode="json"),
        }

    @classmethod
    def from_session(cls, data: dict[str, Any]) -> LoginResult:
        verified_at = data.get("wards_verified_at")
        return cls(
            person=VerifiedPerson.model_validate(data["person"]),
            wards=tuple(VerifiedPerson.model_validate(ward) for ward in data.get("wards", [])),
            wards_verified_by=GuardianshipVerification(data["wards_verified_by"]) if data.get("wards_verified_by") else None,
            wards_verified_at=datetime.fromisoformat(verified_at) if verified_at else None,
            saml_session=SamlSession.model_validate(data["saml_session"]),
        )


@dataclass(frozen=True)
class SloOutcome:
    """Where the browser (or the IdP's iframe) goes after a single-logout message."""

    redirect_url: str | None
    sessions_ended: int = 0


def verified_person(identity: SuomiFiIdentity) -> VerifiedPerson:
    """The application's view of a Suomi.fi identity.

    A domestic address missing its street, postal code or post office counts as no address (the
    robot then routes the case by the rules); a person with a non-disclosure marking has none.

    Raises:
        pydantic.ValidationError: the identity does not make a valid applicant.
    """
    address = identity.permanent_address
    finnish = None
    if address is not None and address.street and address.postal_code and address.post_office and not identity.non_disclosure:
        finnish = FinnishAddress(street_address=address.street, postal_code=address.postal_code, post_office=address.post_office)
    municipality = identity.home_municipality
    return VerifiedPerson(
        hetu=identity.hetu,
        eidas_person_identifier=identity.eidas_person_identifier,
        date_of_birth=identity.date_of_birth if identity.hetu is None else None,
        first_names=identity.first_names,
        surname=identity.surname,
        home_municipality_code=municipality.number if municipality else None,
        home_municipality=(municipality.name_fi or municipality.name_sv) if municipality else None,
        permanent_address=finnish,
        non_disclosure=identity.non_disclosure,
    )


def ward_person(child: Child) -> VerifiedPerson:
    """A child from the guardianship register as an applicant.

    The register's answer carries the child's home municipality and permanent address (the same
    as the guardian's in practice), so a guardian's application can pass the address rule; a child
    with a non-disclosure marking has neither, as Suomi.fi would send for an adult.

    Raises:
        pydantic.ValidationError: the register's data does not make a valid applicant.
    """
    address = child.permanent_address
    return VerifiedPerson(
        hetu=child.hetu,
        first_names=child.first_names,
        surname=child.surname,
        home_municipality_code=child.home_municipality_number,
        home_municipality=child.home_municipality,
        permanent_address=FinnishAddress(street_address=address.street_address, postal_code=address.postal_code, post_office=address.post_office)
        if address is not None and not child.non_disclosure
        else None,
        non_disclosure=child.non_disclosure,
    )


class SuomiFiLogin:
    """Login, the guardian's children and single logout for the e-service's pages.

    Args:
        service_provider: the SAML SP.
        guardianship: who the person is guardian of; None turns applying for a child off.
    """

    def __init__(self, service_provider: ServiceProvider, guardianship: GuardianshipLookup | None = None) -> None:
        self.sp = service_provider
        self.guardianship = guardianship

    @classmethod
    def from_settings(cls, base_url: str, guardianship_url: str | None) -> SuomiFiLogin:
        """The SP for ``KUNTAFLOW_SUOMIFI_*`` at the e-service's base URL (the e-service's wins)."""
        sp = ServiceProvider(SuomiFiSettings(base_url=base_url))
        return cls(sp, HttpGuardianship(guardianship_url) if guardianship_url else None)

    def idp_origins(self) -> list[str]:
        """Origins of the IdP's endpoints (for the CSP: forms redirect there, SLO is framed there)."""
        parts = urlsplit(self.sp.idp_entity_id)
        return [f"{parts.scheme}://{parts.netloc}"]

    def metadata(self) -> str:
        return self.sp.metadata_xml()

    def start(self, *, relay_state: str, language: Language) -> tuple[str, str]:
        """(AuthnRequest id, redirect URL): keep the id server-side under ``relay_state``."""
        redirect = self.sp.login_request(relay_state, locale=language.value)
        return redirect.request_id, redirect.url

    def finish(self, saml_response: str, *, expected_request_id: str) -> LoginResult:
        """Check the IdP's answer and look up the children the person may apply for.

        Raises:
            LoginError: the response was refused (code from the SP), or the identity does not
                make a valid applicant (``IDENTITY_INVALID``).
        """
        try:
            identity = self.sp.process_response(saml_response, expected_request_id)
        except AuthenticationError as error:
            raise LoginError(str(error), error.code) from None
        try:
            person = verified_person(identity)
        except ValidationError as error:
            fields = ", ".join(sorted({str(problem["type"]) for problem in error.errors(include_url=False)}))
            raise LoginError(f"the identity does not make a valid applicant ({fields})", "IDENTITY_INVALID") from None
        wards, verified_by, verified_at = self._wards(person)
        return LoginResult(person=person, wards=wards, wards_verified_by=verified_by, wards_verified_at=verified_at, saml_session=identity.session)

    def _wards(self, person: VerifiedPerson) -> tuple[tuple[VerifiedPerson, ...], GuardianshipVerification | None, datetime | None]:
        """Children under 15 in the person's care; none (and the login still works) if the register is away."""
        if self.guardianship is None or person.hetu is None:
            return (), None, None
        try:
            children = self.guardianship.children_of(person.hetu)
        except GuardianshipUnavailableError as error:
            logger.warning("Guardianship lookup failed, applying for a child is not offered: %s", error)
            return (), None, None
        today = helsinki_today()
        wards = []
        for child in children:
            try:
                ward = ward_person(child)
            except ValidationError:
                logger.warning("A child in the guardianship answer is not a valid applicant; left out.")
                continue
            if ward.age_on(today) < INDEPENDENT_AGE:
                wards.append(ward)
        return tuple(wards), GuardianshipVerification.VTJ, datetime.now(UTC)

    def logout(self, result: LoginResult, *, relay_state: str = "") -> tuple[str, str]:
        """(LogoutRequest id, redirect URL to the IdP's SLO); call after the local session is gone."""
        redirect = self.sp.logout_request(result.saml_session, relay_state=relay_state)
        return redirect.request_id, redirect.url

    def handle_logout(self, query: str, *, expected_request_id: str | None, sessions: SamlSessionStore) -> SloOutcome:
        """A message on the SLO endpoint (raw query string): the IdP's answer to our logout, or
        the IdP's own LogoutRequest, whose sessions end here and which is answered signed.

        Raises:
            LoginError: the message was refused.
        """
        try:
            if "SAMLResponse=" in query:
                outcome = self.sp.process_logout_response(query, expected_request_id)
                if not outcome.success:
                    logger.info("Suomi.fi reported single logout as %s.", outcome.status)
                return SloOutcome(redirect_url=None)
            result = self.sp.handle_logout_request(query, sessions)
        except AuthenticationError as error:
            raise LoginError(str(error), error.code) from None
        return SloOutcome(redirect_url=result.url, sessions_ended=result.sessions_ended)
