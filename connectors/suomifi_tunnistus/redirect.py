"""SAML HTTP-Redirect binding signatures, checked over the query string exactly as it arrived.

SAML Bindings §3.4.4.1: the signature covers ``SAMLRequest=…&RelayState=…&SigAlg=…`` (or
``SAMLResponse``) with the values URL-encoded *as sent*. pysaml2 re-encodes the decoded values
before verifying, which only matches a sender that encodes exactly as Python does; verifying
over the raw parts works with any sender (Shibboleth's IdP included).
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote_plus

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

SIG_ALGORITHMS: dict[str, hashes.HashAlgorithm] = {
    "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256": hashes.SHA256(),
    "http://www.w3.org/2001/04/xmldsig-more#rsa-sha384": hashes.SHA384(),
    "http://www.w3.org/2001/04/xmldsig-more#rsa-sha512": hashes.SHA512(),
}


@dataclass(frozen=True)
class RedirectMessage:
    """A Redirect-binding message: ``kind`` is SAMLRequest or SAMLResponse; values decoded."""

    kind: str
    message: str
    relay_state: str | None
    sig_alg: str | None
    signature: str | None
    signed_part: bytes

    @property
    def signed(self) -> bool:
        return self.sig_alg is not None and self.signature is not None


def parse_redirect_query(query: str) -> RedirectMessage:
    """Split a raw query string into the SAML message and what its signature covers.

    Raises:
        ValueError: no SAMLRequest/SAMLResponse, or one of them twice.
    """
    raw: dict[str, str] = {}
    for part in query.split("&"):
        name, _, value = part.partition("=")
        if name in raw:
            raise ValueError(f"the query repeats {name}")
        raw[name] = value
    kinds = [kind for kind in ("SAMLRequest", "SAMLResponse") if kind in raw]
    if len(kinds) != 1:
        raise ValueError("the query carries no SAML message (or two)")
    kind = kinds[0]
    covered = [f"{name}={raw[name]}" for name in (kind, "RelayState", "SigAlg") if name in raw]

    def decoded(name: str) -> str | None:
        return unquote_plus(raw[name]) if name in raw else None

    return RedirectMessage(
        kind=kind,
        message=unquote_plus(raw[kind]),
        relay_state=decoded("RelayState"),
        sig_alg=decoded("SigAlg"),
        signature=decoded("Signature"),
        signed_part="&".join(covered).encode("ascii", errors="replace"),
    )


def verify_redirect_signature(message: RedirectMessage, certificates_b64: list[str]) -> bool:
    """True when one of the certificates verifies the message's signature (RSA-SHA256/384/512)."""
    if not message.signed or message.sig_alg not in SIG_ALGORITHMS:
        return False
    try:
        signature = base64.b64decode(message.signature or "", validate=True)
    except (binascii.Error, ValueError):
        return False
    digest = SIG_ALGORITHMS[message.sig_alg]
    for cert_b64 in certificates_b64:
        public_key = x509.load_der_x509_certificate(base64.b64decode("".join(cert_b64.split()))).public_key()
        if not isinstance(public_key, rsa.RSAPublicKey):
            continue
        try:
            public_key.verify(signature, message.signed_part, padding.PKCS1v15(), digest)
        except InvalidSignature:
            continue
        return True
    return False


def redirect_location(info: dict[str, Any]) -> str:
    """The URL of a redirect pysaml2's ``apply_binding``/``prepare_for_authenticate`` built.

    Raises:
        ValueError: pysaml2 built no Location header.
    """
    for name, value in info.get("headers", []):
        if name.lower() == "location":
            return value
    raise ValueError("pysaml2 built no redirect Location")
