"""Errors of the work-item queue. Each names what is wrong; none carries personal data."""

from schemas.redaction import redact


class WorkQueueError(Exception):
    """Base class of queue errors."""


class QueueUnavailableError(WorkQueueError):
    """The queue's database cannot be reached."""


class MigrationError(WorkQueueError):
    """The queue's database cannot be migrated to the revision asked for (e.g. it is at a revision this release does not know)."""


class ItemNotFoundError(WorkQueueError, LookupError):
    """No work item has that id."""


class InvalidTransitionError(WorkQueueError):
    """The item is not in a state that allows the requested change."""


class ItemChangedError(InvalidTransitionError):
    """The item changed since the person acting on it saw it (another person, or a robot); nothing was written."""


class LeaseLostError(WorkQueueError):
    """The caller no longer holds the item's lease (it expired and another owner took it)."""


class PayloadError(WorkQueueError, ValueError):
    """A payload, output or checkpoint cannot be stored as JSON."""


def first_line(exc: BaseException) -> str:
    """A driver error's first line, masked: enough to name the problem, never a row's personal data."""
    return redact(str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__)
