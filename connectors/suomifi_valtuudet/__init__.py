"""Suomi.fi Valtuudet (e-Authorizations) HPA web API: may the logged-in person act for another (a guardian for a child)."""

from connectors.suomifi_valtuudet.checksum import HEADER, ChecksumError
from connectors.suomifi_valtuudet.client import ValtuudetClient
from connectors.suomifi_valtuudet.errors import ValtuudetRefusedError, ValtuudetUnavailableError
from connectors.suomifi_valtuudet.models import Authorization, Principal, Reason, Registration
from connectors.suomifi_valtuudet.settings import ValtuudetSettings

__all__ = [
    "HEADER",
    "Authorization",
    "ChecksumError",
    "Principal",
    "Reason",
    "Registration",
    "ValtuudetClient",
    "ValtuudetRefusedError",
    "ValtuudetSettings",
    "ValtuudetUnavailableError",
]
