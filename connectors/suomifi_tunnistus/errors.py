"""Errors of the Suomi.fi e-Identification SP.

A SAML message that fails any check is refused as a whole: the caller gets no identity, only a
code that says which check failed (for the log and the citizen's error page) and a message
without personal data.
"""

from __future__ import annotations

from connectors.errors import IntegrationError, PermanentError


class AuthenticationError(PermanentError):
    """A login response (or a logout message) was refused; ``code`` names the failed check.

    Codes: ``SAML_MALFORMED``, ``SAML_NOT_ENCRYPTED``, ``SAML_SIGNATURE``, ``SAML_DECRYPTION``,
    ``SAML_ISSUER``, ``SAML_AUDIENCE``, ``SAML_DESTINATION``, ``SAML_IN_RESPONSE_TO``,
    ``SAML_EXPIRED``, ``SAML_REPLAY``, ``SAML_LOA``, ``SAML_STATUS`` (the IdP reported a failure,
    e.g. the citizen cancelled), ``SAML_ATTRIBUTES`` (no usable identity in the assertion).
    """

    default_code = "SAML_REJECTED"


class SamlConfigurationError(IntegrationError):
    """The SP cannot work with its settings (no xmlsec1, unreadable metadata, missing keys)."""

    default_code = "SAML_CONFIGURATION"
