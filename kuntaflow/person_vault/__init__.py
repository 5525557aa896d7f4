"""The person vault: a person's henkilötunnus where processes can reach it lawfully (README.md here).

The interface (``PersonVault`` and its models) is ``schemas.person_vault``; Kuntaflow's own vault is
:class:`SealedPersonVault`; the retention rule is :func:`apply_retention`.
"""

from kuntaflow.person_vault.retention import REMOVAL_REASON, LiveWorkItems, RelationCheck, RetentionReport, apply_retention
from kuntaflow.person_vault.vault import SealedPersonVault, VaultHetuSource, vault_from_factory
from schemas.person_vault import (
    PersonDetails,
    PersonVault,
    PurposeRequiredError,
    Relation,
    RelationKind,
    VaultEntry,
    VaultError,
    VaultPerson,
)

__all__ = [
    "REMOVAL_REASON",
    "LiveWorkItems",
    "PersonDetails",
    "PersonVault",
    "PurposeRequiredError",
    "Relation",
    "RelationCheck",
    "RelationKind",
    "RetentionReport",
    "SealedPersonVault",
    "VaultEntry",
    "VaultError",
    "VaultHetuSource",
    "VaultPerson",
    "apply_retention",
    "vault_from_factory",
]
