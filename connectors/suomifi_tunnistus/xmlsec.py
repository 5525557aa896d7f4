"""pysaml2's xmlsec1 backend, asking for xmlsec1's version once rather than before every signature.

``saml2.sigver.CryptoBackendXmlSec1.version`` runs ``xmlsec1 --version`` each time it is read, and it
is read for every signature made or checked and every assertion decrypted: a sign-in through the
sandbox IdP starts about twice as many xmlsec1 processes as it needs, each a fork of the process
serving the e-service. The binary does not change while the process runs, so its answer is kept.
"""

from __future__ import annotations

from functools import cached_property
from typing import Any

from saml2.sigver import CryptoBackendXmlSec1


class KnownVersionXmlSec1(CryptoBackendXmlSec1):
    """``CryptoBackendXmlSec1`` that runs ``xmlsec1 --version`` once per instance."""

    @cached_property
    def version(self) -> str:
        return CryptoBackendXmlSec1.version.fget(self)  # type: ignore[attr-defined]


def remember_xmlsec_version(entity: Any) -> Any:
    """Give a pysaml2 entity (SP client or IdP server) the backend above in place of its plain xmlsec1 one; the entity."""
    crypto = entity.sec.crypto
    if type(crypto) is CryptoBackendXmlSec1:
        known = KnownVersionXmlSec1.__new__(KnownVersionXmlSec1)
        known.__dict__.update(vars(crypto))
        entity.sec.crypto = known
    return entity
