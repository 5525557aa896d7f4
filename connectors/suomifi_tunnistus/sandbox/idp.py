"""The sandbox's SAML IdP: pysaml2's ``Server`` shaped like Suomi.fi e-Identification.

What it does as Suomi.fi does (shared/specs/suomifi/tunnistus/*.xml, suomifi.md §1): an
entityID-style URL ``…/idp1``, SSO and SLO over HTTP-Redirect and HTTP-POST at
``…/idp/profile/SAML2/{Redirect,POST}/{SSO,SLO}``, transient NameIDs, two signing certificates
in the metadata (rotation), signed AuthnRequests required, a signed Response around a signed
assertion that is encrypted with AES-GCM (``CipherName`` in the SP metadata) and RSA-OAEP key
transport, attributes under their URI names, only those the SP requested.

pysaml2 hard-codes 3DES for assertion encryption, so :class:`GcmServer` overrides the private
``_encrypt_assertion`` (shared/reference/feasibility-saml.md §3, pitfall 2; re-check on pysaml2
upgrades). :class:`TestIdP` is the whole IdP as tests and the sandbox app use it, including the
negative cases tests need (``login_response(..., **overrides)``).
"""

from __future__ import annotations

import base64
import contextlib
import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

from saml2 import BINDING_HTTP_POST, BINDING_HTTP_REDIRECT
from saml2.assertion import Policy
from saml2.config import IdPConfig
from saml2.s_utils import status_message_factory
from saml2.saml import NAME_FORMAT_URI, NAMEID_FORMAT_TRANSIENT, NameID
from saml2.samlp import STATUS_SUCCESS, STATUS_UNKNOWN_PRINCIPAL
from saml2.server import Server
from saml2.sigver import RSA_OAEP_MGF1P, get_pem_wrapped_unwrapped, make_temp, pre_encryption_part, verify_redirect_signature
from saml2.xmldsig import DIGEST_SHA256, SIG_RSA_SHA256

from connectors.suomifi_tunnistus import logguard
from connectors.suomifi_tunnistus.keys import KeyPair
from connectors.suomifi_tunnistus.metadata import IdpEndpoints, build_idp_metadata
from connectors.suomifi_tunnistus.redirect import redirect_location
from connectors.suomifi_tunnistus.sandbox.persons import TestPerson
from connectors.suomifi_tunnistus.sandbox.persons import attributes as person_attributes
from connectors.suomifi_tunnistus.sandbox.persons import loa as person_loa
from connectors.suomifi_tunnistus.settings import SANDBOX_IDP_URL
from connectors.suomifi_tunnistus.xmlsec import remember_xmlsec_version

AES128_GCM = "http://www.w3.org/2009/xmlenc11#aes128-gcm"
ATTRIBUTE_MAP_DIR = str(Path(__file__).resolve().parents[1] / "attributemaps")


class GcmServer(Server):
    """pysaml2's IdP with AES-128-GCM assertion encryption (RSA-OAEP-MGF1P key transport).

    ``tamper``, when set, edits the response XML after the assertion is signed and before it is
    encrypted: how tests make an assertion whose signature no longer matches its content.
    """

    tamper: Callable[[str], str] | None = None

    def has_encrypt_cert_in_metadata(self, sp_entity_id):
        # A test's assertion for an audience the IdP does not know is still encrypted to the given cert.
        try:
            return super().has_encrypt_cert_in_metadata(sp_entity_id)
        except KeyError:
            return False

    def _encrypt_assertion(self, encrypt_cert, sp_entity_id, response, node_xpath=None):
        if self.tamper is not None:
            response = self.tamper(str(response))
        if encrypt_cert:
            name, cert = None, encrypt_cert
        else:
            name, cert = self.metadata.certs(sp_entity_id, "any", "encryption")[0]
        wrapped, bare = get_pem_wrapped_unwrapped(cert)
        handle = make_temp(wrapped.encode("ascii"), decode=False, delete_tmpfiles=self.config.delete_tmpfiles)
        template = pre_encryption_part(msg_enc=AES128_GCM, key_enc=RSA_OAEP_MGF1P, key_name=name, encrypt_cert=bare)
        return self.sec.encrypt_assertion(response, handle.name, template, key_type="aes-128", node_xpath=node_xpath)


@dataclass(frozen=True)
class AuthnRequestInfo:
    """A verified AuthnRequest as the IdP saw it."""

    request_id: str
    issuer: str
    acs_url: str
    relay_state: str | None
    requested_loa: tuple[str, ...]
    locale: str | None


@dataclass(frozen=True)
class IssuedLogin:
    """A login response as issued, with what SLO later needs."""

    saml_response: str
    name_id: str
    session_index: str | None
    sp_entity_id: str


@dataclass(frozen=True)
class LogoutRequestInfo:
    """A verified LogoutRequest as the IdP saw it (the SP asks to end a login)."""

    request_id: str
    issuer: str
    name_id: str
    session_indexes: tuple[str, ...]
    relay_state: str | None
    message: Any  # pysaml2's samlp.LogoutRequest, needed to answer it


def query_params(query: str) -> dict[str, str]:
    return {name: values[0] for name, values in parse_qs(query, keep_blank_values=True).items()}


class TestIdP:
    """A Suomi.fi-like IdP for the sandbox app and for tests.

    Args:
        signing_keys: the pairs whose certificates the metadata lists; the first one signs.
        sp_metadata: the metadata XML of every SP it serves (the e-service's).
        base_url: where it is served.
        xmlsec_binary: xmlsec1 (PATH when None).
    """

    __test__ = False  # not a pytest test class, despite the name

    def __init__(
        self, signing_keys: Sequence[KeyPair], sp_metadata: Sequence[str], *, base_url: str = SANDBOX_IDP_URL, xmlsec_binary: str | None = None
    ) -> None:
        if not signing_keys:
            raise ValueError("the IdP needs at least one signing key pair")
        logguard.install()
        self.signing_keys = tuple(signing_keys)
        self.endpoints = IdpEndpoints(base_url.rstrip("/"))
        self.sp_metadata = tuple(sp_metadata)
        self.xmlsec_binary = xmlsec_binary
        self.metadata_xml = build_idp_metadata(self.endpoints.base_url, [pair.certificate_base64() for pair in self.signing_keys])
        self._servers: dict[tuple[Any, ...], GcmServer] = {}

    @property
    def entity_id(self) -> str:
        return self.endpoints.entity_id

    def server(self, *, signing_key: KeyPair | None = None, sp_metadata: str | None = None) -> GcmServer:
        """pysaml2's Server for one signing key and set of SP metadata (built once, then reused)."""
        key = signing_key or self.signing_keys[0]
        metadata = (sp_metadata,) if sp_metadata is not None else self.sp_metadata
        cache_key = (key, metadata)
        if cache_key not in self._servers:
            self._servers[cache_key] = remember_xmlsec_version(GcmServer(config=self._config(key, metadata)))
        return self._servers[cache_key]

    def _config(self, key: KeyPair, sp_metadata: Sequence[str]) -> IdPConfig:
        where = self.endpoints
        config: dict[str, Any] = {
            "entityid": where.entity_id,
            "key_file": str(key.key_file),
            "cert_file": str(key.cert_file),
            "attribute_map_dir": ATTRIBUTE_MAP_DIR,
            "metadata": {"inline": list(sp_metadata)},
            "accepted_time_diff": 60,
            "service": {
                "idp": {
                    "endpoints": {
                        "single_sign_on_service": [
                            (where.profile("Redirect", "SSO"), BINDING_HTTP_REDIRECT),
                            (where.profile("POST", "SSO"), BINDING_HTTP_POST),
                        ],
                        "single_logout_service": [(where.profile("Redirect", "SLO"), BINDING_HTTP_REDIRECT), (where.profile("POST", "SLO"), BINDING_HTTP_POST)],
                    },
                    "name_id_format": [NAMEID_FORMAT_TRANSIENT],
                    "want_authn_requests_signed": True,
                    "sign_response": True,
                    "sign_assertion": True,
                    "encrypt_assertion": True,
                    "signing_algorithm": SIG_RSA_SHA256,
                    "digest_algorithm": DIGEST_SHA256,
                    "policy": {"default": {"lifetime": {"minutes": 5}, "name_form": NAME_FORMAT_URI, "attribute_restrictions": None}},
                }
            },
        }
        if self.xmlsec_binary:
            config["xmlsec_binary"] = self.xmlsec_binary
        idp_config = IdPConfig()
        idp_config.load(config)
        return idp_config

    # ------------------------------------------------------------------ SSO

    def parse_authn_request(self, query: str) -> AuthnRequestInfo:
        """Verify a signed HTTP-Redirect AuthnRequest (raw query string).

        Raises:
            ValueError: the request is missing, unsigned, badly signed or from an unknown SP.
        """
        params = query_params(query)
        if "SAMLRequest" not in params:
            raise ValueError("no SAMLRequest in the query")
        return self._authn_request_info(
            BINDING_HTTP_REDIRECT,
            params["SAMLRequest"],
            params.get("RelayState"),
            params.get("locale"),
            sigalg=params.get("SigAlg"),
            signature=params.get("Signature"),
        )

    def parse_authn_request_post(self, saml_request: str, relay_state: str | None) -> AuthnRequestInfo:
        """Verify an HTTP-POST AuthnRequest (its XML signature).

        Raises:
            ValueError: missing, unsigned, badly signed or from an unknown SP.
        """
        if not saml_request:
            raise ValueError("no SAMLRequest in the form")
        return self._authn_request_info(BINDING_HTTP_POST, saml_request, relay_state, None)

    def _authn_request_info(self, binding: str, saml_request: str, relay_state: str | None, locale: str | None, **signature: Any) -> AuthnRequestInfo:
        try:
            request = self.server().parse_authn_request(saml_request, binding, relay_state=relay_state, **signature)
        except Exception as error:  # pysaml2 raises many unrelated types for a bad request
            raise ValueError(f"the AuthnRequest was refused ({type(error).__name__})") from None
        if request is None:
            raise ValueError("the AuthnRequest was refused (not valid at this time or place)")
        message = request.message
        issuer = message.issuer.text.strip()
        acs_url = message.assertion_consumer_service_url or self._default_acs(issuer)
        loa: tuple[str, ...] = ()
        if message.requested_authn_context is not None:
            loa = tuple(ref.text.strip() for ref in message.requested_authn_context.authn_context_class_ref)
        return AuthnRequestInfo(message.id, issuer, acs_url, relay_state, loa, locale)

    def _default_acs(self, sp_entity_id: str) -> str:
        services = self.server().metadata.assertion_consumer_service(sp_entity_id, BINDING_HTTP_POST)
        if not services:
            raise ValueError("the SP has no HTTP-POST AssertionConsumerService")
        return services[0]["location"]

    def sp_entity_ids(self) -> list[str]:
        return self._sp_entities(self.server())

    @staticmethod
    def _sp_entities(server: GcmServer) -> list[str]:
        """The entities in the metadata that have an AssertionConsumerService: the SPs."""
        metadata = server.metadata
        # pysaml2's MetadataStore has keys() but no __iter__, so .keys() it must be.
        return [entity for entity in metadata.keys() if metadata.service(entity, "spsso_descriptor", "assertion_consumer_service")]  # noqa: SIM118

    def login(
        self,
        person: TestPerson,
        request_id: str,
        sp_metadata: str | None = None,
        *,
        sp_entity_id: str | None = None,
        acs_url: str | None = None,
        audience: str | None = None,
        destination: str | None = None,
        loa: str | None = None,
        lifetime_minutes: float = 5,
        signing_key: KeyPair | None = None,
        sign_response: bool = True,
        sign_assertion: bool = True,
        encrypt: bool = True,
        issuer: str | None = None,
        tamper: Callable[[str], str] | None = None,
        attributes: dict[str, list[str] | None] | None = None,
        name_id: str | None = None,
    ) -> IssuedLogin:
        """A base64 SAML Response logging ``person`` in, with the NameID and SessionIndex it carries.

        Defaults give a valid, signed and encrypted response for the only (or given) SP. The
        keyword overrides make the negative cases: another ``audience`` (still encrypted to the SP),
        a wrong ``destination``, a lower ``loa``, a negative ``lifetime_minutes`` (expired), a
        ``signing_key`` not in the metadata, no signatures, no encryption, another ``issuer``, a
        ``tamper`` edit after signing, ``attributes`` added or (with None) removed.
        """
        server = self.server(signing_key=signing_key, sp_metadata=sp_metadata)
        sp = sp_entity_id or self._only_sp(server)
        identity = _identity(person, attributes or {})
        nid = NameID(
            format=NAMEID_FORMAT_TRANSIENT, text=name_id or f"AAdzZWNyZXQx{secrets.token_hex(16)}", name_qualifier=self.entity_id, sp_name_qualifier=sp
        )
        # With another audience the assertion is still encrypted to the real SP, so only the audience is wrong.
        encrypt_cert = server.metadata.certs(sp, "any", "encryption")[0][1] if audience is not None else None
        lifetime = {"lifetime": {"minutes": lifetime_minutes}, "name_form": NAME_FORMAT_URI, "attribute_restrictions": None}
        policy = Policy({"default": lifetime}, mds=server.metadata)
        server.tamper = tamper
        try:
            response = server.create_authn_response(
                identity=identity,
                in_response_to=request_id,
                destination=destination or acs_url or server.metadata.assertion_consumer_service(sp, BINDING_HTTP_POST)[0]["location"],
                sp_entity_id=audience or sp,
                name_id=nid,
                authn={"class_ref": loa or person_loa(person), "authn_auth": self.entity_id},
                issuer=issuer,
                sign_response=sign_response,
                sign_assertion=sign_assertion,
                encrypt_assertion=encrypt,
                encrypt_cert_assertion=encrypt_cert,
                release_policy=policy,
            )
        finally:
            server.tamper = None
        session_index = self._last_session_index(server, nid)
        self._forget(server, nid)
        return IssuedLogin(base64.b64encode(str(response).encode("utf-8")).decode("ascii"), nid.text, session_index, sp)

    def login_response(self, person: TestPerson, request_id: str, sp_metadata: str | None = None, **overrides: Any) -> str:
        """The base64 SAML Response of :meth:`login` (same overrides), as the ACS receives it."""
        return self.login(person, request_id, sp_metadata, **overrides).saml_response

    @staticmethod
    def _last_session_index(server: GcmServer, nid: NameID) -> str | None:
        """pysaml2's Server remembers each assertion's AuthnStatements (a list each) by NameID; the last one is this login's."""
        statements = [statement for group in server.session_db.get_authn_statements(nid) for statement in (group if isinstance(group, list) else [group])]
        return statements[-1].session_index if statements else None

    @staticmethod
    def _forget(server: GcmServer, nid: NameID) -> None:
        """Drop what pysaml2's Server keeps in memory per assertion (the sandbox runs for days)."""
        with contextlib.suppress(KeyError):
            server.session_db.remove_authn_statements(nid)
        for assertion_id, (assertion, _) in list(server.session_db.assertion.items()):
            if assertion.subject is not None and assertion.subject.name_id is not None and assertion.subject.name_id.text == nid.text:
                server.session_db.assertion.pop(assertion_id, None)

    @staticmethod
    def _only_sp(server: GcmServer) -> str:
        sps = TestIdP._sp_entities(server)
        if len(sps) != 1:
            raise ValueError(f"name the SP: the IdP knows {len(sps)} SPs")
        return sps[0]

    def error_response(self, request_id: str, acs_url: str, status: str, message: str) -> str:
        """A signed Response without an assertion: the citizen cancelled or identification failed."""
        response = self.server().create_error_response(
            request_id, acs_url, info=(status, message), sign=True, sign_alg=SIG_RSA_SHA256, digest_alg=DIGEST_SHA256
        )
        return base64.b64encode(str(response).encode("utf-8")).decode("ascii")

    # ------------------------------------------------------------------ SLO

    def parse_logout_request(self, query: str) -> LogoutRequestInfo:
        """Verify an SP's signed HTTP-Redirect LogoutRequest.

        Raises:
            ValueError: missing, unsigned or badly signed.
        """
        params = query_params(query)
        if "SAMLRequest" not in params:
            raise ValueError("no SAMLRequest in the query")
        try:
            request = self.server().parse_logout_request(
                params["SAMLRequest"],
                BINDING_HTTP_REDIRECT,
                relay_state=params.get("RelayState"),
                sigalg=params.get("SigAlg"),
                signature=params.get("Signature"),
            )
        except Exception as error:
            raise ValueError(f"the LogoutRequest was refused ({type(error).__name__})") from None
        if request is None:
            raise ValueError("the LogoutRequest was refused")
        message = request.message
        indexes = tuple(index.text.strip() for index in message.session_index or [])
        return LogoutRequestInfo(message.id, message.issuer.text.strip(), message.name_id.text.strip(), indexes, params.get("RelayState"), message)

    def parse_logout_request_post(self, saml_request: str, relay_state: str | None) -> LogoutRequestInfo:
        """Verify an SP's HTTP-POST LogoutRequest (its XML signature).

        Raises:
            ValueError: missing, unsigned or badly signed.
        """
        if not saml_request:
            raise ValueError("no SAMLRequest in the form")
        try:
            request = self.server().parse_logout_request(saml_request, BINDING_HTTP_POST)
        except Exception as error:
            raise ValueError(f"the LogoutRequest was refused ({type(error).__name__})") from None
        if request is None:
            raise ValueError("the LogoutRequest was refused")
        message = request.message
        indexes = tuple(index.text.strip() for index in message.session_index or [])
        return LogoutRequestInfo(message.id, message.issuer.text.strip(), message.name_id.text.strip(), indexes, relay_state, message)

    def logout_response(self, request: LogoutRequestInfo, *, success: bool = True, signing_key: KeyPair | None = None) -> str:
        """The signed HTTP-Redirect LogoutResponse URL answering ``request``."""
        server = self.server(signing_key=signing_key)
        status = None if success else status_message_factory("Unknown session", STATUS_UNKNOWN_PRINCIPAL)
        response = server.create_logout_response(request.message, bindings=[BINDING_HTTP_REDIRECT], status=status, sign=False)
        destination = server.response_args(request.message, [BINDING_HTTP_REDIRECT])["destination"]
        info = server.apply_binding(
            BINDING_HTTP_REDIRECT, str(response), destination, request.relay_state or "", response=True, sign=True, sigalg=SIG_RSA_SHA256
        )
        return redirect_location(info)

    def logout_request(self, sp_entity_id: str, name_id: str, session_index: str | None, *, signing_key: KeyPair | None = None) -> tuple[str, str]:
        """An IdP-initiated, signed HTTP-Redirect LogoutRequest to the SP: ``(request id, URL)``."""
        server = self.server(signing_key=signing_key)
        slo = server.metadata.single_logout_service(sp_entity_id, BINDING_HTTP_REDIRECT, "spsso")
        if not slo:
            raise ValueError("the SP has no HTTP-Redirect SingleLogoutService")
        destination = slo[0]["location"]
        nid = NameID(format=NAMEID_FORMAT_TRANSIENT, text=name_id, name_qualifier=self.entity_id, sp_name_qualifier=sp_entity_id)
        request_id, request = server.create_logout_request(
            destination, sp_entity_id, name_id=nid, session_indexes=[session_index] if session_index else None, sign=False
        )
        info = server.apply_binding(BINDING_HTTP_REDIRECT, str(request), destination, "", sign=True, sigalg=SIG_RSA_SHA256)
        return request_id, redirect_location(info)

    def parse_logout_response(self, query: str) -> tuple[str | None, bool]:
        """An SP's LogoutResponse to an IdP-initiated logout: ``(InResponseTo, success)``.

        Raises:
            ValueError: missing, unsigned or badly signed.
        """
        params = query_params(query)
        if "SAMLResponse" not in params or "Signature" not in params or "SigAlg" not in params:
            raise ValueError("the LogoutResponse is missing or unsigned")
        server = self.server()
        try:
            response = server.parse_logout_request_response(params["SAMLResponse"], BINDING_HTTP_REDIRECT)
        except Exception as error:
            raise ValueError(f"the LogoutResponse was refused ({type(error).__name__})") from None
        if response is None:
            raise ValueError("the LogoutResponse was refused")
        issuer = response.response.issuer.text.strip()
        certs = server.metadata.certs(issuer, "any", "signing")
        saml_msg = {key: params[key] for key in ("SAMLResponse", "RelayState", "SigAlg", "Signature") if key in params}
        if not any(verify_redirect_signature(saml_msg, server.sec.sec_backend, cert) for _, cert in certs):
            raise ValueError("the LogoutResponse signature does not verify")
        return response.response.in_response_to, response.response.status.status_code.value == STATUS_SUCCESS


def _identity(person: TestPerson, overrides: dict[str, list[str] | None]) -> dict[str, Any]:
    """The person's SAML attributes, with ``overrides`` added or (with None) removed."""
    identity = person_attributes(person)
    for name, values in overrides.items():
        if values is None:
            identity.pop(name, None)
        else:
            identity[name] = values
    return identity
