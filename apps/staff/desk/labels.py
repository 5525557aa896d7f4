"""The names staff read for a case's data fields and the robot's checkpoint keys, in their language.

A payload's keys are the process model's Python names (``applicant.first_names``, ``home_library``);
librarians, HR officers and recruiters read them as "Hakijan etunimet" and "Kotikirjasto". The names
are texts of the staff app's catalogue (``apps/staff/translations``): ``field_<process>.<path>`` for a
payload field, per process because one name means different things in different processes (a hire's
``title`` is a job title, a citizen's reply's a subject), and ``checkpoint_<key>`` for a checkpoint's
key, which means the same in every step that records it. A field without a name in the catalogue is
shown by its path, so an unexpected key in an old payload still reads as something; the Desk's tests
list every field of :data:`SHOWN_MODELS` without a name in fi, sv or en, so a new field cannot slip
through unnamed.

What a member types into a form stays the field's path: the server checks it against the model.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any, get_args

from pydantic import BaseModel

from apps.i18n import DEFAULT_LANGUAGE, Catalog, Translator, readable_text
from apps.staff.desk.payloads import PAYLOAD_MODELS, FieldRejectedError
from processes.citizen_reply.intake import CitizenReply
from schemas.citizen_reply import PROCESS as CITIZEN_REPLY
from schemas.employee import PROCESS as EMPLOYMENT_START
from schemas.employee import NewEmployee
from schemas.library_card import ERROR_MESSAGES as LIBRARY_CARD_MESSAGES
from schemas.library_card import PROCESS as LIBRARY_CARD
from schemas.messages import Language
from schemas.recruitment import HiredCandidate

#: The models whose fields a process's payloads hold, as the Desk shows them: the correction models, a
#: hire from recruitment's own keys beside NewEmployee's, and a citizen's reply (read, never corrected).
SHOWN_MODELS: dict[str, tuple[type[BaseModel], ...]] = {
    **{process: (model,) for process, model in PAYLOAD_MODELS.items()},
    EMPLOYMENT_START: (NewEmployee, HiredCandidate),
    CITIZEN_REPLY: (CitizenReply,),
}

#: Keys inside a model's untyped dict that the Desk shows as fields (``HiredCandidate.source``, filled by
#: ``processes.mass_recruitment.letters.hired_candidate``): named like the models' fields.
UNTYPED_PATHS: dict[str, tuple[str, ...]] = {
    EMPLOYMENT_START: ("source.system", "source.job_key", "source.application_id", "source.candidate_id"),
}


def field_key(process: str, path: str) -> str:
    """The catalogue key of a payload field's name."""
    return f"field_{process}.{path}"


def checkpoint_key(key: str) -> str:
    """The catalogue key of a checkpoint key's name."""
    return f"checkpoint_{key}"


def field_label(t: Translator, process: str, path: str) -> str:
    """The field's name in ``t``'s language, else its path.

    A validation error's location may hold a list index (``keys_needed.0``): the list's name stands for it.
    """
    named = ".".join(part for part in path.split(".") if not part.isdigit())
    return t.texts.get(field_key(process, named), path)


def step_key(step: str) -> str:
    """The catalogue key of a checkpoint step's name (``rules_checked``, ``decision_sent``)."""
    return f"step_{step}"


def step_label(t: Translator, step: str) -> str | None:
    """A robot step's name in ``t``'s language; None for a step without one (a request or an application
    of its own, ``request_laptop``, ``application:17``), which the page shows by its key."""
    return t.texts.get(step_key(step))


#: The last part of a field's path or a checkpoint's key whose values are a channel code (``suomifi``,
#: ``email``, ``letter``, ``none``: ``schemas.messages``), shown by the catalogue's ``channel_<code>``.
CHANNEL_KEYS = frozenset({"channel", "notification_preference"})


def coded_value(t: Translator, key: str, text: str) -> str:
    """A stored code as staff read it (``suomifi`` → "Suomi.fi-viestit") where ``key`` (a path or a
    checkpoint key) holds a channel; any other text as it is."""
    if key.rsplit(".", 1)[-1] in CHANNEL_KEYS:
        return t.texts.get(f"channel_{text}", text)
    return text


def value_text(t: Translator, key: str, value: Any) -> str:
    """A single stored value (of a payload field's path or a checkpoint's key) as staff read it: yes/no in
    their language, a date as 4.12.2026, a channel by its name, anything else as stored."""
    if isinstance(value, bool):
        return t("value_yes") if value else t("value_no")
    if isinstance(value, str):
        return coded_value(t, key, readable_text(value))
    return "" if value is None else str(value)


def checkpoint_label(t: Translator, key: str) -> str:
    """A checkpoint key's name in ``t``'s language, else the key."""
    return t.texts.get(checkpoint_key(key), key)


#: Per process, its model's own messages by error type in fi/sv/en (the library-card form's, which
#: the e-service shows citizens): a refused correction reads the same to the librarian.
MODEL_MESSAGES: dict[str, Mapping[str, Mapping[Language, str]]] = {LIBRARY_CARD: LIBRARY_CARD_MESSAGES}


def rejection_text(t: Translator, process: str, error: FieldRejectedError) -> str:
    """Why a correction was refused, the field by its name, in the member's language.

    The process's own message for the model's error type, else the staff catalogue's text for a
    pydantic type (``value_problem_<type>``), else the model's message as it is (the employment-start
    model's are Finnish); or that the field cannot be corrected here.
    """
    where = field_label(t, process, error.path)
    if error.detail is None:
        return t("problem_field_not_editable", field=where)
    return f"{where}: {value_problem(t, process, error.code, error.limits) or error.detail}"


def value_problem(t: Translator, process: str, code: str | None, limits: Mapping[str, Any] | None = None) -> str | None:
    """What is wrong with a value, by the model's error type (and its ``limits``), in ``t``'s language;
    None when no text has it."""
    if code is None:
        return None
    own = MODEL_MESSAGES.get(process, {}).get(code)
    if own is not None:
        return own[t.language]
    text = t.texts.get(f"value_problem_{code}")
    if text is None:
        return None
    try:
        return text.format(**(limits or {}))
    except (KeyError, IndexError):  # a limit the text names is missing: the model's own message instead
        return None


def trail_reason(t: Translator, process: str, action: str, reason: str | None) -> str | None:
    """An audit entry's reason as the trail shows it: a correction's ``<path>: why`` with the field's name.

    The Desk writes a correction's reason as ``home_library: why`` (``actions._edit``): the stored audit
    keeps the path, the same in every language and for ``kuntaflow queue show``; the page names the field.
    """
    if action != "edit_payload" or not reason:
        return reason
    path, separator, why = reason.partition(": ")
    if not separator or path not in shown_paths(process):
        return reason
    return f"{field_label(t, process, path)}: {why}"


def _models_in(annotation: Any) -> list[type[BaseModel]]:
    """The models a field's type holds: itself, or inside ``X | None``, ``list[X]`` and the like."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    return [model for argument in get_args(annotation) for model in _models_in(argument)]


def field_paths(model: type[BaseModel], prefix: str = "") -> Iterator[str]:
    """Every field's path in ``model``, nested models' fields too (``applicant.permanent_address.street_address``)."""
    for name, field in model.model_fields.items():
        path = f"{prefix}{name}"
        yield path
        for inner in _models_in(field.annotation):
            yield from field_paths(inner, f"{path}.")


def shown_paths(process: str) -> list[str]:
    """Every field path a payload of ``process`` may hold, by its models (and :data:`UNTYPED_PATHS`)."""
    paths = [path for model in SHOWN_MODELS.get(process, ()) for path in field_paths(model)]
    return list(dict.fromkeys([*paths, *UNTYPED_PATHS.get(process, ())]))


def unnamed_fields(catalog: Catalog) -> list[str]:
    """``<language> <process> <path>`` for every field of :data:`SHOWN_MODELS` without a name in a language."""
    return [
        f"{language.value} {process} {path}"
        for language, table in catalog.tables.items()
        for process in SHOWN_MODELS
        for path in shown_paths(process)
        if not table.get(field_key(process, path), "").strip()
    ]


def names_of_no_field(catalog: Catalog) -> list[str]:
    """The catalogue's field names whose field no model has (any more): a renamed field's old name."""
    known = {field_key(process, path) for process in SHOWN_MODELS for path in shown_paths(process)}
    return sorted(key for key in catalog.tables[DEFAULT_LANGUAGE] if key.startswith("field_") and key not in known)
