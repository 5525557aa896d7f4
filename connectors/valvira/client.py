"""Typed client for the professional register lookup (JulkiTerhikki/JulkiSuosikki-like; contract in
connectors/valvira/README.md). Read-only, so every call is retried on transient failures.

Namesakes exist, so a person is found only by the 11-digit registration number, or by name and
date of birth **together**; the caller still checks that a number's holder is the applicant.
"""

from __future__ import annotations

import re
from datetime import date

import httpx

from connectors.errors import AutomationError
from connectors.http import ConnectorClient, ErrorDetails, RetryPolicy
from connectors.valvira.errors import ValviraAuthenticationError, ValviraUnavailableError
from connectors.valvira.models import Professional
from connectors.valvira.settings import ValviraSettings

SYSTEM = "valvira"
_NUMBER = re.compile(r"^\d{11}$")


class ValviraClient(ConnectorClient):
    """The register lookup. Contract: connectors/valvira/README.md."""

    def __init__(self, settings: ValviraSettings | None = None, *, transport: httpx.BaseTransport | None = None, retry: RetryPolicy | None = None) -> None:
        self.settings = settings or ValviraSettings()
        self.api = self.api_client(
            self.settings,
            system=SYSTEM,
            error_mapper=_map_error,
            transient_error=ValviraUnavailableError,
            headers={"X-Api-Key": self.settings.api_key.get_secret_value()},
            transport=transport,
            retry=retry,
        )

    def by_registration_number(self, number: str) -> Professional | None:
        """The holder of an 11-digit registration number; None if the register has no such number.

        Raises:
            ValueError: not 11 digits (nothing is sent).
        """
        number = number.strip()
        if not _NUMBER.match(number):
            raise ValueError("a registration number is 11 digits")
        response = self.api.request("GET", f"/professionals/{number}", accept={404}, business_ids={"registration_number": number})
        return None if response.status_code == 404 else self.api.decode(response, Professional)

    def by_name_and_birth_date(self, last_name: str, first_name: str, birth_date: date) -> list[Professional]:
        """Everyone registered with this surname, a first name among their first names, and this birth date."""
        return self.api.request_model(
            list[Professional],
            "GET",
            "/professionals",
            params={"last_name": last_name.strip(), "first_name": first_name.strip(), "birth_date": birth_date.isoformat()},
        )


def _map_error(response: httpx.Response, details: ErrorDetails) -> AutomationError | None:
    if response.status_code in (401, 403):
        return ValviraAuthenticationError(f"{SYSTEM}: the register refused the API key ({response.status_code})", **details)
    return None
