"""Kuntaflow's own person vault: the henkilötunnus sealed with the payload key, in the queue's database.

Table ``kf_person_vault`` has one row per person under their salted key (``hetu_key``, the key Koha
holds): the henkilötunnus, language and guardian's key as one Fernet token sealed with the queue's
payload key (``KUNTAFLOW_PAYLOAD_KEY``), the guardian's key also in the clear for the retention check.
``kf_person_relations`` lists why each person is kept (a work item, a library card, an employment),
each with its lawful purpose. Every store, read and removal is recorded in the access log
(``kf_access_log``) in the same transaction as the act; a read without a purpose is refused.
"""

from __future__ import annotations

import importlib
import json
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from cryptography.fernet import Fernet, InvalidToken
from pydantic import SecretStr
from sqlalchemy import delete, select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from kuntaflow.workitems import SubjectKind
from kuntaflow.workitems.access_log import entry_row, write_entry
from kuntaflow.workitems.migrate import QueueDatabase
from kuntaflow.workitems.schema import person_relations, person_vault
from schemas.hetu import Hetu, hetu_key
from schemas.person_vault import PersonDetails, PersonVault, PurposeRequiredError, Relation, VaultEntry, VaultError, VaultPerson
from schemas.redaction import HETU_PATTERN

if TYPE_CHECKING:
    from kuntaflow.settings import KuntaflowSettings

#: People read per query by :meth:`SealedPersonVault.entries`.
PAGE = 500


class SealedPersonVault(QueueDatabase):
    """The person vault in the queue's database at ``url`` (a ``schemas.person_vault.PersonVault``).

    Args:
        url: the queue's database.
        sealing_key: the queue's Fernet payload key (``KuntaflowSettings.sealing_key()``).
        salt: the hetu-key salt (``KuntaflowSettings.salt()``), the one Koha's keys were made with.

    Raises:
        QueueUnavailableError: the database cannot be reached or migrated.
    """

    def __init__(self, url: str, *, sealing_key: SecretStr, salt: SecretStr) -> None:
        self._cipher = Fernet(sealing_key.get_secret_value().encode())
        self._salt = salt
        super().__init__(url)

    def key_for(self, hetu: Hetu | str) -> str:
        return hetu_key(hetu, self._salt)

    # ------------------------------------------------------------------ writing

    def store(self, person: PersonDetails, *, relations: Sequence[Relation], actor: str) -> str:
        """Keep the person with these relationships added; return their key (see ``PersonVault.store``).

        Raises:
            VaultError: no relationship, no actor, or a guardian key that is not a key.
        """
        if not relations:
            raise VaultError("the vault keeps a person only for a relationship; name at least one")
        if person.guardian_key is not None and HETU_PATTERN.search(person.guardian_key):
            raise VaultError("the guardian is named by their key (hetu_key), never by their henkilötunnus")
        key = self.key_for(person.hetu)
        purposes = "; ".join(dict.fromkeys(relation.purpose for relation in relations))
        entry = _entry(actor, "vault_store", key, purposes, relations[0].process)
        now = datetime.now(UTC)
        sealed = self._cipher.encrypt(json.dumps(person.model_dump(mode="json"), separators=(",", ":")).encode()).decode()
        insert = postgresql_insert if self._is_postgres else sqlite_insert
        with self._tx() as conn:
            write_entry(conn, entry)
            conn.execute(
                insert(person_vault)
                .values(person_key=key, sealed=sealed, guardian_key=person.guardian_key, created_at=now, updated_at=now)
                .on_conflict_do_update(index_elements=["person_key"], set_={"sealed": sealed, "guardian_key": person.guardian_key, "updated_at": now})
            )
            for relation in relations:
                values = {"process": relation.process, "purpose": relation.purpose, "recorded_at": now}
                conn.execute(
                    insert(person_relations)
                    .values(person_key=key, kind=relation.kind, ref=relation.ref, **values)
                    .on_conflict_do_update(index_elements=["person_key", "kind", "ref"], set_=values)
                )
        return key

    def forget(self, key: str, *, reason: str, actor: str) -> bool:
        """Remove the person and their relationships, recording why in the access log in the same transaction."""
        entry = _entry(actor, "vault_forget", key, reason, None)
        with self._tx() as conn:
            write_entry(conn, entry)
            conn.execute(delete(person_relations).where(person_relations.c.person_key == key))
            return conn.execute(delete(person_vault).where(person_vault.c.person_key == key)).rowcount > 0

    # ------------------------------------------------------------------ reading

    def read(self, key: str, *, purpose: str, actor: str, process: str | None = None) -> VaultPerson | None:
        """The person with this key, or None; the read is recorded in the access log in the same transaction,
        so nothing is handed over unless the entry is written.

        Raises:
            PurposeRequiredError: no purpose or no actor; nothing is read or recorded.
            VaultError: the person's record cannot be opened with this payload key.
        """
        entry = _entry(actor, "vault_read", key, purpose, process)
        with self._tx() as conn:
            write_entry(conn, entry)
            row = conn.execute(select(person_vault.c.sealed).where(person_vault.c.person_key == key)).first()
            relations = conn.execute(select(person_relations).where(person_relations.c.person_key == key).order_by(person_relations.c.recorded_at)).all()
        if row is None:
            return None
        try:
            details = json.loads(self._cipher.decrypt(row.sealed.encode()))
        except InvalidToken:
            raise VaultError(f"the vault's record of person {key[:8]}… cannot be opened with this KUNTAFLOW_PAYLOAD_KEY") from None
        return VaultPerson(key=key, relations=tuple(_relation(r) for r in relations), **details)

    def entries(self) -> Iterator[VaultEntry]:
        """Every person's key, guardian's key and relationships, a page at a time; nothing is unsealed."""
        after = ""
        while True:
            with self._tx() as conn:
                people = conn.execute(select(person_vault).where(person_vault.c.person_key > after).order_by(person_vault.c.person_key).limit(PAGE)).all()
                keys = [person.person_key for person in people]
                relations: dict[str, list[Relation]] = {}
                for row in conn.execute(select(person_relations).where(person_relations.c.person_key.in_(keys)).order_by(person_relations.c.recorded_at)):
                    relations.setdefault(row.person_key, []).append(_relation(row))
            for person in people:
                yield VaultEntry(
                    key=person.person_key,
                    guardian_key=person.guardian_key,
                    relations=tuple(relations.get(person.person_key, ())),
                    stored_at=_utc(person.created_at),
                    updated_at=_utc(person.updated_at),
                )
            if len(people) < PAGE:
                return
            after = keys[-1]


def _entry(actor: str, action: str, key: str, purpose: str, process: str | None) -> dict[str, Any]:
    """The access-log entry of one act of the vault, written in the act's transaction; refuses a missing actor or purpose."""
    if HETU_PATTERN.search(key):
        raise VaultError("the vault looks people up by their key (hetu_key), never by their henkilötunnus")
    if not actor.strip():
        raise PurposeRequiredError("the vault needs the person or process that acts, for the access log")
    if not purpose.strip():
        raise PurposeRequiredError("state why the person's data is needed; the purpose goes into the access log")
    return entry_row(actor=actor, action=action, subject_kind=SubjectKind.PERSON, subject_id=key, purpose=purpose, process=process)


class VaultHetuSource:
    """A person vault as the henkilötunnus source of a process that knows people by their hetu key only
    (a reminder that starts from Koha): ``hetu_for(key, purpose=)`` reads the vault as ``actor`` for ``process``,
    so every look is in the access log with its purpose; None when the vault holds nobody with that key."""

    def __init__(self, vault: PersonVault, *, actor: str, process: str | None = None) -> None:
        self.vault = vault
        self.actor = actor
        self.process = process

    def hetu_for(self, hetu_key: str, *, purpose: str) -> Hetu | None:
        """Raises: PurposeRequiredError (no purpose), VaultError (a henkilötunnus given as the key)."""
        person = self.vault.read(hetu_key, purpose=purpose, actor=self.actor, process=self.process)
        return person.hetu if person is not None else None


def _relation(row: Any) -> Relation:
    return Relation(kind=row.kind, ref=row.ref, process=row.process, purpose=row.purpose)


def _utc(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def vault_from_factory(spec: str, settings: KuntaflowSettings) -> PersonVault:
    """A city's own vault from ``package.module:factory``, called with the engine's settings.

    Raises:
        VaultError: the module or factory cannot be found, or what it gives is not a PersonVault.
    """
    module_name, _, name = spec.partition(":")
    try:
        factory = getattr(importlib.import_module(module_name), name)
    except (ImportError, AttributeError) as error:
        raise VaultError(f"KUNTAFLOW_PERSON_VAULT_FACTORY {spec!r} cannot be loaded: {error}") from None
    vault = factory(settings)
    if not isinstance(vault, PersonVault):
        raise VaultError(f"KUNTAFLOW_PERSON_VAULT_FACTORY {spec!r} gave a {type(vault).__name__}, not a PersonVault (schemas/person_vault.py)")
    return vault
