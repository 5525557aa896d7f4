"""Typed, versioned step checkpoints: what a work item records of each side effect it completed.

A checkpoint is stored as JSON on the work item (``WorkQueue.checkpoint(item_id, step, data)``) and
outlives the code that wrote it: an item written before an upgrade is resumed by the code after it.
So each checkpoint is a pydantic model with a ``version``; a stored dict without one (every
checkpoint written before the models existed) is version 0 and is read through the model's
``upgrade``, which by default only stamps the version because the keys have not changed since. A
model whose shape changes raises ``VERSION`` and overrides ``upgrade`` to convert the older dicts.

The stored JSON keeps the keys it always had and adds ``version``, so readers that still take the
dict by key (the Desk, ``kuntaflow queue show``) are not broken by the models.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Mapping
from typing import Any, ClassVar, Self, TypeVar

from pydantic import BaseModel, ConfigDict, model_validator

log = logging.getLogger(__name__)

#: Records a step on the current work item (``WorkItems.save_work_item_checkpoint``, ``WorkQueue.checkpoint`` bound to an item).
SaveCheckpoint = Callable[[str, dict[str, Any]], None]
#: Keeps a step that is harmless to redo until the item's next write (``WorkItems.note_work_item_checkpoint``).
NoteCheckpoint = Callable[[str, dict[str, Any]], None]


class Checkpoint(BaseModel):
    """One step's record. Subclasses name their ``STEP`` and, when their shape changes, raise ``VERSION``."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    STEP: ClassVar[str]
    VERSION: ClassVar[int] = 1
    #: True for a step that changed nothing outside (a rule check, a computation): where the work item
    #: allows it, it is written with the item's next checkpoint or its outcome, in the same transaction,
    #: instead of in one of its own. A robot that dies before then just does the step again. A step
    #: whose record must exist before the next side effect (a lookup that tells "ours" from "someone
    #: else's" afterwards) keeps False.
    REDO_IS_HARMLESS: ClassVar[bool] = False

    version: int = 1

    @model_validator(mode="before")
    @classmethod
    def _read_older(cls, data: Any) -> Any:
        if isinstance(data, Mapping):
            version = int(data.get("version", 0))
            if version < cls.VERSION:
                return cls.upgrade({**data}, version) | {"version": cls.VERSION}
        return data

    @classmethod
    def upgrade(cls, data: dict[str, Any], version: int) -> dict[str, Any]:
        """Convert a dict stored by an older version (0: unversioned) to this version's keys."""
        return data

    @classmethod
    def read(cls, stored: Mapping[str, Mapping[str, Any]], step: str | None = None) -> Self | None:
        """The checkpoint among a work item's stored ones, or None when the step has not been done."""
        data = stored.get(step or cls.STEP)
        return None if data is None else cls.model_validate(data)

    def stored(self) -> dict[str, Any]:
        """The JSON written to the work item: the model's keys and its version."""
        return self.model_dump(mode="json")


C = TypeVar("C", bound=Checkpoint)


class Checkpoints:
    """A work item's checkpoints, read as models and written through ``save`` the moment a step is done.

    ``stored`` is the item's checkpoints as the queue returned them (step → dict); records made here
    are added to it, so a later step of the same attempt sees them. ``note``, when given, takes the
    steps whose model says ``REDO_IS_HARMLESS``: they are written with the item's next write, not on
    their own; without it every step is saved at once.
    """

    def __init__(
        self,
        stored: Mapping[str, Mapping[str, Any]] | None = None,
        save: SaveCheckpoint | None = None,
        *,
        log_saved: bool = True,
        note: NoteCheckpoint | None = None,
    ) -> None:
        self._stored: dict[str, dict[str, Any]] = {step: dict(data) for step, data in (stored or {}).items()}
        self._save = save
        self._note = note
        self._log_saved = log_saved  # off where one step saves a checkpoint per candidate: the count is logged instead

    def get(self, model: type[C], step: str | None = None) -> C | None:
        return model.read(self._stored, step)

    def record(self, checkpoint: Checkpoint, step: str | None = None) -> None:
        """Save the step on the work item, then remember it for this attempt."""
        name = step or checkpoint.STEP
        data = checkpoint.stored()
        if self._save is None:
            raise RuntimeError(f"checkpoint {name}: these checkpoints are read-only")
        if checkpoint.REDO_IS_HARMLESS and self._note is not None:
            self._note(name, data)
        else:
            self._save(name, data)
        self._stored[name] = data
        if self._log_saved:
            log.debug("Checkpoint %s recorded.", name)

    def __contains__(self, step: object) -> bool:
        return step in self._stored

    def steps(self, prefix: str) -> Iterator[tuple[str, dict[str, Any]]]:
        """The stored steps whose names start with ``prefix`` (e.g. one per service-desk request), in stored order."""
        return ((step, data) for step, data in self._stored.items() if step.startswith(prefix))

    def as_dict(self) -> dict[str, dict[str, Any]]:
        return {step: dict(data) for step, data in self._stored.items()}
