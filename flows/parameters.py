"""Flow parameters as the Prefect UI's run form shows them: a Finnish label and help text for each.

Prefect builds a flow's parameter schema with each parameter's *name* as its title and the docstring's
``Args:`` entry as its description, dropping the ``title`` and ``description`` of an
``Annotated[T, Field(...)]`` (so the mass-recruitment form showed ``job_key``). A field's
``json_schema_extra`` is applied after both, so :func:`form_field` puts the label and the help text
there; the constraints (``ge``, ``pattern`` …) stay on the field and Prefect still enforces them::

    job_key: Annotated[str | None, form_field("Työavain", "Vain tämä työpaikka …", pattern=…)] = None
"""

from __future__ import annotations

from typing import Any

from pydantic import Field


def form_field(label: str, help_text: str, **constraints: Any) -> Any:
    """A parameter's ``Field`` whose label and help text survive Prefect's schema (put it in ``Annotated``)."""
    return Field(json_schema_extra={"title": label, "description": help_text}, **constraints)
