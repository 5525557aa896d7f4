"""Robot Framework keywords for working through the batch of work items a flow claimed.

The flow claims the items and starts the robot with their ids and the lease owner in the
environment (``KUNTAFLOW_WORKITEM_IDS``, ``KUNTAFLOW_WORKITEM_OWNER``; the queue itself from
the usual ``KUNTAFLOW_*`` settings). While ``For Each Work Item`` runs, a background thread
renews the batch's leases, and each item's outcome is written to the queue the moment the
item finishes, so a robot killed mid-batch leaves its finished items DONE and the rest for the
flow to release (or, if the flow died too, for their leases to run out).

A robot that has finished its batch can *linger* (``KUNTAFLOW_WORKITEM_LINGER_SECONDS``): it
keeps claiming new items of its process (``KUNTAFLOW_WORKITEM_PROCESS``) one at a time, under the
same lease owner, until nothing new has come for that long, the batch holds
``KUNTAFLOW_WORKITEM_BATCH_LIMIT`` items, or ``KUNTAFLOW_WORKITEM_TAKE_SECONDS`` have passed since
it started. An application queued while a robot is warm is decided without starting a process.
Each id it claims is appended to ``KUNTAFLOW_WORKITEM_CLAIMED_FILE`` the moment it is claimed,
so the runner releases and reports those items too.

A failing item is filed by the error hierarchy's class names (connectors/errors.py), read from
Robot Framework's failure message ``<ExceptionName>: <CODE>: <text>``; a subclass counts as its
base (``DuplicatePatronError`` is a ``BusinessRuleError``):

- ``BusinessRuleError`` → BUSINESS_FAILED with the error's code: a person decides;
- ``TransientError`` and anything unexpected → APPLICATION_FAILED, retried with backoff until
  the item's attempts run out (then ABANDONED);
- ``IntegrationError`` (and other ``PermanentError``\\ s) → APPLICATION_FAILED too, its message
  kept with the class name so the item reads as our bug or contract drift, not an outage.
"""

from __future__ import annotations

import contextlib
import os
import threading
import time
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from robot.api import logger
from robot.api.deco import keyword, library
from robot.errors import ExecutionFailed, ExecutionPassed
from robot.libraries.BuiltIn import BuiltIn

from connectors.errors import AutomationError
from kuntaflow.outcomes import FailureCategory, RobotOutcome
from kuntaflow.robot_runner import FailureMessage, runner_alive
from kuntaflow.settings import KuntaflowSettings
from kuntaflow.workitems import InvalidTransitionError, ItemState, LeaseLostError, NotedStep, WorkItem, WorkQueue, WorkQueueError
from schemas.redaction import redact

#: Robot Framework's message when SIGINT/SIGTERM stops a run (robot/running/signalhandler.py).
_STOPPED_BY_SIGNAL = "Execution terminated by signal"

#: How often a lingering robot looks for a new item. Each look is a claim, a write transaction on
#: SQLite (BEGIN IMMEDIATE), and the e-service's inserts and sessions share that lock: five looks a
#: second per robot, not twenty.
LINGER_POLL_SECONDS = 0.2


class Linger:
    """How long a robot that finished its batch goes on taking new items, from its environment."""

    def __init__(self, environ: dict[str, str] | os._Environ[str] = os.environ) -> None:
        self.process = environ.get("KUNTAFLOW_WORKITEM_PROCESS", "")
        self.seconds = float(environ.get("KUNTAFLOW_WORKITEM_LINGER_SECONDS") or 0)
        self.batch_limit = int(environ.get("KUNTAFLOW_WORKITEM_BATCH_LIMIT") or 0)
        self.take_seconds = float(environ.get("KUNTAFLOW_WORKITEM_TAKE_SECONDS") or 0)
        self.claimed_file = environ.get("KUNTAFLOW_WORKITEM_CLAIMED_FILE", "")
        self.started = time.monotonic()

    @property
    def enabled(self) -> bool:
        return bool(self.process and self.seconds > 0)

    def may_take(self, batch: int) -> bool:
        """Whether a robot holding ``batch`` items may take one more."""
        if self.batch_limit and batch >= self.batch_limit:
            return False
        return not self.take_seconds or time.monotonic() - self.started < self.take_seconds

    def note_claimed(self, item_id: int) -> None:
        if self.claimed_file:
            with open(self.claimed_file, "a", encoding="ascii") as out:
                out.write(f"{item_id}\n")


def classify_failure(message: str) -> tuple[FailureCategory, str, str]:
    """``(kind, code, text)`` of a Robot Framework failure message.

    The exception's class name is looked up among the loaded subclasses of ``AutomationError``
    so a connector's own error files by its base class.
    """
    failure = FailureMessage.parse(message)
    bases = _hierarchy_names(failure.exception)
    if FailureCategory.BUSINESS in bases:
        return FailureCategory.BUSINESS, failure.code or "BUSINESS_RULE", failure.text
    if FailureCategory.TRANSIENT in bases:
        return FailureCategory.TRANSIENT, failure.code or "TRANSIENT_ERROR", failure.text
    if FailureCategory.INTEGRATION in bases or "PermanentError" in bases or "AutomationError" in bases:
        return FailureCategory.INTEGRATION, failure.code or "INTEGRATION_ERROR", failure.text
    return FailureCategory.UNEXPECTED, "UNEXPECTED_ERROR", message


def _hierarchy_names(name: str | None) -> list[str]:
    if not name:
        return []
    pending: list[type] = [AutomationError]
    while pending:
        cls = pending.pop()
        if cls.__name__ == name:
            return [base.__name__ for base in cls.__mro__]
        pending.extend(cls.__subclasses__())
    return [name]


class _LeaseKeeper:
    """Renews every lease of the batch in the background, so a slow item is not taken over.

    It stops when the runner that started the robot is gone: nobody would release the items
    or time the robot out, so the leases must be left to run out.

    The thread only talks to the database; Robot Framework's logging is not thread-safe, so
    a renewal error is kept and reported by the robot's own thread.
    """

    def __init__(self, queue: WorkQueue, owner: str, lease_seconds: int) -> None:
        self._queue, self._owner, self._lease_seconds = queue, owner, lease_seconds
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._renew, name=f"work-item-leases-{owner}", daemon=True)
        self.error: str | None = None

    def __enter__(self) -> _LeaseKeeper:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stop.set()
        self._thread.join()

    def _renew(self) -> None:
        while not self._stop.wait(max(self._lease_seconds / 3, 0.2)):
            if not runner_alive():
                self.error = "the runner that started this robot is gone; leases are left to run out"
                return
            try:
                self._queue.renew_leases(owner=self._owner, lease_seconds=self._lease_seconds)
                self.error = None
            except WorkQueueError as error:
                self.error = str(error)


@library(scope="GLOBAL", auto_keywords=False)
class WorkItems:
    """Work items of the current robot run."""

    def __init__(self) -> None:
        settings = KuntaflowSettings()
        ids = os.environ.get("KUNTAFLOW_WORKITEM_IDS", "")
        self._ids = [int(part) for part in ids.split(",") if part.strip()]
        self._owner = os.environ.get("KUNTAFLOW_WORKITEM_OWNER", "")
        self._lease_seconds = settings.lease_seconds
        self._linger = Linger()
        self._queue = settings.work_queue() if self._ids or self._linger.enabled else None
        self._current: WorkItem | None = None
        #: the current item's checkpoints, read as it started and kept up to date by this robot's saves
        #: (only the lease holder writes them), so a step reads them without a query
        self._checkpoints: dict[str, dict[str, Any]] = {}
        #: the current item's steps noted but not written yet: they go with its next write
        self._noted: list[NotedStep] = []
        self._finished = False
        #: item id → what this robot did with it
        self.outcomes: dict[int, RobotOutcome] = {}
        self._application_failures: dict[int, tuple[FailureCategory, str]] = {}

    # ------------------------------------------------------------------ the loop

    @keyword("For Each Work Item")
    def for_each_work_item(self, keyword_name: str, *args: Any) -> None:
        """Run ``keyword_name`` (with ``args``) once per work item of this batch; save each outcome at once.

        The item passes → DONE (unless the keyword already completed or failed it). It fails →
        filed by the error's class (see the library documentation). One failing item never
        stops the batch; only a stop signal, a fatal error, a timeout or a syntax error ends it,
        and the flow releases the items not yet done.

        The task passes when every item ended DONE or BUSINESS_FAILED (business failures go to
        a person through the queue, they are not robot faults) and its message counts the
        outcomes. It fails when items failed for application reasons, with a message starting
        ``IntegrationError:`` or ``TransientError:`` that lists them, so the report shows that
        someone in IT should look.
        """
        queue = self._require_queue()
        with _LeaseKeeper(queue, self._owner, self._lease_seconds) as leases:
            for item_id in self._batch(queue):
                if item_id in self.outcomes:
                    continue  # an earlier For Each Work Item of this run finished it
                if leases.error:
                    logger.warn(f"Renewing the batch's leases failed: {redact(leases.error)}")
                item = self._start(item_id)
                if item is None:
                    continue
                try:
                    BuiltIn().run_keyword(keyword_name, *args)
                except ExecutionPassed:  # Pass Execution inside the item: the item passed
                    self._complete_passed(item)
                except ExecutionFailed as failure:
                    self._settle_failure(item, failure)
                    if failure.dont_continue:
                        raise
                else:
                    self._complete_passed(item)
                finally:
                    self._current = None
        self._report()

    def _batch(self, queue: WorkQueue) -> Iterator[int]:
        """The batch's ids, then (when lingering) each new item claimed while the robot waits."""
        yield from list(self._ids)
        if not self._linger.enabled:
            return
        idle_until = time.monotonic() + self._linger.seconds
        while self._linger.may_take(len(self._ids)) and time.monotonic() < idle_until and runner_alive():
            claimed = queue.claim(self._linger.process, owner=self._owner, limit=1, lease_seconds=self._lease_seconds, payloads=False)
            if not claimed:
                time.sleep(LINGER_POLL_SECONDS)
                continue
            item_id = claimed[0].id
            self._ids.append(item_id)
            self._linger.note_claimed(item_id)
            yield item_id
            idle_until = time.monotonic() + self._linger.seconds

    def _start(self, item_id: int) -> WorkItem | None:
        try:
            item, checkpoints = self._require_queue().start_with_checkpoints(item_id, owner=self._owner)
        except (LeaseLostError, InvalidTransitionError) as lost:
            logger.warn(f"Work item {item_id} is no longer this robot's ({redact(str(lost))}); skipped.")
            return None
        self._current, self._checkpoints, self._finished, self._noted = item, checkpoints, False, []
        logger.info(f"Work item {item_id}: attempt {item.attempts} of {item.max_attempts}.")
        return item

    def _complete_passed(self, item: WorkItem) -> None:
        if self._finished:
            return
        try:
            self._complete(item)
        except (LeaseLostError, InvalidTransitionError) as lost:
            self._lease_lost(item, lost)

    def _settle_failure(self, item: WorkItem, failure: ExecutionFailed) -> None:
        if self._finished:
            return  # the keyword already completed or failed the item, then failed itself
        message = redact(str(failure))
        if failure.exit and message == _STOPPED_BY_SIGNAL:
            logger.warn(f"Work item {item.id}: the robot was stopped; the flow releases the item.")
            return
        kind, code, text = classify_failure(message)
        if failure.timeout:
            kind, code = FailureCategory.UNEXPECTED, "ROBOT_TIMEOUT"
        try:
            if failure.skip:
                self._release_skipped(item, message)
            elif kind is FailureCategory.BUSINESS:
                self._fail_business(item, code, text)
            else:
                self._fail_application(item, kind, code, message)
        except (LeaseLostError, InvalidTransitionError) as lost:
            self._lease_lost(item, lost)

    def _release_skipped(self, item: WorkItem, message: str) -> None:
        self._outcome_queue(item).release(item.id, owner=self._owner, reason=f"skipped by the robot: {message}")
        self._finished = True
        self.outcomes[item.id] = RobotOutcome.RELEASED
        logger.info(f"Work item {item.id}: skipped, back in the queue for a later run.")

    def _complete(self, item: WorkItem, output: dict[str, Any] | None = None) -> None:
        self._outcome_queue(item).complete(item.id, output=output, owner=self._owner)
        self._finished = True
        self.outcomes[item.id] = RobotOutcome.DONE
        logger.info(f"Work item {item.id}: DONE.")

    def _fail_business(self, item: WorkItem, code: str, message: str) -> None:
        self._outcome_queue(item).fail_business(item.id, code=code, message=message, owner=self._owner)
        self._finished = True
        self.outcomes[item.id] = RobotOutcome.BUSINESS_FAILED
        logger.info(f"Work item {item.id}: BUSINESS_FAILED, {code}.")

    def _fail_application(self, item: WorkItem, kind: FailureCategory, code: str, message: str) -> None:
        state = self._outcome_queue(item).fail_application(item.id, code=code, message=message, owner=self._owner)
        self._finished = True
        self.outcomes[item.id] = RobotOutcome.of_state(state)
        self._application_failures[item.id] = (kind, code)
        later = "no attempts left" if state is ItemState.ABANDONED else "retried later"
        logger.warn(f"Work item {item.id}: {state.value} on attempt {item.attempts} of {item.max_attempts}, {kind.value} {code}; {later}.")

    def _outcome_queue(self, item: WorkItem) -> WorkQueue:
        """The queue to write the item's outcome to, once the item's noted steps are written (before its
        outcome; a transaction only when there are any)."""
        queue = self._require_queue()
        if self._noted:
            noted, self._noted = self._noted, []
            queue.record_noted(item.id, noted)
        return queue

    def _lease_lost(self, item: WorkItem, error: Exception) -> None:
        self._finished = True
        self.outcomes[item.id] = RobotOutcome.LEASE_LOST
        logger.warn(f"Work item {item.id}: its outcome was not saved: {redact(str(error))}")

    def _report(self) -> None:
        counts = Counter(self.outcomes[item_id] for item_id in self._ids if item_id in self.outcomes)
        summary = ", ".join(f"{count} {state}" for state, count in sorted(counts.items()))
        total = len(self._ids)
        if not self._application_failures:
            with contextlib.suppress(RuntimeError):  # called from a suite setup or teardown, which has no task message
                BuiltIn().set_test_message(f"{total} work items: {summary or 'none processed'}.")
            return
        kinds = {kind for kind, _ in self._application_failures.values()}
        category = FailureCategory.INTEGRATION if FailureCategory.INTEGRATION in kinds else FailureCategory.TRANSIENT
        listed = "; ".join(f"item {item_id} {code}" for item_id, (_, code) in self._application_failures.items())
        raise AssertionError(
            f"{category}: {len(self._application_failures)} of {total} work items failed for application reasons: {listed}. Outcomes: {summary}."
        )

    # ------------------------------------------------------------------ inside one item

    @keyword("Get Work Item Payload")
    def get_work_item_payload(self) -> dict[str, Any]:
        """The current item's payload (a dict; its schema depends on the process)."""
        return dict(self._require_current().payload)

    @keyword("Get Work Item Id")
    def get_work_item_id(self) -> int:
        """The current item's id: name the case by it in messages and logs, never by personal data."""
        return self._require_current().id

    @keyword("Get Work Item Attempt")
    def get_work_item_attempt(self) -> int:
        """1 on the first try, 2 on the first retry, …"""
        return self._require_current().attempts

    @keyword("Save Work Item Checkpoint")
    def save_work_item_checkpoint(self, step: str, data: dict[str, Any] | None = None) -> None:
        """Record that ``step`` is done, with the ids it produced; a retry skips it. Written at once,
        with the steps noted since the item's last write."""
        item_id = self._require_current().id
        noted, self._noted = self._noted, []
        stored = self._require_queue().checkpoint(item_id, step, data or {}, earlier=noted)
        self._checkpoints.pop(step, None)  # a step saved again moves last, as the queue orders them
        self._checkpoints[step] = stored

    @keyword("Note Work Item Checkpoint")
    def note_work_item_checkpoint(self, step: str, data: dict[str, Any] | None = None) -> None:
        """Record a step that changed nothing outside (a rule check): written with the item's next
        checkpoint or its outcome, not in a transaction of its own. If the robot dies first, the
        retry does the step again; never use this for a step with a side effect."""
        self._require_current()
        record = dict(data or {})
        self._noted = [one for one in self._noted if one.step != step]
        self._noted.append(NotedStep(step, record, datetime.now(UTC)))
        self._checkpoints.pop(step, None)
        self._checkpoints[step] = record

    @keyword("Get Work Item Checkpoints")
    def get_work_item_checkpoints(self) -> dict[str, dict[str, Any]]:
        """The current item's completed steps, ``{step: data}``, from this and earlier attempts."""
        self._require_current()
        return {step: dict(data) for step, data in self._checkpoints.items()}

    @keyword("Complete Work Item")
    def complete_work_item(self, output: dict[str, Any] | None = None) -> None:
        """Mark the current item DONE, with what it produced (ids, never personal data)."""
        self._complete(self._require_current(), output)

    @keyword("Fail Work Item As Business Error")
    def fail_work_item_as_business_error(self, code: str, message: str) -> None:
        """The data is wrong or a person must decide: BUSINESS_FAILED with ``code``.

        The item's keyword should end after this; a later failure does not change the outcome.
        """
        self._fail_business(self._require_current(), code, message)

    @keyword("Fail Work Item As Application Error")
    def fail_work_item_as_application_error(self, code: str, message: str) -> None:
        """Something outside the case went wrong: APPLICATION_FAILED with ``code``, retried with backoff.

        The task fails at the end of the batch, as for a ``TransientError`` raised by a library.
        """
        self._fail_application(self._require_current(), FailureCategory.TRANSIENT, code, message)

    # ------------------------------------------------------------------ helpers

    def _require_current(self) -> WorkItem:
        if self._current is None:
            raise RuntimeError("no current work item: use this keyword inside 'For Each Work Item'")
        return self._current

    def _require_queue(self) -> WorkQueue:
        if self._queue is None:
            raise RuntimeError("this robot run has no work items (KUNTAFLOW_WORKITEM_IDS is empty)")
        return self._queue
