"""Errors of the work-item queue. Each names what is wrong; none carries personal data."""


class WorkQueueError(Exception):
    """Base class of queue errors."""


class QueueUnavailableError(WorkQueueError):
    """The queue's database cannot be reached."""


class ItemNotFoundError(WorkQueueError, LookupError):
    """No work item has that id."""


class InvalidTransitionError(WorkQueueError):
    """The item is not in a state that allows the requested change."""


class LeaseLostError(WorkQueueError):
    """The caller no longer holds the item's lease (it expired and another owner took it)."""


class PayloadError(WorkQueueError, ValueError):
    """A payload, output or checkpoint cannot be stored as JSON."""
