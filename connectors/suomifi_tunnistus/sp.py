"""Suomi.fi e-Identification (SAML 2.0 Web SSO) service provider for the e-service.

Profile (shared/reference/suomifi.md §1, IdP metadata shared/specs/suomifi/tunnistus/*.xml):
a signed AuthnRequest over HTTP-Redirect (RSA-SHA256) asking for LoA 3/2 exactly, with
``locale`` as the last query parameter; the answer over HTTP-POST to the ACS as a signed
Response around a signed, encrypted (AES-GCM) assertion; single logout both ways over
HTTP-Redirect, signed. pysaml2 7.5 does the XML security with xmlsec1; what it leaves to the
application (feasibility-saml.md §5) is done here: encryption is required (pitfall 8), an
unverified result is refused (pitfall 6), the LoA is checked (pitfall 9), assertions are used
once (pitfall 7), and the signing algorithm sits in the ``sp`` service config (pitfall 1).

Nothing personal is logged or put in an error: a refused message raises
:class:`AuthenticationError` with a code naming the failed check.
"""

from __future__ import annotations

import base64
import binascii
import logging
import zlib
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlencode

from defusedxml import ElementTree as SafeET
from pydantic import ValidationError
from saml2 import BINDING_HTTP_POST, BINDING_HTTP_REDIRECT
from saml2.client import Saml2Client
from saml2.config import SPConfig
from saml2.response import StatusError, UnsolicitedResponse, VerificationError
from saml2.saml import NAMEID_FORMAT_TRANSIENT, NameID
from saml2.samlp import STATUS_SUCCESS
from saml2.sigver import DecryptError, MissingKey, SignatureError, SigverError
from saml2.time_util import str_to_time
from saml2.validate import ResponseLifetimeExceed, ToEarly
from saml2.xmldsig import DIGEST_SHA256, SIG_RSA_SHA256

from connectors.suomifi_tunnistus import logguard
from connectors.suomifi_tunnistus.errors import AuthenticationError, SamlConfigurationError
from connectors.suomifi_tunnistus.metadata import build_sp_metadata, sandbox_idp_metadata
from connectors.suomifi_tunnistus.models import (
    DomesticAddress,
    ForeignAddress,
    HomeMunicipality,
    IdpLogoutResult,
    LoginRedirect,
    LogoutOutcome,
    LogoutRedirect,
    LogoutTarget,
    SamlSession,
    SamlSessionStore,
    SuomiFiIdentity,
)
from connectors.suomifi_tunnistus.redirect import parse_redirect_query, redirect_location, verify_redirect_signature
from connectors.suomifi_tunnistus.replay import ReplayCache, SqlReplayCache
from connectors.suomifi_tunnistus.settings import SANDBOX, SuomiFiSettings
from connectors.suomifi_tunnistus.xmlsec import remember_xmlsec_version

logger = logging.getLogger("connectors.suomifi_tunnistus")

ATTRIBUTE_MAP_DIR = str(Path(__file__).resolve().parent / "attributemaps")
PROTOCOL = "urn:oasis:names:tc:SAML:2.0:protocol"
ASSERTION = "urn:oasis:names:tc:SAML:2.0:assertion"
#: An encrypted, signed Response is some tens of KB; anything much larger is not from Suomi.fi.
MAX_MESSAGE_BYTES = 256 * 1024
Locale = Literal["fi", "sv", "en"]


class ServiceProvider:
    """The e-service's side of Suomi.fi e-Identification.

    Args:
        settings: ``KUNTAFLOW_SUOMIFI_*`` settings (read from the environment when None).
        replay_cache: where accepted assertion IDs are kept; a table in the data directory's
            SQLite file (or ``replay_database_url``) when None.
        idp_metadata_xml: the IdP's metadata as text, instead of ``settings.idp_metadata``.

    Raises:
        SamlConfigurationError: no xmlsec1, unreadable IdP metadata, or not exactly one IdP in it.
    """

    def __init__(self, settings: SuomiFiSettings | None = None, *, replay_cache: ReplayCache | None = None, idp_metadata_xml: str | None = None) -> None:
        self.settings = settings or SuomiFiSettings()
        logguard.install()
        try:
            pair = self.settings.key_pair()
            xmlsec = self.settings.resolved_xmlsec_binary()
        except ValueError as error:
            raise SamlConfigurationError(str(error)) from None
        self._certificate = pair.certificate_base64()
        self._metadata_xml = build_sp_metadata(self.settings, self._certificate)
        idp_xml = idp_metadata_xml if idp_metadata_xml is not None else self._read_idp_metadata()
        config = SPConfig()
        try:
            config.load(self._pysaml2_config(str(pair.key_file), str(pair.cert_file), xmlsec, idp_xml))
        except Exception as error:  # pysaml2 raises bare exceptions for unreadable metadata
            raise SamlConfigurationError(f"the IdP metadata could not be loaded ({type(error).__name__})") from None
        self._client = remember_xmlsec_version(Saml2Client(config=config))
        # pysaml2 reads the decrypted assertion with ElementTree, which drops comments; see _comment_free.
        self._client.sec.decrypt_keys = _comment_free(self._client.sec.decrypt_keys)
        idps = list(self._client.metadata.identity_providers())
        if len(idps) != 1:
            raise SamlConfigurationError(f"the IdP metadata must describe exactly one IdP, it describes {len(idps)}")
        self.idp_entity_id: str = idps[0]
        self._idp_signing_certs = [cert for _, cert in self._client.metadata.certs(self.idp_entity_id, "idpsso", "signing")]
        if not self._idp_signing_certs:
            raise SamlConfigurationError("the IdP metadata has no signing certificate")
        self._replay = replay_cache if replay_cache is not None else SqlReplayCache(self.settings.resolved_replay_database_url())

    def _read_idp_metadata(self) -> str:
        if self.settings.idp_metadata == SANDBOX:
            return sandbox_idp_metadata(self.settings.sandbox_idp_url)
        path = Path(self.settings.idp_metadata).expanduser()
        try:
            return path.read_text(encoding="utf-8")
        except OSError as error:
            raise SamlConfigurationError(f"cannot read the IdP metadata {path}: {error.strerror}") from None

    def _pysaml2_config(self, key_file: str, cert_file: str, xmlsec: str, idp_xml: str) -> dict[str, Any]:
        s = self.settings
        return {
            "entityid": s.sp_entity_id,
            "xmlsec_binary": xmlsec,
            "key_file": key_file,
            "cert_file": cert_file,
            "encryption_keypairs": [{"key_file": key_file, "cert_file": cert_file}],
            "metadata": {"inline": [idp_xml]},
            "attribute_map_dir": ATTRIBUTE_MAP_DIR,
            "accepted_time_diff": s.accepted_time_diff_seconds,
            "allow_unknown_attributes": False,
            "service": {
                "sp": {
                    "endpoints": {
                        "assertion_consumer_service": [(s.acs_url, BINDING_HTTP_POST)],
                        "single_logout_service": [(s.slo_url, BINDING_HTTP_REDIRECT)],
                    },
                    # Pitfall 1: only here do these reach the signing code.
                    "signing_algorithm": SIG_RSA_SHA256,
                    "digest_algorithm": DIGEST_SHA256,
                    "authn_requests_signed": True,
                    "logout_requests_signed": True,
                    "logout_responses_signed": True,
                    "want_response_signed": True,
                    "want_assertions_signed": True,
                    "allow_unsolicited": False,
                    "name_id_format": [NAMEID_FORMAT_TRANSIENT],
                    "name_id_policy_format": NAMEID_FORMAT_TRANSIENT,
                    "requested_authn_context": {"authn_context_class_ref": s.finnish_auth_methods, "comparison": "exact"},
                    "preferred_binding": {"single_logout_service": [BINDING_HTTP_REDIRECT]},
                }
            },
        }

    @property
    def idp_signing_certificates(self) -> list[str]:
        """The IdP's signing certificates from its metadata (base64 DER); Suomi.fi lists two for rotation."""
        return list(self._idp_signing_certs)

    # ------------------------------------------------------------------ metadata

    def metadata_xml(self) -> str:
        """The SP metadata to register with Suomi.fi (and to publish at ``settings.metadata_url``)."""
        return self._metadata_xml

    # ------------------------------------------------------------------ login

    def login_request(self, relay_state: str, *, locale: Locale = "fi") -> LoginRedirect:
        """A signed AuthnRequest as a redirect URL to the IdP, ``locale`` appended last.

        Keep the returned ``request_id`` server-side under ``relay_state``; the ACS needs it.
        """
        if locale not in ("fi", "sv", "en"):
            raise ValueError("locale is fi, sv or en")
        request_id, info = self._client.prepare_for_authenticate(
            entityid=self.idp_entity_id, relay_state=relay_state, binding=BINDING_HTTP_REDIRECT, sign=True, sigalg=SIG_RSA_SHA256, digest_alg=DIGEST_SHA256
        )
        url = redirect_location(info)
        # Suomi.fi reads the UI language from a parameter that must come last (omniauth-suomifi).
        url += "&" + urlencode({"locale": locale})
        return LoginRedirect(request_id=request_id, relay_state=relay_state, url=url)

    def process_response(self, saml_response: str, expected_request_id: str) -> SuomiFiIdentity:
        """Check a posted ``SAMLResponse`` (base64) against the AuthnRequest ``expected_request_id``.

        Raises:
            AuthenticationError: the response fails any check (its ``code`` says which); no
                identity is returned then, and nothing personal is in the error.
        """
        xml = self._decode_post(saml_response)
        self._require_success_and_encryption(xml)
        try:
            result = self._client.parse_authn_request_response(saml_response, BINDING_HTTP_POST, outstanding={expected_request_id: "/"})
        except AuthenticationError:
            raise
        except Exception as error:
            raise _classify(error) from None
        if result is None or result.assertion is None:  # pitfall 6: an unverified result comes back without an exception
            raise AuthenticationError("the response was not meant for this ACS (Destination) or is out of its time window", code="SAML_DESTINATION")
        response = result.response
        if response.destination != self.settings.acs_url:
            raise AuthenticationError("the response's Destination is not this ACS", code="SAML_DESTINATION")
        if result.in_response_to != expected_request_id:
            raise AuthenticationError("the response answers another request", code="SAML_IN_RESPONSE_TO")
        assertion = result.assertion
        for issuer in (response.issuer, assertion.issuer):
            if issuer is None or (issuer.text or "").strip() != self.idp_entity_id:
                raise AuthenticationError("the response or assertion was issued by another IdP", code="SAML_ISSUER")
        audiences = {
            (audience.text or "").strip()
            for restriction in (assertion.conditions.audience_restriction if assertion.conditions else [])
            for audience in restriction.audience
        }
        if self.settings.sp_entity_id not in audiences:
            raise AuthenticationError("the assertion is meant for another service", code="SAML_AUDIENCE")
        expires = _expiry(assertion)
        authn = result.authn_info()
        loa = authn[0][0] if authn else None
        if loa not in self.settings.accepted_loa:
            raise AuthenticationError("the assertion's level of assurance is not accepted", code="SAML_LOA")
        if not self._replay.first_use(assertion.id, expires):
            raise AuthenticationError("the assertion was already used", code="SAML_REPLAY")
        identity = self._identity(result, loa)
        logger.info("Suomi.fi login accepted: request %s, LoA %s, %s", expected_request_id, loa, "eIDAS" if identity.is_eidas else "hetu")
        return identity

    @staticmethod
    def _decode_post(saml_response: str) -> bytes:
        if not saml_response or len(saml_response) > MAX_MESSAGE_BYTES * 4 // 3 + 4:
            raise AuthenticationError("the SAML response is empty or too large", code="SAML_MALFORMED")
        try:
            return base64.b64decode(saml_response, validate=False)
        except (binascii.Error, ValueError):
            raise AuthenticationError("the SAML response is not base64", code="SAML_MALFORMED") from None

    @staticmethod
    def _require_success_and_encryption(xml: bytes) -> None:
        """Refuse before pysaml2 sees it: a failure status, or an assertion not encrypted (pitfall 8)."""
        if _has_comment_or_instruction(xml):
            raise AuthenticationError("the SAML response holds XML comments or processing instructions", code="SAML_MALFORMED")
        root = _parse_xml(xml)
        if root.tag != f"{{{PROTOCOL}}}Response":
            raise AuthenticationError("the message is not a SAML Response", code="SAML_MALFORMED")
        status = root.find(f"{{{PROTOCOL}}}Status/{{{PROTOCOL}}}StatusCode")
        top = status.get("Value") if status is not None else None
        if top != STATUS_SUCCESS:
            second = root.find(f"{{{PROTOCOL}}}Status/{{{PROTOCOL}}}StatusCode/{{{PROTOCOL}}}StatusCode")
            detail = second.get("Value") if second is not None else None
            said = (detail or top or "none").rsplit(":", 1)[-1][:40]
            raise AuthenticationError(f"the IdP did not identify the user (status {said})", code="SAML_STATUS")
        if list(root.iter(f"{{{ASSERTION}}}Assertion")):
            raise AuthenticationError("the response carries an unencrypted assertion", code="SAML_NOT_ENCRYPTED")
        if len(root.findall(f"{{{ASSERTION}}}EncryptedAssertion")) != 1 or len(list(root.iter(f"{{{ASSERTION}}}EncryptedAssertion"))) != 1:
            raise AuthenticationError("the response must carry exactly one encrypted assertion", code="SAML_NOT_ENCRYPTED")

    def _identity(self, result: Any, loa: str) -> SuomiFiIdentity:
        ava: dict[str, list[str]] = result.ava or {}
        name_id = result.name_id
        session_indexes = [statement.session_index for statement in result.assertion.authn_statement if statement.session_index]
        authn = result.authn_info()
        session = SamlSession(
            idp_entity_id=self.idp_entity_id,
            name_id=(name_id.text or "").strip(),
            name_id_format=name_id.format,
            name_qualifier=name_id.name_qualifier,
            sp_name_qualifier=name_id.sp_name_qualifier,
            session_index=session_indexes[0] if session_indexes else None,
            authenticated_at=_instant(authn[0][2]) if authn and authn[0][2] else None,
        )
        if not session.name_id:
            raise AuthenticationError("the assertion has no NameID", code="SAML_ATTRIBUTES")
        try:
            return build_identity(ava, loa=loa, session=session)
        except ValidationError as error:
            fields = ", ".join(sorted({".".join(str(part) for part in problem["loc"]) or "identity" for problem in error.errors(include_url=False)}))
            raise AuthenticationError(f"the assertion's attributes do not make a valid identity ({fields})", code="SAML_ATTRIBUTES") from None

    # ------------------------------------------------------------------ single logout

    def logout_request(self, session: SamlSession, *, relay_state: str = "") -> LogoutRedirect:
        """A signed LogoutRequest for ``session`` as a redirect URL to the IdP's SLO.

        Suomi.fi wants the local session destroyed *before* this redirect: do that first, and keep
        the returned ``request_id`` to match the IdP's LogoutResponse.
        """
        services = self._client.metadata.single_logout_service(self.idp_entity_id, BINDING_HTTP_REDIRECT, "idpsso")
        if not services:
            raise SamlConfigurationError("the IdP metadata has no HTTP-Redirect SingleLogoutService")
        destination = services[0]["location"]
        name_id = NameID(
            text=session.name_id, format=session.name_id_format, name_qualifier=session.name_qualifier, sp_name_qualifier=session.sp_name_qualifier
        )
        request_id, request = self._client.create_logout_request(
            destination, self.idp_entity_id, name_id=name_id, session_indexes=[session.session_index] if session.session_index else None, sign=False
        )
        info = self._client.apply_binding(BINDING_HTTP_REDIRECT, str(request), destination, relay_state, sign=True, sigalg=SIG_RSA_SHA256)
        return LogoutRedirect(request_id=request_id, url=redirect_location(info))

    def process_logout_response(self, query: str, expected_request_id: str | None) -> LogoutOutcome:
        """The IdP's signed LogoutResponse (raw query string of the SLO request).

        Raises:
            AuthenticationError: unsigned, badly signed, from another IdP or for another request.
        """
        message = self._redirect_message(query, "SAMLResponse")
        # Read here rather than by pysaml2, which raises on any non-success status and so would
        # hide whose request failed. The signature over these exact bytes is already verified.
        root = _parse_xml(_inflate(message.message))
        if root.tag != f"{{{PROTOCOL}}}LogoutResponse":
            raise AuthenticationError("the message is not a LogoutResponse", code="SAML_MALFORMED")
        if root.get("Destination") not in (None, self.settings.slo_url):
            raise AuthenticationError("the LogoutResponse was meant for another SLO endpoint", code="SAML_DESTINATION")
        issuer = root.findtext(f"{{{ASSERTION}}}Issuer")
        if (issuer or "").strip() != self.idp_entity_id:
            raise AuthenticationError("the LogoutResponse was issued by another IdP", code="SAML_ISSUER")
        if not self._fresh(root.get("IssueInstant")):
            raise AuthenticationError("the LogoutResponse is not fresh", code="SAML_EXPIRED")
        in_response_to = root.get("InResponseTo")
        if expected_request_id is not None and in_response_to != expected_request_id:
            raise AuthenticationError("the LogoutResponse answers another request", code="SAML_IN_RESPONSE_TO")
        code = root.find(f"{{{PROTOCOL}}}Status/{{{PROTOCOL}}}StatusCode")
        status = code.get("Value", "") if code is not None else ""
        detail = root.find(f"{{{PROTOCOL}}}Status/{{{PROTOCOL}}}StatusCode/{{{PROTOCOL}}}StatusCode")
        shown = detail.get("Value", "") if detail is not None and status != STATUS_SUCCESS else status
        return LogoutOutcome(in_response_to=in_response_to, success=status == STATUS_SUCCESS, status=shown.rsplit(":", 1)[-1][:40])

    def handle_logout_request(self, query: str, sessions: SamlSessionStore) -> IdpLogoutResult:
        """An IdP-initiated LogoutRequest (raw query string): end the sessions, answer signed.

        The request arrives in an iframe without cookies, so the sessions are found through
        ``sessions`` by the NameID and SessionIndex. The answer is Success also when no session
        was left (the citizen is logged out here either way).

        Raises:
            AuthenticationError: unsigned, badly signed, expired or from another IdP.
        """
        message = self._redirect_message(query, "SAMLRequest")
        try:
            parsed = self._client.parse_logout_request(message.message, BINDING_HTTP_REDIRECT)
        except Exception as error:
            raise _classify(error) from None
        if parsed is None:
            raise AuthenticationError("the LogoutRequest is not for this SP or is out of its time window", code="SAML_DESTINATION")
        request = parsed.message
        if request.issuer is None or (request.issuer.text or "").strip() != self.idp_entity_id:
            raise AuthenticationError("the LogoutRequest was issued by another IdP", code="SAML_ISSUER")
        # pysaml2 computes IssueInstant freshness for requests but ignores the result: check it here.
        if not self._fresh(request.issue_instant) or (request.not_on_or_after and self._past(request.not_on_or_after)):
            raise AuthenticationError("the LogoutRequest is not fresh", code="SAML_EXPIRED")
        if request.name_id is None or not (request.name_id.text or "").strip():
            raise AuthenticationError("the LogoutRequest names no NameID", code="SAML_MALFORMED")
        if request.name_id.sp_name_qualifier not in (None, self.settings.sp_entity_id):
            raise AuthenticationError("the LogoutRequest is about another service's login", code="SAML_AUDIENCE")
        target = LogoutTarget(
            idp_entity_id=self.idp_entity_id,
            name_id=request.name_id.text.strip(),
            name_qualifier=request.name_id.name_qualifier,
            sp_name_qualifier=request.name_id.sp_name_qualifier,
            session_indexes=tuple((index.text or "").strip() for index in request.session_index or []),
        )
        ended = sessions.end_sessions(target)
        response = self._client.create_logout_response(request, bindings=[BINDING_HTTP_REDIRECT], sign=False)
        destination = self._client.response_args(request, [BINDING_HTTP_REDIRECT])["destination"]
        info = self._client.apply_binding(
            BINDING_HTTP_REDIRECT, str(response), destination, message.relay_state or "", response=True, sign=True, sigalg=SIG_RSA_SHA256
        )
        logger.info("Suomi.fi logout request %s: %d local session(s) ended", request.id, ended)
        return IdpLogoutResult(url=redirect_location(info), sessions_ended=ended, request_id=request.id)

    def _fresh(self, issue_instant: str | None) -> bool:
        """An SLO message is answered at once: IssueInstant within 10 minutes (plus skew) of now."""
        skew = timedelta(minutes=10, seconds=self.settings.accepted_time_diff_seconds)
        try:
            return issue_instant is not None and abs(datetime.now(UTC) - _instant(issue_instant)) <= skew
        except (ValueError, AttributeError, TypeError):  # pysaml2's time parser fails in all three ways
            return False

    def _past(self, moment: str) -> bool:
        try:
            return _instant(moment) + timedelta(seconds=self.settings.accepted_time_diff_seconds) < datetime.now(UTC)
        except (ValueError, AttributeError, TypeError):
            return True

    def _redirect_message(self, query: str, kind: str) -> Any:
        try:
            message = parse_redirect_query(query)
        except ValueError as error:
            raise AuthenticationError(str(error), code="SAML_MALFORMED") from None
        if message.kind != kind:
            raise AuthenticationError(f"expected a {kind}", code="SAML_MALFORMED")
        if len(message.message) > MAX_MESSAGE_BYTES:
            raise AuthenticationError("the SAML message is too large", code="SAML_MALFORMED")
        if not verify_redirect_signature(message, self._idp_signing_certs):
            raise AuthenticationError("the message is unsigned or its signature does not verify with the IdP's certificates", code="SAML_SIGNATURE")
        return message


def build_identity(ava: dict[str, list[str]], *, loa: str, session: SamlSession) -> SuomiFiIdentity:
    """Map pysaml2's attribute dict (friendly names) to :class:`SuomiFiIdentity`.

    Raises:
        pydantic.ValidationError: the attributes make no valid identity (e.g. a bad hetu).
    """

    def one(name: str) -> str | None:
        values = [value.strip() for value in ava.get(name, []) if isinstance(value, str) and value.strip()]
        return values[0] if values else None

    hetu = one("nationalIdentificationNumber")
    non_disclosure = one("TurvakieltoTieto") in ("1", "true")
    municipality = address = foreign = None
    if not non_disclosure:
        if one("KotikuntaKuntanumero"):
            municipality = HomeMunicipality(number=one("KotikuntaKuntanumero"), name_fi=one("KotikuntaKuntaS"), name_sv=one("KotikuntaKuntaR"))
        domestic = {
            "street_fi": one("VakinainenKotimainenLahiosoiteS"),
            "street_sv": one("VakinainenKotimainenLahiosoiteR"),
            "postal_code": one("VakinainenKotimainenLahiosoitePostinumero"),
            "post_office_fi": one("VakinainenKotimainenLahiosoitePostitoimipaikkaS"),
            "post_office_sv": one("VakinainenKotimainenLahiosoitePostitoimipaikkaR"),
        }
        if any(domestic.values()):
            address = DomesticAddress(**domestic)
        abroad = {
            "street": one("VakinainenUlkomainenLahiosoite"),
            "locality_and_country_fi": one("VakinainenUlkomainenLahiosoitePaikkakuntaJaValtioS"),
            "locality_and_country_sv": one("VakinainenUlkomainenLahiosoitePaikkakuntaJaValtioR"),
            "locality_and_country_plain": one("VakinainenUlkomainenLahiosoitePaikkakuntaJaValtioSelvakielinen"),
            "country_code": one("VakinainenUlkomainenLahiosoiteValtiokoodi"),
        }
        if any(abroad.values()):
            foreign = ForeignAddress(**abroad)
    birth = one("DateOfBirth")
    return SuomiFiIdentity(
        hetu=hetu,
        eidas_person_identifier=None if hetu else one("PersonIdentifier"),
        date_of_birth=birth if birth and not hetu else None,
        first_names=one("FirstName") or one("givenName") or "",
        given_name=one("givenName"),
        surname=one("sn") or one("FamilyName") or "",
        display_name=one("displayName"),
        home_municipality=municipality,
        permanent_address=address,
        foreign_address=foreign,
        non_disclosure=non_disclosure,
        email=one("mail"),
        loa=loa,
        session=session,
    )


def _inflate(message: str) -> bytes:
    """A Redirect-binding message: base64 of raw DEFLATE, inflated no further than the size cap."""
    try:
        packed = base64.b64decode(message, validate=False)
        inflater = zlib.decompressobj(-15)
        xml = inflater.decompress(packed, MAX_MESSAGE_BYTES)
    except (binascii.Error, ValueError, zlib.error):
        raise AuthenticationError("the SAML message is not DEFLATE-encoded base64", code="SAML_MALFORMED") from None
    if inflater.unconsumed_tail:
        raise AuthenticationError("the SAML message is too large", code="SAML_MALFORMED")
    return xml


def _parse_xml(xml: bytes) -> Any:
    try:
        return SafeET.fromstring(xml)
    except Exception:  # defusedxml raises parse errors and its own refusals (DTDs, entities)
        raise AuthenticationError("the SAML message is not well-formed XML", code="SAML_MALFORMED") from None


def _has_comment_or_instruction(xml: bytes | str) -> bool:
    """Whether a SAML message holds a comment or a processing instruction (after its XML declaration).

    Suomi.fi sends neither. Exclusive c14n leaves comments out of what is signed, so a comment can be
    put into a signed value (``<NameID>abc<!---->def</NameID>``) without breaking the signature, and a
    parser that reads only the first text node then sees another value (CVE-2017-11427 and kin).
    pysaml2 joins the text, but such a message was edited after signing: it is refused outright. A
    CDATA section holding ``<!--`` is refused too; Suomi.fi sends none.
    """
    data = xml.encode("utf-8") if isinstance(xml, str) else xml
    body = data.lstrip()
    if body.startswith(b"<?xml"):
        body = body[body.find(b"?>") + 2 :]
    return b"<!--" in body or b"<?" in body


def _comment_free(decrypt: Any) -> Any:
    """pysaml2's ``decrypt_keys``, refusing a decrypted assertion with a comment or processing
    instruction (:func:`_has_comment_or_instruction`): only inside the decryption is its text seen."""

    def decrypt_keys(enctext: Any, keys: Any = None) -> Any:
        plain = decrypt(enctext, keys=keys)
        if _has_comment_or_instruction(plain):
            raise AuthenticationError("the decrypted assertion holds XML comments or processing instructions", code="SAML_MALFORMED")
        return plain

    return decrypt_keys


def _instant(text: str) -> datetime:
    return datetime(*str_to_time(text)[:6], tzinfo=UTC)


def _expiry(assertion: Any) -> datetime:
    conditions = assertion.conditions
    if conditions is None or not conditions.not_on_or_after:
        raise AuthenticationError("the assertion has no NotOnOrAfter", code="SAML_EXPIRED")
    # pysaml2 has already refused it if past (with the allowed skew); this is how long to remember it.
    return _instant(conditions.not_on_or_after)


def _classify(error: Exception) -> AuthenticationError:
    """pysaml2's exception as a coded refusal; its text is not passed on (it may quote the message)."""
    kind = type(error).__name__
    text = str(error)
    if isinstance(error, UnsolicitedResponse):
        return AuthenticationError("the response answers no request of this session", code="SAML_IN_RESPONSE_TO")
    if isinstance(error, DecryptError) or "decrypt" in text.lower():
        return AuthenticationError("the assertion could not be decrypted with the SP key", code="SAML_DECRYPTION")
    if isinstance(error, (SignatureError, SigverError, MissingKey)) or "signature" in text.lower() or kind == "IncorrectlySigned":
        return AuthenticationError(f"the signature does not verify with the IdP's certificates ({kind})", code="SAML_SIGNATURE")
    if isinstance(error, (ResponseLifetimeExceed, ToEarly)) or (isinstance(error, VerificationError) and "Condition" in text):
        return AuthenticationError("the assertion is outside its validity window", code="SAML_EXPIRED")
    if "AudienceRestrictions" in text:
        return AuthenticationError("the assertion is meant for another service", code="SAML_AUDIENCE")
    if isinstance(error, StatusError):
        return AuthenticationError(f"the IdP did not identify the user ({kind})", code="SAML_STATUS")
    return AuthenticationError(f"the SAML message was refused ({kind})", code="SAML_REJECTED")
