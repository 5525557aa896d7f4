"""What a robot tells the engine: how a failure is filed, and what became of each work item.

Shared by the robot's ``WorkItems`` library (robots/libraries/WorkItems.py), which writes them,
and the runner, batches and flows, which read them back from ``output.xml`` and the queue. The
values are the words stored in the queue and written to ``output.xml``: they never change.
"""

from __future__ import annotations

from enum import StrEnum

from kuntaflow.workitems import ItemState


class FailureCategory(StrEnum):
    """Which branch of the error hierarchy (connectors/errors.py) a robot failure belongs to.

    The three hierarchy categories are the exception class names Robot Framework prefixes a
    failure with; ``UNEXPECTED`` is anything outside the hierarchy (a library bug, a timeout).
    """

    BUSINESS = "BusinessRuleError"
    TRANSIENT = "TransientError"
    INTEGRATION = "IntegrationError"
    UNEXPECTED = "UnexpectedError"

    @classmethod
    def of_exception(cls, name: str | None) -> FailureCategory | None:
        """The hierarchy category a failure message's exception name is, or None (UNEXPECTED is no class name)."""
        category = cls._value2member_map_.get(name or "")
        return None if category is cls.UNEXPECTED else category


class RobotOutcome(StrEnum):
    """What the robot did with one work item of its batch (its task message counts these)."""

    DONE = "DONE"
    BUSINESS_FAILED = "BUSINESS_FAILED"
    APPLICATION_FAILED = "APPLICATION_FAILED"
    ABANDONED = "ABANDONED"
    #: skipped by the robot: back in the queue for a later run
    RELEASED = "RELEASED"
    #: the item was taken over before its outcome could be saved
    LEASE_LOST = "LEASE_LOST"

    @classmethod
    def of_state(cls, state: ItemState) -> RobotOutcome:
        """The outcome an item's final queue state stands for."""
        return cls(state.value)
