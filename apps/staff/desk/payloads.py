"""A case's data as the Desk shows and corrects it: masked by default, corrected only as its process's schema allows.

Each process's payload model is its own (``schemas`` and ``processes``): a correction of one
field is validated against it, and a value the model refuses is refused with the model's own
message, the payload unchanged. A hire from recruitment arrives incomplete on purpose
(``missing``); there a field is accepted when the model has nothing new to say against the
payload with it, and the ``missing`` list drops what is now given.

A henkilötunnus is never in what :func:`shown_fields` gives: fields named for it are masked, and
every other text has henkilötunnus-shaped runs masked too. Contact details and the date of birth
(fields named for an address, e-mail, phone or birth) are masked as well: a member handles most
cases by the name, the reason and the robot's steps. :func:`personal_details` gives the real
values, only for the page a member asked for with a stated reason (the access log has it first).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, get_args

from pydantic import BaseModel, ValidationError

from apps.i18n import readable_text
from processes.employment_start.confirmation import ConfirmationPayload
from schemas.card_expiry import PROCESS as CARD_EXPIRY
from schemas.card_expiry import CardToRemind
from schemas.employee import CONFIRMATION_PROCESS, NewEmployee
from schemas.employee import PROCESS as EMPLOYMENT_START
from schemas.library_card import PROCESS as LIBRARY_CARD
from schemas.library_card import LibraryCardApplication
from schemas.recruitment import PROCESS as MASS_RECRUITMENT
from schemas.recruitment import JobToScreen, still_missing
from schemas.redaction import MASK, redact

#: Each process's payload model: what a correction is checked against.
PAYLOAD_MODELS: dict[str, type[BaseModel]] = {
    LIBRARY_CARD: LibraryCardApplication,
    EMPLOYMENT_START: NewEmployee,
    CONFIRMATION_PROCESS: ConfirmationPayload,
    MASS_RECRUITMENT: JobToScreen,
    CARD_EXPIRY: CardToRemind,
}


class FieldRejectedError(ValueError):
    """The correction is not allowed or not valid; the message says why (no personal data).

    ``path`` is the field the problem is in (the Desk shows it by its name, ``apps.staff.desk.labels``);
    ``detail`` the model's message, or None when the field cannot be corrected here at all; ``code`` the
    model's stable error type (``email_invalid``, ``string_too_long``) and ``limits`` its context, by which
    the Desk says it in the member's language.
    """

    def __init__(self, path: str, detail: str | None = None, code: str | None = None, limits: dict[str, Any] | None = None) -> None:
        path = redact(path)  # a field name comes from the form: whatever was typed there stays masked
        super().__init__(f"{path}: {detail}" if detail is not None else f"{path!r} cannot be corrected here")
        self.path = path
        self.detail = detail
        self.code = code
        #: the model's limits behind the error (``max_length``, ``ge``, the allowed values), never the value typed
        self.limits = limits or {}


def _is_hetu_field(name: str) -> bool:
    return "hetu" in name.lower()


#: Parts of a field's path that name contact details or the date of birth: masked until asked for.
_CONTACT_PARTS = ("address", "street", "postal", "email", "phone", "birth", "born")


def _is_personal_field(path: str) -> bool:
    """The henkilötunnus, contact details or date of birth (by the field's path, e.g. ``applicant.permanent_address.street``)."""
    lowered = path.lower()
    return _is_hetu_field(path.rsplit(".", 1)[-1]) or any(part in lowered for part in _CONTACT_PARTS)


def _flatten(value: Any, prefix: str = "") -> list[tuple[str, Any]]:
    if isinstance(value, dict):
        return [pair for key, inner in value.items() for pair in _flatten(inner, f"{prefix}.{key}" if prefix else str(key))]
    return [(prefix, value)]


def _no_name(path: str) -> str:
    return path


def _as_stored(path: str, value: Any) -> str:
    return "" if value is None else str(value)


def shown_fields(payload: dict[str, Any], name: Callable[[str], str] = _no_name, value_text: Callable[[str, Any], str] = _as_stored) -> list[tuple[str, str]]:
    """``(field path, text)`` for every value, nested ones as ``applicant.first_names``; the henkilötunnus,
    contact details and date of birth masked.

    ``name`` names a field by its path (``apps.staff.desk.labels``) inside the texts: the keys of a list's
    items (a reply's attachments) and a hire's ``missing`` list, which holds field names. ``value_text``
    writes a single value (its path, the value) as the reader reads it (``labels.value_text``: yes/no in
    their language, a date as 4.12.2026, a channel by its name).
    """
    shown = []
    for path, value in _flatten(payload):
        if _is_personal_field(path) and value:
            text = MASK
        elif path == "missing" and isinstance(value, list):
            text = ", ".join(name(str(field)) for field in value)
        elif isinstance(value, list):
            separator = "; " if any(isinstance(item, dict) for item in value) else ", "
            text = separator.join(_item_text(item, f"{path}.", name) for item in value)
        else:
            text = value_text(path, value)
        shown.append((path, redact(text)))
    return shown


def _item_text(item: Any, prefix: str, name: Callable[[str], str]) -> str:
    """A list's item: a model's keys by their names (``Tiedostonimi: liite.pdf``), anything else as it is."""
    if not isinstance(item, dict):
        return str(item)
    return ", ".join(
        f"{name(prefix + str(key))}: {json.dumps(value, ensure_ascii=False) if isinstance(value, dict | list) else value}" for key, value in item.items()
    )


def personal_details(payload: dict[str, Any]) -> list[tuple[str, str]]:
    """``(field path, value)`` of each masked field (henkilötunnus, contact details, date of birth): only for a page whose reveal was logged."""
    return [(path, readable_text(str(value))) for path, value in _flatten(payload) if _is_personal_field(path) and value not in (None, "", [])]


def editable_fields(process: str, payload: dict[str, Any]) -> list[str]:
    """The top-level fields of the process's model a person may correct: single values, and those a hire lacks."""
    model = PAYLOAD_MODELS.get(process)
    if model is None:
        return []
    missing = set(payload.get("missing") or [])
    return [
        name
        for name, field in model.model_fields.items()
        if name in missing or (not isinstance(payload.get(name), (dict, list)) and not _holds_a_model(field.annotation))
    ]


def _holds_a_model(annotation: Any) -> bool:
    """Whether a field's type is (or may be) a nested model: those are not one typed-in value."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return True
    return any(_holds_a_model(argument) for argument in get_args(annotation))


def _problems(model: type[BaseModel], payload: dict[str, Any]) -> tuple[set[tuple[Any, ...]], ValidationError | None]:
    try:
        model.model_validate(payload)
    except ValidationError as error:
        return {(tuple(e["loc"]), e["type"]) for e in error.errors()}, error
    return set(), None


def corrected_payload(process: str, payload: dict[str, Any], field: str, text: str) -> dict[str, Any]:
    """``payload`` with ``field`` set from the text a person typed, checked against the process's model.

    Raises:
        FieldRejectedError: the field may not be corrected here, or the model refuses the value
            (its message, e.g. "Valviran rekisteröintinumero on 11 numeroa").
    """
    model = PAYLOAD_MODELS.get(process)
    if model is None or field not in editable_fields(process, payload):
        raise FieldRejectedError(field)
    value: Any = text.strip()
    if value == "" and not model.model_fields[field].is_required():
        value = model.model_fields[field].get_default(call_default_factory=True)
    changed = {**payload, field: value}
    before, _ = _problems(model, payload)
    after, error = _problems(model, changed)
    new = after - before  # what the model has against the value, not what the payload lacked already
    if error is not None and new:
        first = next(e for e in error.errors() if (tuple(e["loc"]), e["type"]) in new)
        where = ".".join(str(part) for part in first["loc"]) or field
        limits = {key: redact(str(value)) for key, value in (first.get("ctx") or {}).items() if isinstance(value, (str, int, float))}
        raise FieldRejectedError(where, redact(first["msg"]), code=first["type"], limits=limits)
    if error is None:
        # The model's own form of the value (a trimmed, upper-cased code; a number for a number).
        changed[field] = model.model_validate(changed).model_dump(mode="json")[field]
    if (missing := still_missing(changed)) is not None:
        changed["missing"] = missing
    return changed
