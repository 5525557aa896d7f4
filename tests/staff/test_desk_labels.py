"""Every field and checkpoint key the Desk shows has a name in Finnish, Swedish and English.

A field added to a process's payload model (or a model nested in it) without a name in
``apps/staff/translations`` fails here, listed with its language and process, instead of reaching
librarians as ``applicant.first_names``.
"""

from __future__ import annotations

import importlib
import pkgutil
import re
from dataclasses import replace
from pathlib import Path

import processes
from apps.i18n import Catalog
from apps.staff.desk.labels import (
    SHOWN_MODELS,
    checkpoint_key,
    field_label,
    field_paths,
    names_of_no_field,
    shown_paths,
    step_key,
    trail_reason,
    unnamed_fields,
)
from apps.staff.desk.payloads import PAYLOAD_MODELS
from apps.staff.pages import staff_catalog
from processes.checkpoints import Checkpoint


def test_every_payload_field_of_every_process_the_desk_shows_is_named_in_fi_sv_and_en():
    assert unnamed_fields(staff_catalog()) == []


def test_the_check_lists_a_nested_field_that_lacks_a_name_in_one_language():
    catalog = staff_catalog()
    swedish = {key: text for key, text in catalog.tables["sv"].items() if key != "field_library_card.guardian.permanent_address.postal_code"}
    without = Catalog({**catalog.tables, "sv": swedish})
    assert unnamed_fields(without) == ["sv library_card guardian.permanent_address.postal_code"]


def test_the_check_covers_every_correction_model_and_what_is_nested_in_it():
    assert set(PAYLOAD_MODELS) <= set(SHOWN_MODELS) and "citizen_reply" in SHOWN_MODELS
    assert {"applicant.permanent_address.street_address", "guardian.relationship_verified_by"} <= set(shown_paths("library_card"))
    assert "attachments.filename" in field_paths(SHOWN_MODELS["citizen_reply"][0])
    assert {"missing", "source.job_key", "hetu"} <= set(shown_paths("employment_start"))


def test_no_name_is_left_for_a_field_no_model_has():
    assert names_of_no_field(staff_catalog()) == []


def _checkpoint_models() -> list[type[Checkpoint]]:
    """Every checkpoint model of every process (imported here, so one in a new module counts too)."""
    for module in pkgutil.walk_packages(processes.__path__, "processes."):
        importlib.import_module(module.name)
    found, pending = [], [Checkpoint]
    while pending:
        for model in pending.pop().__subclasses__():
            found.append(model)
            pending.append(model)
    return found


def test_every_checkpoint_key_is_named_in_fi_sv_and_en():
    catalog = staff_catalog()
    models = _checkpoint_models()
    assert len(models) > 10, "the processes' checkpoint models were found"
    unnamed = [
        f"{language.value} {model.__module__}.{model.__name__} {key}"
        for language, table in catalog.tables.items()
        for model in models
        for key in model.model_fields
        if "hetu" not in key and not table.get(checkpoint_key(key), "").strip()
    ]
    assert unnamed == []


def test_a_field_is_named_in_the_members_language_and_an_unknown_one_by_its_path():
    catalog = staff_catalog()
    assert field_label(catalog.translator("fi"), "library_card", "home_library") == "Kotikirjasto"
    assert field_label(catalog.translator("sv"), "library_card", "applicant.first_names") == "Sökandens förnamn"
    assert field_label(catalog.translator("en"), "employment_start", "keys_needed.0") == "Keys"
    assert field_label(catalog.translator("fi"), "citizen_reply", "title") == "Otsikko"
    assert field_label(catalog.translator("fi"), "employment_start", "title") == "Tehtävänimike"
    assert field_label(catalog.translator("fi"), "library_card", "legacy_field") == "legacy_field"
    untranslated = replace(catalog.translator("fi"), texts={})
    assert field_label(untranslated, "library_card", "home_library") == "home_library"


def test_the_trail_names_a_corrected_field_and_leaves_every_other_reason_as_written():
    t = staff_catalog().translator("sv")
    assert trail_reason(t, "library_card", "edit_payload", "home_library: hakijan toive") == "Hembibliotek: hakijan toive"
    assert trail_reason(t, "library_card", "edit_payload", "korjattu: home_library") == "korjattu: home_library"
    assert trail_reason(t, "library_card", "note", "home_library: soitin") == "home_library: soitin"
    assert trail_reason(t, "library_card", "edit_payload", None) is None


def test_a_field_with_a_finnish_form_title_has_the_same_name_in_the_desk():
    """HR types a hire into Prefect's form under the model's Finnish titles (``NewEmployee``): the Desk calls the fields the same."""
    finnish = staff_catalog().tables["fi"]
    titled = [
        (process, name, field.title)
        for process, models in SHOWN_MODELS.items()
        for model in models
        for name, field in model.model_fields.items()
        if field.title
    ]
    assert len(titled) > 20
    assert [(process, name, title) for process, name, title in titled if finnish[f"field_{process}.{name}"] != title] == []


def _steps_the_processes_record() -> set[str]:
    """Every fixed step name: each checkpoint model's ``STEP`` (not the prefixes of per-request and
    per-application steps, ``request_``, ``application:``), and the channel and sent steps of each
    ``Notifier.notify(…, step=…)`` a process makes."""
    steps = {model.STEP for model in _checkpoint_models() if hasattr(model, "STEP") and not model.STEP.endswith(("_", ":"))}
    for source in Path(processes.__file__).parent.rglob("*.py"):
        for step in re.findall(r'step="(\w+)"', source.read_text(encoding="utf-8")):
            steps |= {f"{step}_channel", f"{step}_sent"}
    return steps


def test_every_step_a_robot_records_is_named_in_fi_sv_and_en():
    steps = _steps_the_processes_record()
    assert {"rules_checked", "decision_channel", "reminder_sent", "report_sent"} <= steps, "the steps were found"
    unnamed = [
        f"{language.value} {step}" for language, table in staff_catalog().tables.items() for step in sorted(steps) if not table.get(step_key(step), "").strip()
    ]
    assert unnamed == []


def test_a_channel_code_reads_as_its_name_and_other_codes_stay():
    from apps.staff.desk.labels import coded_value

    finnish, swedish = staff_catalog().translator("fi"), staff_catalog().translator("sv")
    assert coded_value(finnish, "notification_preference", "suomifi") == "Suomi.fi-viestit"
    assert coded_value(swedish, "channel", "letter") == "brev"
    assert coded_value(finnish, "applicant.channel", "carrier-pigeon") == "carrier-pigeon"  # an unknown code as stored
    assert coded_value(finnish, "home_library", "email") == "email"  # only channel fields are read as channels
