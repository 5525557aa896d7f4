"""What keyword libraries share: failures in the hierarchy's three names, and the current work item's steps.

``re_raise_for_robot`` wraps a keyword so any connector error leaves as ``TransientError``,
``BusinessRuleError`` or ``IntegrationError`` (the names WorkItems files by), with the work item
in the message. An error a domain service already raised under one of the three names, naming the
work item, leaves as it is; a connector's, even one of the three base classes (``ApiClient``'s
``INVALID_JSON``), is named again with the case. A pydantic error on a model *we* built is our bug
(``UNEXPECTED_DATA``) and a Koha patron category the library set up wrongly is the library's
(``CATEGORY_CONFIGURATION``); both are reported without a value (values are personal data).
"""

from __future__ import annotations

import functools
from abc import ABC, abstractmethod
from collections.abc import Callable
from typing import Any, Generic, TypeVar

from pydantic import ValidationError
from robot.libraries.BuiltIn import BuiltIn

from connectors.errors import AutomationError, BusinessRuleError, IntegrationError, TransientError
from processes.checkpoints import Checkpoints
from processes.validation import problems
from schemas.library_card import CategoryConfigurationError

F = TypeVar("F", bound=Callable[..., Any])
S = TypeVar("S")

#: The three names WorkItems files failures by.
ROBOT_ERRORS = (TransientError, BusinessRuleError, IntegrationError)

__all__ = ["ROBOT_ERRORS", "WorkItemSteps", "as_robot_error", "problems", "re_raise_for_robot"]


def as_robot_error(error: AutomationError, item_id: int | None) -> AutomationError:
    """The error as one of the three names, its message prefixed with the work item."""
    kind: type[AutomationError] = (
        TransientError if isinstance(error, TransientError) else BusinessRuleError if isinstance(error, BusinessRuleError) else IntegrationError
    )
    extra = {"retry_after": error.retry_after} if isinstance(error, TransientError) else {}
    where = f"work item {item_id}: " if item_id is not None else ""
    return kind(
        f"{where}{error.message}",
        code=error.code,
        status_code=error.status_code,
        request_id=error.request_id,
        business_ids={**error.business_ids, "work_item_id": item_id},
        body=error.body,
        **extra,
    )


def _named_for_robot(error: AutomationError) -> bool:
    """Raised by our own code under one of the three names, with the case already in the message."""
    return type(error) in ROBOT_ERRORS and error.message.startswith("work item ")


def re_raise_for_robot(method: F) -> F:
    """Decorator for a keyword of a ``WorkItemSteps`` library: its failures leave under the three names."""

    @functools.wraps(method)
    def wrapper(self: WorkItemSteps, *args: Any, **kwargs: Any) -> Any:
        try:
            return method(self, *args, **kwargs)
        except AutomationError as error:
            if _named_for_robot(error):
                raise
            raise as_robot_error(error, self._work_item_id()) from error
        except CategoryConfigurationError as error:
            raise IntegrationError(f"work item {self._work_item_id()}: {error}", code="CATEGORY_CONFIGURATION") from error
        except ValidationError as error:
            # A model we build for a connector refused our data: our bug, not the citizen's.
            item_id = self._work_item_id()
            raise IntegrationError(f"work item {item_id}: {error.title} refused the data: {problems(error)}", code="UNEXPECTED_DATA") from None

    return wrapper  # type: ignore[return-value]


class WorkItemSteps(ABC, Generic[S]):
    """Base of a keyword library: the current work item (from the ``WorkItems`` library), its
    checkpoints, and the process's domain service the keywords call (built by ``_build_service``)."""

    _service: S | None = None

    @abstractmethod
    def _build_service(self) -> S:
        """The process's service with its connector clients (each library builds its own)."""

    @property
    def service(self) -> S:
        """Built on first use, so a dry run or a bad payload opens no connection; one per robot run."""
        if self._service is None:
            self._service = self._build_service()
        return self._service

    def _complete(self, output: dict[str, Any]) -> dict[str, Any]:
        """DONE with ``output`` (no personal data) as the item's output."""
        self._work_items().complete_work_item(output)
        return output

    def _work_items(self) -> Any:
        return BuiltIn().get_library_instance("WorkItems")

    def _work_item_id(self) -> int | None:
        try:
            return self._work_items().get_work_item_id()
        except (RuntimeError, AttributeError):
            return None

    def _current_item(self) -> tuple[int, Any, Checkpoints]:
        """The current work item's id, payload and checkpoints: what a process's first step reads.

        The payload is read here rather than passed in as a keyword argument, so personal data never
        appears in the robot log.
        """
        work_items = self._work_items()
        return work_items.get_work_item_id(), work_items.get_work_item_payload(), self._checkpoints()

    def _checkpoints(self) -> Checkpoints:
        """The current item's checkpoints, recorded through WorkItems the moment a step is done."""
        work_items = self._work_items()
        return Checkpoints(work_items.get_work_item_checkpoints(), work_items.save_work_item_checkpoint, note=work_items.note_work_item_checkpoint)
