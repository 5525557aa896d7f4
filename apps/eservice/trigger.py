"""Starting the library-card flow the moment an application is in the queue.

The e-service hands every newly queued item to a *trigger*: any callable taking the
:class:`~kuntaflow.workitems.WorkItem`. ``create_app(trigger=…)`` takes one, so tests and
``make run`` can start the flow in-process, and a deployment uses Prefect:

- :class:`BackgroundTaskTrigger` (the default) hands the item's id to the warm path: the background
  task ``flows.library_card.decide_application``, which a Prefect task worker runs at once, so the
  application is decided while the citizen waits (no flow-run process starts).
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
from collections.abc import Callable, Sequence
from typing import Protocol

from kuntaflow.workitems import WorkItem
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


class BackgroundTaskTrigger:
    """Submit the warm path's background task for the item (``decide_application.delay(item_id)``).

    Its only parameter is the item's id. With no task worker running the task run waits in
    Prefect, and the item in the queue for the deployment's schedule.
    """

    def __call__(self, item: WorkItem) -> None:
        from flows.library_card import decide_application  # noqa: PLC0415 (prefect takes seconds to import; only a trigger that fires needs it)

        decide_application.delay(item.id)


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


def trigger_from_settings(kind: str, deployment_name: str) -> Trigger:
    """The trigger ``KUNTAFLOW_ESERVICE_TRIGGER`` names."""
    match kind:
        case "task":
            return BackgroundTaskTrigger()
        case "event":
            return PrefectEventTrigger()
        case "deployment":
            return DeploymentRunTrigger(deployment_name)
        case "event_and_deployment":
            return Triggers([PrefectEventTrigger(), DeploymentRunTrigger(deployment_name)])
        case "none":
            return Triggers([])
    raise ValueError(f"unknown trigger {kind!r}; use task, event, deployment, event_and_deployment or none")
