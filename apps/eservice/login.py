"""The e-service's side of Suomi.fi: whom a login verified, and for which children a guardian may act.

The SAML work is ``connectors.suomifi_tunnistus.ServiceProvider`` (SAML 2.0 Web SSO, IdP metadata
shared/specs/suomifi/tunnistus). This module turns its :class:`SuomiFiIdentity` into the
``schemas.library_card.VerifiedPerson`` an application carries and keeps the SAML session for single logout.

A guardian's children come from **Suomi.fi Valtuudet** (HPA web API, reference/suomifi.md §3) through
:class:`ValtuudetGuardianship`: the e-service registers the logged-in guardian, the browser goes to
Valtuudet's page where the guardian picks the child, and on return the e-service exchanges the code,
reads whom the guardian chose and asks the rules engine; only an ``ALLOWED`` child under 15 becomes
a ward. Valtuudet tells a principal's henkilötunnus and name, not an address: the child's address and
home municipality are taken to be the guardian's (a child under 15 lives with the guardian who
applies, in the population register's data this project has), and a guardian's non-disclosure
marking covers the child too.
"""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from pydantic import SecretStr, ValidationError

from connectors.errors import AutomationError
from connectors.suomifi_tunnistus import AuthenticationError, SamlSession, ServiceProvider, SuomiFiIdentity, SuomiFiSettings
from connectors.suomifi_tunnistus.models import SamlSessionStore
from connectors.suomifi_valtuudet import Principal, Registration, ValtuudetClient
from schemas.hetu import Hetu, helsinki_today
from schemas.library_card import INDEPENDENT_AGE, FinnishAddress, GuardianshipVerification, Language, VerifiedPerson

logger = logging.getLogger("apps.eservice.login")


class LoginError(Exception):
    """A login or logout message was refused; ``code`` names why (no personal data)."""

    def __init__(self, message: str, code: str) -> None:
        super().__init__(message)
        self.code = code


class GuardianshipUnavailableError(RuntimeError):
    """Suomi.fi Valtuudet could not be asked, or refused the e-service's request (no personal data in the message)."""


@dataclass(frozen=True)
class WardCheck:
    """What Valtuudet said about the people the guardian chose: the wards, and how many it did not allow."""

    wards: tuple[VerifiedPerson, ...]
    verified_at: datetime
    disallowed: int = 0
    not_under_15: int = 0


def ward_person(principal: Principal, guardian: VerifiedPerson) -> VerifiedPerson:
    """A child Valtuudet allowed, as an applicant.

    Valtuudet gives the name as the population register writes it, surname first; the first word
    is taken as the surname. The address and home municipality are the guardian's (see the module).

    Raises:
        pydantic.ValidationError: the answer does not make a valid applicant.
        ValueError: the personId is not a henkilötunnus.
    """
    surname, _, first_names = " ".join(principal.name.split()).partition(" ")
    return VerifiedPerson(
        hetu=Hetu(principal.person_id),
        first_names=first_names or surname,
        surname=surname,
        home_municipality_code=guardian.home_municipality_code,
        home_municipality=guardian.home_municipality,
        permanent_address=guardian.permanent_address,
        non_disclosure=guardian.non_disclosure,
    )


class ValtuudetGuardianship:
    """The guardian's way through Suomi.fi Valtuudet, in two halves around the browser's visit there.

    Args:
        client: the HPA web API client (``KUNTAFLOW_VALTUUDET_*``).
    """

    def __init__(self, client: ValtuudetClient) -> None:
        self.client = client

    def origin(self) -> str:
        parts = urlsplit(self.client.settings.base_url)
        return f"{parts.scheme}://{parts.netloc}"

    def start(self, guardian: VerifiedPerson, *, redirect_uri: str, language: Language) -> tuple[dict[str, Any], str]:
        """(what to keep in the session until the browser returns, the URL to send the browser to).

        Raises:
            GuardianshipUnavailableError: the session could not be registered.
        """
        if guardian.hetu is None:
            raise GuardianshipUnavailableError("a person without a Finnish henkilötunnus cannot act for others in Suomi.fi Valtuudet")
        try:
            registration = self.client.register(guardian.hetu)
        except AutomationError as error:
            raise GuardianshipUnavailableError(f"Suomi.fi Valtuudet did not register the session ({error.code})") from None
        state = secrets.token_urlsafe(24)
        url = self.client.authorize_url(registration, redirect_uri=redirect_uri, state=state, language=language.value)
        return {"registration": registration.model_dump(by_alias=True), "state": state}, url

    def finish(self, pending: dict[str, Any], code: str, *, redirect_uri: str, guardian: VerifiedPerson) -> WardCheck:
        """Exchange the code, read whom the guardian chose, and keep the children Valtuudet allows.

        Raises:
            GuardianshipUnavailableError: the code, token or an answer was refused or unusable.
        """
        registration = Registration.model_validate(pending["registration"])
        try:
            token = self.client.exchange_code(code, redirect_uri=redirect_uri)
            return self._check(registration, token, guardian)
        except AutomationError as error:
            raise GuardianshipUnavailableError(f"Suomi.fi Valtuudet did not confirm the choice ({error.code})") from None
        finally:
            self._unregister(registration)

    def _check(self, registration: Registration, token: SecretStr, guardian: VerifiedPerson) -> WardCheck:
        wards: list[VerifiedPerson] = []
        disallowed = too_old = 0
        today = helsinki_today()
        for principal in self.client.principals(registration, token):
            try:
                ward = ward_person(principal, guardian)
            except ValueError:  # pydantic's ValidationError is one too
                logger.warning("A person chosen in Suomi.fi Valtuudet is not a valid applicant; left out.")
                continue
            if not self.client.authorization(registration, token, principal).allowed:
                disallowed += 1
            elif ward.age_on(today) >= INDEPENDENT_AGE:
                too_old += 1
            else:
                wards.append(ward)
        return WardCheck(tuple(wards), datetime.now(UTC), disallowed=disallowed, not_under_15=too_old)

    def _unregister(self, registration: Registration) -> None:
        try:
            self.client.unregister(registration)
        except AutomationError as error:
            logger.info("Suomi.fi Valtuudet session was not unregistered (%s); it expires on its own.", error.code)


@dataclass(frozen=True)
class LoginResult:
    """A verified login: the person, the children Suomi.fi Valtuudet allowed them to apply for (none at login), the SAML session."""

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


class SuomiFiLogin:
    """Login, the guardian's children and single logout for the e-service's pages.

    Args:
        service_provider: the SAML SP.
        guardianship: Suomi.fi Valtuudet for guardians; None turns applying for a child off.
    """

    def __init__(self, service_provider: ServiceProvider, guardianship: ValtuudetGuardianship | None = None) -> None:
        self.sp = service_provider
        self.guardianship = guardianship

    @classmethod
    def from_settings(cls, base_url: str, valtuudet: bool) -> SuomiFiLogin:
        """The SP for ``KUNTAFLOW_SUOMIFI_*`` at the e-service's base URL (the e-service's wins), and
        Suomi.fi Valtuudet from ``KUNTAFLOW_VALTUUDET_*`` when ``valtuudet``."""
        sp = ServiceProvider(SuomiFiSettings(base_url=base_url))
        return cls(sp, ValtuudetGuardianship(ValtuudetClient()) if valtuudet else None)

    def idp_origins(self) -> list[str]:
        """Origins of the IdP's endpoints (for the CSP: forms redirect there, SLO is framed there)."""
        parts = urlsplit(self.sp.idp_entity_id)
        return [f"{parts.scheme}://{parts.netloc}"]

    def form_targets(self) -> list[str]:
        """Origins a form's redirect may lead to: the IdP, and Suomi.fi Valtuudet's page."""
        origins = self.idp_origins()
        if self.guardianship is not None and self.guardianship.origin() not in origins:
            origins.append(self.guardianship.origin())
        return origins

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
        return LoginResult(person=person, wards=(), wards_verified_by=None, wards_verified_at=None, saml_session=identity.session)

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
