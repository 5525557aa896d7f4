"""The library-card steps' checkpoints, in the order the robot records them.

Each is written the moment its side effect is done and read back on a retry, so the retry skips it
(``processes.checkpoints``). The keys are the ones stored before the models existed; an item
checkpointed then reads the same.
"""

from __future__ import annotations

from datetime import date

from processes.checkpoints import Checkpoint
from processes.notify import MessageSent
from schemas.library_card import ReasonCode


class RulesChecked(Checkpoint):
    """The rules' verdict and the day it was made on, so a retry tomorrow decides as today did.

    Written with the next step's checkpoint: until something has been done on the verdict, checking
    the rules again is harmless.
    """

    STEP = "rules_checked"
    REDO_IS_HARMLESS = True
    reason: ReasonCode
    decided_on: date
    library_name: str


class PatronLookup(Checkpoint):
    """Who Koha knew by the applicant's hetu key before anything was created (None: nobody).

    Saved before the patron is created: a retry that finds a patron by the key then knows it is
    the one an interrupted attempt created, not an earlier card.
    """

    STEP = "patron_lookup"
    existing_patron_id: int | None = None
    existing_library_id: str | None = None


class GuarantorRegistered(Checkpoint):
    """The guardian's patron record, found or registered now as the child's guarantor."""

    STEP = "guarantor_registered"
    patron_id: int
    created: bool


class PatronCreated(Checkpoint):
    """The applicant's new (or adopted) patron record."""

    STEP = "patron_created"
    patron_id: int
    category_id: str
    library_id: str
    expiry_date: date
    guarantor_patron_id: int | None = None


class DecisionSent(MessageSent):
    """How the decision went out (``processes.notify`` records it; ``decision_channel`` before sending)."""

    STEP = "decision_sent"
