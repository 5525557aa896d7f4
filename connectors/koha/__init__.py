"""Koha REST API v1 connector: patrons by hetu key, guarantor links, PINs, libraries and categories."""

from connectors.koha.client import KohaClient
from connectors.koha.errors import (
    AmbiguousPatronError,
    DuplicatePatronError,
    KohaAuthenticationError,
    KohaRejectedError,
    KohaUnavailableError,
    MissingGuarantorError,
    PatronNotFoundError,
)
from connectors.koha.models import ExtendedAttribute, ExtendedAttributeIn, GuarantorLink, Library, Patron, PatronCategory, PatronCreate
from connectors.koha.settings import KohaSettings

__all__ = [
    "AmbiguousPatronError",
    "DuplicatePatronError",
    "ExtendedAttribute",
    "ExtendedAttributeIn",
    "GuarantorLink",
    "KohaAuthenticationError",
    "KohaClient",
    "KohaRejectedError",
    "KohaSettings",
    "KohaUnavailableError",
    "Library",
    "MissingGuarantorError",
    "Patron",
    "PatronCategory",
    "PatronCreate",
    "PatronNotFoundError",
]
