"""The vault's retention rule: a person stays only while they have a live relationship with the city.

For each person the vault holds, each of their relationships is asked whether it is still live, by
the check registered for its kind (``RelationCheck``):

- ``work_item``: the item is not finished (NEW, IN_PROGRESS, APPLICATION_FAILED), or finished
  (DONE, BUSINESS_FAILED, ABANDONED) less than ``payload_retention_days`` ago, while its own payload
  still holds the henkilötunnus and staff may still retry it (:class:`LiveWorkItems`, here);
- ``library_patron``: Koha has a patron with the person's key whose card has not expired
  (``processes.library_card.retention``);
- ``employee``: HR lists an employment of theirs that is registered, approved, transferred to
  payroll or active (``processes.employment_start.retention``).

A person is kept when any relationship is live, when a relationship cannot be checked (no check for
its kind, or its system did not answer: reported, never guessed), and when they are the guardian of a
person who is kept (a child is reached through their guardian). Everyone else is removed, each removal
in the access log with the reason. Running it twice removes nothing more.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import select

from connectors.errors import AutomationError
from kuntaflow.workitems import ItemState, WorkQueueError
from kuntaflow.workitems.errors import first_line
from kuntaflow.workitems.migrate import QueueDatabase
from kuntaflow.workitems.schema import work_items
from schemas.person_vault import PersonVault, Relation, RelationKind, VaultEntry

#: Is this relationship of this person still live? Raises a connector or queue error when its system cannot tell.
RelationCheck = Callable[[VaultEntry, Relation], bool]

REMOVAL_REASON = "säilytysaika: henkilöllä ei ole enää voimassa olevaa asiakas- tai palvelussuhdetta (retention: no live relationship)"


@dataclass
class RetentionReport:
    """What one retention run did: counts, never a henkilötunnus (keys only where a test needs them)."""

    checked: int = 0
    kept: int = 0
    removed: list[str] = field(default_factory=list)
    kept_as_guardian: int = 0
    unchecked_kinds: Counter[str] = field(default_factory=Counter)
    errors: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        lines = [f"{self.checked} people checked: {self.kept} kept ({self.kept_as_guardian} as a guardian), {len(self.removed)} removed"]
        lines += [f"kept unchecked: {count} relationships of kind {kind!r} have no retention check" for kind, count in sorted(self.unchecked_kinds.items())]
        lines += [f"kept, not decided: {error}" for error in self.errors]
        return lines


def apply_retention(vault: PersonVault, checks: Mapping[str, RelationCheck], *, actor: str) -> RetentionReport:
    """Remove from ``vault`` every person without a live relationship (module docstring); return the report."""
    report = RetentionReport()
    entries = {entry.key: entry for entry in vault.entries()}
    report.checked = len(entries)
    kept = {key for key, entry in entries.items() if _keep(entry, checks, report)}
    guardians = set()
    pending = list(kept)
    while pending:  # a kept person's guardian is kept, and theirs in turn
        guardian = entries[pending.pop()].guardian_key
        if guardian in entries and guardian not in kept:
            kept.add(guardian)
            guardians.add(guardian)
            pending.append(guardian)
    report.kept, report.kept_as_guardian = len(kept), len(guardians)
    for key in sorted(entries.keys() - kept):
        vault.forget(key, reason=REMOVAL_REASON, actor=actor)
        report.removed.append(key)
    return report


def _keep(entry: VaultEntry, checks: Mapping[str, RelationCheck], report: RetentionReport) -> bool:
    """True when a relationship is live or cannot be checked."""
    for relation in entry.relations:
        check = checks.get(relation.kind)
        if check is None:
            report.unchecked_kinds[relation.kind] += 1
            return True
        try:
            if check(entry, relation):
                return True
        except (AutomationError, WorkQueueError) as error:
            report.errors.append(f"{relation.kind} {relation.ref}: {first_line(error)}")
            return True
    return False


class LiveWorkItems(QueueDatabase):
    """The ``work_item`` check on the queue's database: is the item unfinished, or finished recently?

    Reads the item's state and last change only; no payload is opened.
    """

    def __init__(self, url: str, *, retention: timedelta, now: datetime) -> None:
        self.finished_before = now - retention
        super().__init__(url)

    def __call__(self, entry: VaultEntry, relation: Relation) -> bool:
        if relation.kind != RelationKind.WORK_ITEM or not relation.ref.isdigit():
            return False
        c = work_items.c
        with self._tx() as conn:
            row = conn.execute(select(c.state, c.updated_at).where(c.id == int(relation.ref))).first()
        if row is None:
            return False
        if not ItemState(row.state).is_final:
            return True
        updated = row.updated_at if row.updated_at.tzinfo else row.updated_at.replace(tzinfo=self.finished_before.tzinfo)
        return updated >= self.finished_before
