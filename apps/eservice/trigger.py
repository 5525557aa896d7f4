"""Starting the library-card flow the moment an application is in the queue.

The e-service hands every newly queued item to a *trigger*: any callable taking the
:class:`~kuntaflow.workitems.WorkItem`. ``create_app(trigger=…)`` takes one, so tests and
``make run`` can start the flow in-process, and a deployment uses Prefect:

- :class:`BackgroundTaskTrigger` (the default) hands the item's id to the warm path: the background
  task ``flows.library_card.decide_application``, which a Prefect task worker runs at once, so the
  application is decided while the citizen waits (no flow-run process starts). It does so off the
  request thread, and not at all when a robot already at work takes the item first.
- :class:`PrefectEventTrigger` emits ``kuntaflow.library_card.submitted`` about the resource
  ``kuntaflow.workitem.<id>``; the ``library-card`` deployment's event trigger starts a run.
- :class:`DeploymentRunTrigger` creates a run of the ``library-card`` deployment directly, when one exists.
- :class:`BackgroundFlowTrigger` runs a function (e.g. the flow itself) in a background thread.

A trigger that fails does not fail the citizen's submission: the item is safely queued and the
deployment's schedule picks it up. Triggers send ids only, never personal data.
"""

from __future__ import annotations

import contextvars
import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from contextlib import ExitStack
from typing import Any, Protocol

from kuntaflow.prefect_deploy import CONCURRENCY_LIMITS
from kuntaflow.settings import KuntaflowSettings
from kuntaflow.workitems import ItemState, WorkItem, WorkQueue
from schemas.library_card import PROCESS

logger = logging.getLogger("apps.eservice.trigger")

SUBMITTED_EVENT = f"kuntaflow.{PROCESS}.submitted"


class Trigger(Protocol):
    """Told about each newly queued application."""

    def __call__(self, item: WorkItem) -> None: ...


def workitem_resource(item: WorkItem) -> dict[str, str]:
    """The Prefect resource naming a work item: ids and the process, nothing personal."""
    return {"prefect.resource.id": f"kuntaflow.workitem.{item.id}", "kuntaflow.process": item.process}


class PrefectEventTrigger:
    """Emit a Prefect event; an automation or the deployment's trigger starts the flow."""

    def __init__(self, event: str = SUBMITTED_EVENT) -> None:
        self.event = event

    def __call__(self, item: WorkItem) -> None:
        from prefect.events import emit_event  # noqa: PLC0415 (prefect takes seconds to import; only a trigger that fires needs it)

        emit_event(event=self.event, resource=workitem_resource(item))


#: How long a new item is left for a lingering robot (it looks every 0.2 s) before the warm path's
#: background task is asked for; flows.robot_task.WARM_ROBOT_GRACE_SECONDS is the same wait there.
WARM_ROBOT_GRACE_SECONDS = 0.3
#: Task runs waiting at once for items still NEW: as many as robots may decide applications at once.
WARM_ROBOTS = CONCURRENCY_LIMITS["koha"]


class BackgroundTaskTrigger:
    """Hand the item's id to the warm path's background task (``decide_application.delay(item_id)``),
    from a thread of its own, and only if no robot at work has taken the item meanwhile.

    Why not on the request thread, not for every item: a background task run costs Prefect several times
    the CPU of the robot's own work on the application (a client with its TLS context, the parameters
    in result storage, the run's states on the server and on the task worker; bench/README.md), and
    when robots are lingering, which is when
    applications arrive close together, they take the item within ``grace_seconds`` and the run would
    only find it gone. So the citizen's POST is answered at once; the handing-over thread waits out the
    grace and reads the states of the items due. While robots are behind (items still NEW), no more
    than ``in_flight`` task runs wait at once, for the newest items: a run starts a robot if a ``koha``
    slot is free, and more runs than robots may run would only wait for slots, on CPU the robots need.
    The rest are claimed in order by the robots at work (or the deployment's schedule).

    With no task worker running the task run waits in Prefect, and the item in the queue for the
    deployment's schedule; an item not handed over when the e-service stops waits for the schedule too.
    """

    def __init__(self, queue: WorkQueue | None = None, *, grace_seconds: float = WARM_ROBOT_GRACE_SECONDS, in_flight: int = WARM_ROBOTS) -> None:
        self._queue = queue
        self.grace_seconds = grace_seconds
        self.in_flight = in_flight
        self._handed: list[int] = []  # items handed over whose task run may still be waiting (they were NEW)
        self._due: deque[tuple[int, float]] = deque()  # (item id, when to look), in order
        self._changed = threading.Condition()
        self._busy = 0  # items taken off ``_due`` and not yet handed over
        self._thread: threading.Thread | None = None
        self._context = contextvars.copy_context()  # Prefect's settings (a test server's URL) live in context variables
        self.submitted = 0
        self.taken_already = 0
        self.left_to_robots = 0

    def __call__(self, item: WorkItem) -> None:
        with self._changed:
            self._due.append((item.id, time.monotonic() + self.grace_seconds))
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=lambda: self._context.copy().run(self._hand_over), name="warm-path-trigger", daemon=True)
                self._thread.start()
            self._changed.notify_all()

    def _hand_over(self) -> None:
        from flows.library_card import decide_application  # noqa: PLC0415 (prefect takes seconds to import; only a trigger that fires needs it)

        with ExitStack() as owned:
            queue = self._queue or owned.enter_context(KuntaflowSettings().work_queue())
            while True:
                with self._changed:
                    while not self._due:
                        self._changed.wait()
                    first_due = self._due[0][1]
                time.sleep(max(first_due - time.monotonic(), 0))
                with self._changed:  # every item due by now, its state read in one go
                    now = time.monotonic()
                    batch = []
                    while self._due and self._due[0][1] <= now:
                        batch.append(self._due.popleft()[0])
                    self._busy = len(batch)
                try:
                    self._submit_new(batch, queue, decide_application)
                finally:
                    with self._changed:
                        self._busy = 0
                        self._changed.notify_all()

    def _submit_new(self, item_ids: list[int], queue: WorkQueue, decide_application: Any) -> None:
        try:
            new = {item.id for item in queue.get_many([*self._handed, *item_ids]) if item.state is ItemState.NEW}
        except Exception as error:  # the queue unreadable: hand the items over; each task looks again
            logger.warning("Could not read %s work items' states (%s); handing them over.", len(item_ids), type(error).__name__)
            new = set(item_ids)
        self._handed = [item_id for item_id in self._handed if item_id in new]
        still_new = [item_id for item_id in item_ids if item_id in new]
        chosen = still_new[max(len(still_new) - (self.in_flight - len(self._handed)), 0) :]
        self.taken_already += len(item_ids) - len(still_new)
        self.left_to_robots += len(still_new) - len(chosen)
        for item_id in chosen:
            try:
                decide_application.delay(item_id)
                self.submitted += 1
                self._handed.append(item_id)
            except Exception as error:
                logger.warning("Could not start the flow for work item %s (%s); the schedule will pick it up.", item_id, type(error).__name__)

    def wait_idle(self, timeout: float | None = None) -> bool:
        """True once every item given so far has been handed over or found taken, within ``timeout`` seconds."""
        with self._changed:
            return self._changed.wait_for(lambda: not self._due and not self._busy, timeout)


class DeploymentRunTrigger:
    """Create a run of a deployment (``<flow>/<deployment>``) without waiting for it.

    A Prefect without that deployment (a laptop before ``prefect deploy``) is not an error: the
    run is skipped with a log line.
    """

    def __init__(self, name: str = "library-card/library-card") -> None:
        self.name = name

    def __call__(self, item: WorkItem) -> None:
        from prefect.deployments import run_deployment  # noqa: PLC0415 (prefect takes seconds to import; only a trigger that fires needs it)
        from prefect.exceptions import ObjectNotFound  # noqa: PLC0415 (prefect takes seconds to import; only a trigger that fires needs it)

        try:
            run_deployment(self.name, timeout=0, as_subflow=False, tags=["eservice"], idempotency_key=f"kuntaflow-workitem-{item.id}")
        except ObjectNotFound:
            logger.info("No Prefect deployment %s: work item %s waits for the schedule.", self.name, item.id)


class BackgroundFlowTrigger:
    """Run ``target()`` in a background thread, once at a time.

    Submissions during a run are coalesced into one more run after it, so a burst of
    applications starts at most two runs and none is left waiting. :meth:`wait_idle` lets tests
    and shutdown wait for the work to finish. ``target`` runs in a copy of the context the
    trigger was made in (Prefect keeps its settings, e.g. a test server's URL, in context
    variables, which a new thread would not see).
    """

    def __init__(self, target: Callable[[], object], *, name: str = "library-card-flow") -> None:
        self._target = target
        self._context = contextvars.copy_context()
        self._name = name
        self._lock = threading.Lock()
        self._idle = threading.Event()
        self._idle.set()
        self._again = False
        self._thread: threading.Thread | None = None
        self.runs = 0
        self.errors: list[str] = []

    def __call__(self, item: WorkItem) -> None:
        with self._lock:
            if self._thread is not None and self._thread.is_alive():
                self._again = True
                return
            self._idle.clear()
            self._thread = threading.Thread(target=self._loop, name=self._name, daemon=True)
            self._thread.start()

    def _loop(self) -> None:
        while True:
            try:
                self._context.copy().run(self._target)
            except Exception as error:  # the flow's own failures are in Prefect; keep the type only
                self.errors.append(type(error).__name__)
                logger.warning("The in-process %s run failed: %s", self._name, type(error).__name__)
            finally:
                self.runs += 1
            with self._lock:
                if not self._again:
                    self._thread = None
                    self._idle.set()
                    return
                self._again = False

    def wait_idle(self, timeout: float | None = None) -> bool:
        """True once no run is going (or pending) within ``timeout`` seconds."""
        return self._idle.wait(timeout)


class Triggers:
    """Several triggers in order; one failing does not stop the others."""

    def __init__(self, triggers: Sequence[Trigger]) -> None:
        self.triggers = tuple(triggers)

    def __call__(self, item: WorkItem) -> None:
        for trigger in self.triggers:
            fire(trigger, item)


def fire(trigger: Trigger, item: WorkItem) -> bool:
    """Call ``trigger``; a failure is logged by type only (no personal data) and swallowed."""
    try:
        trigger(item)
    except Exception as error:
        logger.warning("Could not start the flow for work item %s (%s); the schedule will pick it up.", item.id, type(error).__name__)
        return False
    return True


def trigger_from_settings(kind: str, deployment_name: str, queue: WorkQueue | None = None) -> Trigger:
    """The trigger ``KUNTAFLOW_ESERVICE_TRIGGER`` names; ``queue``: where the warm path's trigger reads
    whether a robot has taken an item (default: the queue the engine's settings name)."""
    match kind:
        case "task":
            return BackgroundTaskTrigger(queue)
        case "event":
            return PrefectEventTrigger()
        case "deployment":
            return DeploymentRunTrigger(deployment_name)
        case "event_and_deployment":
            return Triggers([PrefectEventTrigger(), DeploymentRunTrigger(deployment_name)])
        case "none":
            return Triggers([])
    raise ValueError(f"unknown trigger {kind!r}; use task, event, deployment, event_and_deployment or none")
