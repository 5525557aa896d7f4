"""The durable work-item queue: ``WorkQueue``, ``WorkItem``, ``ItemState``, its errors, its migrations, its shared engines and the access log."""

from kuntaflow.workitems.access_log import AccessEntry, AccessLog, SubjectKind
from kuntaflow.workitems.engines import dispose_engines
from kuntaflow.workitems.errors import (
    InvalidTransitionError,
    ItemChangedError,
    ItemNotFoundError,
    LeaseLostError,
    MigrationError,
    PayloadError,
    QueueUnavailableError,
    WorkQueueError,
)
from kuntaflow.workitems.migrate import current_revision, upgrade_database
from kuntaflow.workitems.models import (
    AddedItem,
    AuditEntry,
    ItemFilter,
    ItemPage,
    ItemState,
    ItemSummary,
    NotedStep,
    StateSummary,
    WorkItem,
    waiting_states,
    waits_for_a_person,
)
from kuntaflow.workitems.queue import WorkQueue, exponential_backoff

__all__ = [
    "AccessEntry",
    "AccessLog",
    "AddedItem",
    "AuditEntry",
    "InvalidTransitionError",
    "ItemChangedError",
    "ItemFilter",
    "ItemNotFoundError",
    "ItemPage",
    "ItemState",
    "ItemSummary",
    "LeaseLostError",
    "MigrationError",
    "NotedStep",
    "PayloadError",
    "QueueUnavailableError",
    "StateSummary",
    "SubjectKind",
    "WorkItem",
    "WorkQueue",
    "WorkQueueError",
    "current_revision",
    "dispose_engines",
    "exponential_backoff",
    "upgrade_database",
    "waiting_states",
    "waits_for_a_person",
]
