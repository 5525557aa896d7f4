"""The durable work-item queue: ``WorkQueue``, ``WorkItem``, ``ItemState`` and its errors."""

from kuntaflow.workitems.errors import (
    InvalidTransitionError,
    ItemNotFoundError,
    LeaseLostError,
    PayloadError,
    QueueUnavailableError,
    WorkQueueError,
)
from kuntaflow.workitems.models import AuditEntry, ItemState, WorkItem
from kuntaflow.workitems.queue import WorkQueue, exponential_backoff

__all__ = [
    "AuditEntry",
    "InvalidTransitionError",
    "ItemNotFoundError",
    "ItemState",
    "LeaseLostError",
    "PayloadError",
    "QueueUnavailableError",
    "WorkItem",
    "WorkQueue",
    "WorkQueueError",
    "exponential_backoff",
]
