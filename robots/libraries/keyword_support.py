"""What keyword libraries share: failures in the hierarchy's three names, and the current work item's steps.

``re_raise_for_robot`` wraps a keyword so any connector error leaves as ``TransientError``,
``BusinessRuleError`` or ``IntegrationError`` (the names WorkItems files by), with the work item
in the message; a pydantic error on a model *we* built is our bug (``UNEXPECTED_DATA``) and is
reported by field path and code only, never by value (values are personal data).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

from pydantic import ValidationError
from robot.api import logger
from robot.libraries.BuiltIn import BuiltIn

from connectors.errors import AutomationError, BusinessRuleError, IntegrationError, TransientError

F = TypeVar("F", bound=Callable[..., Any])


def problems(error: ValidationError) -> str:
    """Field paths and error codes, never the values."""
    return ", ".join(f"{'.'.join(map(str, e['loc'])) or '(whole)'} ({e['type']})" for e in error.errors(include_input=False))


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


def re_raise_for_robot(item_id: Callable[[Any], int | None]) -> Callable[[F], F]:
    """Decorator factory; ``item_id(self)`` names the current work item."""

    def decorate(method: F) -> F:
        @functools.wraps(method)
        def wrapper(self: Any, *args: Any, **kwargs: Any) -> Any:
            try:
                return method(self, *args, **kwargs)
            except AutomationError as error:
                if type(error) in (TransientError, BusinessRuleError, IntegrationError):
                    raise
                raise as_robot_error(error, item_id(self)) from error
            except ValidationError as error:
                raise IntegrationError(f"work item {item_id(self)}: {error.title} refused the data: {problems(error)}", code="UNEXPECTED_DATA") from None

        return wrapper  # type: ignore[return-value]

    return decorate


class WorkItemSteps:
    """Mixin: the current work item (from the ``WorkItems`` library) and its checkpoints."""

    def _work_items(self) -> Any:
        return BuiltIn().get_library_instance("WorkItems")

    def _work_item_id(self) -> int | None:
        try:
            return self._work_items().get_work_item_id()
        except (RuntimeError, AttributeError):
            return None

    def _checkpoints(self) -> dict[str, dict[str, Any]]:
        return self._work_items().get_work_item_checkpoints()

    def _save_checkpoint(self, step: str, data: dict[str, Any], case: Any = None) -> None:
        """Record the step on the work item (and on ``case.checkpoints`` when given)."""
        self._work_items().save_work_item_checkpoint(step, data)
        if case is not None:
            case.checkpoints[step] = data
        logger.info(f"Checkpoint {step} saved.")
