"""Seed data for the Suomi.fi Messages sandbox: the organisation's credentials and the test citizens.

The citizens are the sandbox's notion of "who has an active Suomi.fi mailbox". They are the same
people the other sandboxes know (the Koha seed, the Suomi.fi e-Identification test persons), so a
library-card case can be followed from login to letter. At least one adult has no active mailbox,
so the paper-mail fallback is exercised; children never have one (a Suomi.fi mailbox needs the
holder to be at least 15, and ours are younger).
"""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import SecretStr

SANDBOX_USERNAME = "kuntaflow-sandbox"
SANDBOX_PASSWORD = SecretStr("Sandbox-Viestit-Password-2026-0123456789!")
SANDBOX_SERVICE_ID = "kuntaflow-sandbox-kirjasto"
SANDBOX_POSTI_USERNAME = "KFLOW1"
SANDBOX_POSTI_PASSWORD = SecretStr("1234")
SANDBOX_CONTACT_EMAIL = "viestit@kuntaflow.example"


@dataclass(frozen=True, repr=False)
class TestCitizen:
    """A test person: a valid test hetu (individual number 900-999), a name and a home address."""

    hetu: str
    name: str
    street_address: str
    zip_code: str
    city: str
    active_mailbox: bool

    def __repr__(self) -> str:
        return f"TestCitizen(name={self.name!r}, active_mailbox={self.active_mailbox})"


TEST_CITIZENS: tuple[TestCitizen, ...] = (
    TestCitizen("150385-9046", "Aino Virtanen", "Kauppakatu 12 A 3", "40100", "Jyväskylä", active_mailbox=True),
    TestCitizen("210281-9988", "Nordea Demo", "Nordeatie 2", "00120", "Helsinki", active_mailbox=True),
    TestCitizen("070779-912Y", "Mikko Korhonen", "Keskustie 5", "44100", "Äänekoski", active_mailbox=False),
    TestCitizen("120318A916B", "Eetu Korhonen", "Keskustie 5", "44100", "Äänekoski", active_mailbox=False),
)
