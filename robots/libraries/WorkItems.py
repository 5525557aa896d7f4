"""Robot Framework keywords for working through the batch of work items a flow claimed.

The flow claims the items and starts the robot with their ids and the lease owner in the
environment (``KUNTAFLOW_WORKITEM_IDS``, ``KUNTAFLOW_WORKITEM_OWNER``). Each item's outcome is
written to the queue the moment the item finishes, so a robot killed mid-batch leaves its
finished items DONE and the rest for the flow to release.

Failures are sorted by the error hierarchy's names (connectors/errors.py):
``BusinessRuleError`` → BUSINESS_FAILED; ``TransientError``, ``IntegrationError`` and anything
unexpected → APPLICATION_FAILED, retried with backoff until the item's attempts run out.
"""

from __future__ import annotations

import os
import re
from typing import Any

from robot.api import logger
from robot.api.deco import keyword, library
from robot.errors import ExecutionFailed, ExecutionPassed
from robot.libraries.BuiltIn import BuiltIn

from kuntaflow.redaction import redact
from kuntaflow.settings import KuntaflowSettings
from kuntaflow.workitems import LeaseLostError, WorkItem

_PREFIX = re.compile(r"^(BusinessRuleError|TransientError|IntegrationError): (?:([A-Z][A-Z0-9_]{2,63}): )?(.*)$", re.S)


@library(scope="GLOBAL", auto_keywords=False)
class WorkItems:
    """Work items of the current robot run."""

    def __init__(self) -> None:
        settings = KuntaflowSettings()
        ids = os.environ.get("KUNTAFLOW_WORKITEM_IDS", "")
        self._ids = [int(part) for part in ids.split(",") if part.strip()]
        self._owner = os.environ.get("KUNTAFLOW_WORKITEM_OWNER", "")
        self._lease_seconds = settings.lease_seconds
        self._queue = settings.work_queue() if self._ids else None
        self._current: WorkItem | None = None
        self._finished = False
        self.outcomes: dict[int, str] = {}

    # ------------------------------------------------------------------ the loop

    @keyword("For Each Work Item")
    def for_each_work_item(self, keyword_name: str, *args: Any) -> None:
        """Run ``keyword_name`` once per work item of this batch and save each item's outcome.

        One failing item never stops the batch. The task fails at the end only when items
        failed for application reasons (outages, contract drift), so that shows in the report.
        """
        application_failures: list[str] = []
        for item_id in self._ids:
            item = self._start(item_id)
            if item is None:
                continue
            try:
                BuiltIn().run_keyword(keyword_name, *args)
            except ExecutionPassed:
                raise
            except ExecutionFailed as failure:
                if failure.dont_continue and not failure.skip:
                    # Fatal errors (e.g. the robot is being stopped) end the batch; the flow releases the rest.
                    self._record_failure(item, str(failure), application_failures)
                    raise
                self._record_failure(item, str(failure), application_failures)
            else:
                if not self._finished:
                    self.complete_work_item()
            finally:
                self._current = None
        if application_failures:
            raise AssertionError(
                f"{len(application_failures)} work item(s) failed for application reasons and will be retried: "
                + "; ".join(application_failures)
            )

    def _start(self, item_id: int) -> WorkItem | None:
        queue = self._require_queue()
        item = queue.get(item_id)
        if item.lease_owner != self._owner or item.state.value != "IN_PROGRESS":
            logger.warn(f"Work item {item_id} is no longer ours ({item.state.value}); skipped.")
            return None
        queue.renew_leases(owner=self._owner, lease_seconds=self._lease_seconds)
        self._current, self._finished = item, False
        logger.info(f"Work item {item_id}: attempt {item.attempts} of {item.max_attempts}.")
        return item

    def _record_failure(self, item: WorkItem, message: str, application_failures: list[str]) -> None:
        if self._finished:
            return
        message = redact(message)
        match = _PREFIX.match(message)
        category, code, text = (match.group(1), match.group(2), match.group(3)) if match else (None, None, message)
        queue = self._require_queue()
        try:
            if category == "BusinessRuleError":
                queue.fail_business(item.id, code=code or "BUSINESS_RULE", message=text, owner=self._owner)
                self.outcomes[item.id] = "BUSINESS_FAILED"
                logger.info(f"Work item {item.id}: business failure {code or 'BUSINESS_RULE'}.")
                return
            default = "INTEGRATION_ERROR" if category == "IntegrationError" else "TRANSIENT_ERROR" if category else "UNEXPECTED_ERROR"
            state = queue.fail_application(item.id, code=code or default, message=message, owner=self._owner)
        except LeaseLostError:
            logger.warn(f"Work item {item.id}: lease lost before its failure could be saved.")
            return
        self.outcomes[item.id] = state.value
        application_failures.append(f"item {item.id}: {message}")

    # ------------------------------------------------------------------ inside one item

    @keyword("Get Work Item Payload")
    def get_work_item_payload(self) -> dict[str, Any]:
        """The current item's payload (a dict; its schema depends on the process)."""
        return dict(self._require_current().payload)

    @keyword("Get Work Item Id")
    def get_work_item_id(self) -> int:
        return self._require_current().id

    @keyword("Get Work Item Attempt")
    def get_work_item_attempt(self) -> int:
        """1 on the first try, 2 on the first retry, …"""
        return self._require_current().attempts

    @keyword("Save Work Item Checkpoint")
    def save_work_item_checkpoint(self, step: str, data: dict[str, Any] | None = None) -> None:
        """Record that ``step`` is done, with the ids it produced; a retry skips it."""
        self._require_queue().checkpoint(self._require_current().id, step, data or {})

    @keyword("Get Work Item Checkpoints")
    def get_work_item_checkpoints(self) -> dict[str, dict[str, Any]]:
        return self._require_queue().checkpoints(self._require_current().id)

    @keyword("Complete Work Item")
    def complete_work_item(self, output: dict[str, Any] | None = None) -> None:
        """Mark the current item DONE, with what it produced (ids, never personal data)."""
        item = self._require_current()
        self._require_queue().complete(item.id, output=output, owner=self._owner)
        self._finished = True
        self.outcomes[item.id] = "DONE"

    @keyword("Fail Work Item As Business Error")
    def fail_work_item_as_business_error(self, code: str, message: str) -> None:
        """The data is wrong or a person must decide: BUSINESS_FAILED with ``code``."""
        item = self._require_current()
        self._require_queue().fail_business(item.id, code=code, message=message, owner=self._owner)
        self._finished = True
        self.outcomes[item.id] = "BUSINESS_FAILED"

    # ------------------------------------------------------------------ helpers

    def _require_current(self) -> WorkItem:
        if self._current is None:
            raise RuntimeError("no current work item: use this keyword inside 'For Each Work Item'")
        return self._current

    def _require_queue(self):
        if self._queue is None:
            raise RuntimeError("this robot run has no work items (KUNTAFLOW_WORKITEM_IDS is empty)")
        return self._queue
