"""The person vault's interface: where a process finds a person's henkilötunnus, lawfully.

Suomi.fi Messages addresses people by henkilötunnus, but the city's systems hold only a key of it
(Koha's ``SOTU`` attribute is ``schemas.hetu.hetu_key(hetu, salt)``, as Finnish Koha installations
keep it). A process that starts from such a system (reminders, overdue notices) looks the person up
in the vault by that key. The vault holds the henkilötunnus and what is needed to reach the person
(their language, who acts for them), fed by the processes that had the code for a lawful purpose:
the e-service's library-card application and HR's employment start.

Rules every implementation keeps:

- the person's key is ``hetu_key(hetu, salt)`` with the installation's salt, the key Koha holds;
- :meth:`PersonVault.read` needs a stated purpose and an actor, and records both in the access log
  (``kuntaflow.workitems.AccessLog``) before handing anything over; without a purpose it raises
  :class:`PurposeRequiredError` and nothing is read;
- each person carries the relationships they were stored for (:class:`Relation`): the retention check
  removes a person none of whose relationships is live any more;
- nothing here ever puts a henkilötunnus into a ``repr``, a log line or an error message.

Kuntaflow's own vault is ``kuntaflow.person_vault.SealedPersonVault`` (sealed with the queue's payload
key, in the queue's database). A city that has a vault of its own writes a connector with these methods
and names its factory in ``KUNTAFLOW_PERSON_VAULT_FACTORY`` (``docs/person-vault.md``); the models live here,
below every layer, so such a connector can use them.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime
from enum import StrEnum
from typing import Protocol, runtime_checkable

from pydantic import BaseModel, ConfigDict, Field

from schemas.hetu import Hetu
from schemas.library_card import Language

#: Longest relationship kind and reference kept (the vault's columns).
MAX_KIND_LENGTH = 32
MAX_REF_LENGTH = 128


class RelationKind(StrEnum):
    """The relationships Kuntaflow's processes store people for; each has a retention check."""

    #: A case in the work-item queue; ``ref`` is the item id. Live while the item is not finished, or
    #: finished less than ``KUNTAFLOW_PAYLOAD_RETENTION_DAYS`` ago (its payload still holds the code).
    WORK_ITEM = "work_item"
    #: A library patron in Koha; ``ref`` is the patron id. Live while Koha has a patron with the
    #: person's key whose card has not expired.
    LIBRARY_PATRON = "library_patron"
    #: A person in HR; ``ref`` is the HR employee id. Live while HR lists an employment of theirs that
    #: is registered, approved, transferred to payroll or active.
    EMPLOYEE = "employee"


class VaultError(Exception):
    """The vault cannot do what was asked; the message never holds a henkilötunnus."""


class PurposeRequiredError(VaultError, ValueError):
    """A read without a stated purpose (or without the actor who reads) is refused."""


class Relation(BaseModel):
    """Why the vault holds a person: one relationship with the city, and its lawful purpose."""

    model_config = ConfigDict(frozen=True)

    kind: str = Field(min_length=1, max_length=MAX_KIND_LENGTH, description="A RelationKind, or a city's own kind with a retention check of its own.")
    ref: str = Field(min_length=1, max_length=MAX_REF_LENGTH, description="The relationship's id in its system (work item, patron, employee).")
    process: str = Field(min_length=1, max_length=64, description="The process that stored the person.")
    purpose: str = Field(min_length=1, max_length=500, description="The lawful purpose the person is kept for, as the access log shows it.")


class PersonDetails(BaseModel):
    """What the vault keeps about a person, sealed: the henkilötunnus and how to reach them."""

    model_config = ConfigDict(frozen=True, hide_input_in_errors=True)

    hetu: Hetu = Field(repr=False)
    language: Language = Field(default=Language.FI, description="The language to write to them in.")
    guardian_key: str | None = Field(
        default=None, max_length=64, description="The key of the person who acts for them (a child's guardian), who is in the vault too."
    )


class VaultEntry(BaseModel):
    """A person as the retention check sees them: the key and the relationships, never the code."""

    model_config = ConfigDict(frozen=True)

    key: str
    guardian_key: str | None = None
    relations: tuple[Relation, ...] = ()
    stored_at: datetime
    updated_at: datetime


class VaultPerson(PersonDetails):
    """A person as :meth:`PersonVault.read` hands them over (after the read was logged)."""

    key: str
    relations: tuple[Relation, ...] = ()


@runtime_checkable
class PersonVault(Protocol):
    """What a process, the retention check and a city's own vault connector agree on."""

    def key_for(self, hetu: Hetu | str) -> str:
        """The person's key: ``hetu_key(hetu, salt)`` with this installation's salt, as Koha holds it."""
        ...

    def store(self, person: PersonDetails, *, relations: Sequence[Relation], actor: str) -> str:
        """Keep the person (replacing their details if known) with these relationships added; return their key.

        Idempotent: storing the same person and relationship again changes nothing but the time. Recorded
        in the access log (action ``vault_store``) with the relationships' purposes.

        Raises:
            VaultError: no relationship or no actor (nothing is stored).
        """
        ...

    def read(self, key: str, *, purpose: str, actor: str, process: str | None = None) -> VaultPerson | None:
        """The person with this key, or None; every call is recorded in the access log first.

        Raises:
            PurposeRequiredError: no purpose or no actor; nothing is read or recorded.
        """
        ...

    def entries(self) -> Iterator[VaultEntry]:
        """Every person's key and relationships (no henkilötunnus), for the retention check."""
        ...

    def forget(self, key: str, *, reason: str, actor: str) -> bool:
        """Remove the person and their relationships; recorded in the access log. False: not there."""
        ...

    def close(self) -> None:
        """Release what the vault holds (connections)."""
        ...
