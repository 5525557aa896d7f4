"""Seed data for the Suomi.fi Messages sandbox: the organisation's credentials and the test citizens.

The citizens are the sandbox's notion of "who has an active Suomi.fi mailbox": every person with a
hetu in :mod:`connectors.sandbox_people` (the people the IdP logs in and the Koha sandbox knows),
with their ``messages_mailbox`` flag, so a library-card case can be followed from login to letter.
Mikko and some generated adults have no active mailbox, so the paper-mail fallback is exercised;
children never have one (a Suomi.fi mailbox needs the holder to be at least 15, and ours are
younger).
"""

from __future__ import annotations

from dataclasses import dataclass

from connectors.sandbox_people import Population, named_population


@dataclass(frozen=True, repr=False)
class TestCitizen:
    """A person the Messages sandbox knows: a test hetu, a name, whether the mailbox is active.

    ``person_key`` is the shared population's key (``/_sandbox/people/{person_key}`` finds the
    mailbox page); None for someone only this sandbox knows.
    """

    __test__ = False  # not a pytest test class, despite the name

    hetu: str
    name: str
    active_mailbox: bool
    person_key: str | None = None

    def __repr__(self) -> str:
        return f"TestCitizen(name={self.name!r}, active_mailbox={self.active_mailbox})"


def citizens_of(people: Population) -> tuple[TestCitizen, ...]:
    """The people with a hetu, as citizens (eIDAS users have no Suomi.fi mailbox)."""
    return tuple(TestCitizen(person.hetu, person.display_name, person.messages_mailbox, person.key) for person in people if person.hetu is not None)


TEST_CITIZENS: tuple[TestCitizen, ...] = citizens_of(named_population())
"""The named people only; ``create_app`` serves ``citizens_of(sandbox_population())`` by default."""
