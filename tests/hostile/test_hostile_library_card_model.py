"""schemas.library_card against hostile input: names in any script are kept exactly; markup is data, not
an error (the pages escape it); control, surrogate and text-direction characters, oversize and missing
fields are refused with a stable code on the field that is wrong, in fi/sv/en, without quoting the
value; an accepted application always serialises (it goes to the queue as JSON); and the e-mail rule
is the mail connector's, so an address the decision could not be sent to is refused on the form."""

from __future__ import annotations

import json
from copy import deepcopy
from typing import Any

import pytest
from hostile_support import MARKUP, PROPERTY, UNUSABLE, names
from hypothesis import example, given
from hypothesis import strategies as st
from pydantic import ValidationError

from schemas.email_address import check_address
from schemas.library_card import ERROR_MESSAGES, Language, LibraryCardApplication, describe_errors

HETU = "131052-308T"
VALID: dict[str, Any] = {
    "applicant": {
        "hetu": HETU,
        "first_names": "Aino Maria",
        "surname": "Virtanen",
        "home_municipality_code": "179",
        "home_municipality": "Jyväskylä",
        "permanent_address": {"street_address": "Kauppakatu 12 A 3", "postal_code": "40100", "post_office": "Jyväskylä"},
    },
    "home_library": "JYVPK",
    "email": "aino@example.org",
    "phone": "040 123 4567",
    "language": "fi",
    "notification_preference": "email",
    "rules_accepted": True,
    "submitted_at": "2026-11-24T21:30:00+02:00",
}

#: Every free-text field a person's data fills, as (path, the error code prefix, its length limit).
TEXT_FIELDS = [
    (("applicant", "first_names"), "first_names", 100),
    (("applicant", "surname"), "surname", 100),
    (("applicant", "home_municipality"), "home_municipality", 100),
    (("applicant", "permanent_address", "street_address"), "street_address", 256),
    (("applicant", "permanent_address", "post_office"), "post_office", 64),
]
REQUIRED = [
    ("applicant",),
    ("home_library",),
    ("rules_accepted",),
    ("submitted_at",),
    ("applicant", "first_names"),
    ("applicant", "surname"),
    ("applicant", "permanent_address", "street_address"),
    ("applicant", "permanent_address", "postal_code"),
    ("applicant", "permanent_address", "post_office"),
]


def with_value(path: tuple[str, ...], value: Any) -> dict[str, Any]:
    data = deepcopy(VALID)
    target = data
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    return data


def without(path: tuple[str, ...]) -> dict[str, Any]:
    data = deepcopy(VALID)
    target = data
    for key in path[:-1]:
        target = target[key]
    del target[path[-1]]
    return data


def problems_of(data: dict[str, Any]) -> tuple[list[Any], str]:
    with pytest.raises(ValidationError) as raised:
        LibraryCardApplication.model_validate(data)
    for language in Language:
        assert len(describe_errors(raised.value, language)) == raised.value.error_count()
    return describe_errors(raised.value, Language.EN), str(raised.value)


def field_value(application: LibraryCardApplication, path: tuple[str, ...]) -> Any:
    value: Any = application
    for key in path:
        value = getattr(value, key)
    return value


# --------------------------------------------------------------------------- any script, any markup: kept as data


@PROPERTY
@given(st.sampled_from(TEXT_FIELDS), names(max_size=64))
@example(TEXT_FIELDS[0], "Åsa-Märta Ñúñez ʻOkalani Nguyễn")
@example(TEXT_FIELDS[1], "王小明 محمد Παπαδόπουλος Øverlie")
@example(TEXT_FIELDS[1], "O'Brien <script>alert(1)</script>")
def test_a_name_in_any_script_is_kept_exactly_and_survives_the_queue(field, name):
    path, _, _ = field
    application = LibraryCardApplication.model_validate(with_value(path, name))
    assert field_value(application, path) == " ".join(name.split())
    # the queue stores the payload as JSON: an accepted application always serialises and reads back the same
    assert LibraryCardApplication.model_validate_json(application.model_dump_json()) == application


@PROPERTY
@given(st.sampled_from(TEXT_FIELDS), st.sampled_from(MARKUP))
def test_markup_in_a_text_field_is_stored_as_typed_not_interpreted(field, markup):
    path, _, _ = field
    application = LibraryCardApplication.model_validate(with_value(path, f"Aino {markup}"))
    assert field_value(application, path) == " ".join(f"Aino {markup}".split())


# --------------------------------------------------------------------------- refused, on the right field, not echoed


@PROPERTY
@given(st.sampled_from(TEXT_FIELDS), names(max_size=30), st.sampled_from([c for c in UNUSABLE if not c.isspace()]), st.integers(min_value=0, max_value=30))
def test_control_surrogate_and_direction_characters_are_refused_on_their_field(field, name, bad, position):
    path, code, _ = field
    value = name[:position] + bad + name[position:]
    problems, text = problems_of(with_value(path, value))
    assert [(p.field, p.code) for p in problems] == [(".".join(path), f"{code}_invalid")]
    assert problems[0].message == ERROR_MESSAGES[f"{code}_invalid"][Language.EN]
    assert name.strip() not in text or len(name.strip()) < 3


def test_c1_whitespace_is_collapsed_and_not_refused():
    application = LibraryCardApplication.model_validate(with_value(("applicant", "surname"), "Virta\x85nen"))
    assert application.applicant.surname == "Virta nen"


@PROPERTY
@given(st.sampled_from(TEXT_FIELDS), st.integers(min_value=1, max_value=5000))
def test_an_oversize_text_field_is_refused_as_too_long(field, extra):
    path, code, limit = field
    problems, text = problems_of(with_value(path, "Ä" * (limit + extra)))
    assert [(p.field, p.code) for p in problems] == [(".".join(path), f"{code}_too_long")]
    assert "ÄÄÄ" not in text


@PROPERTY
@given(st.sampled_from(TEXT_FIELDS), st.text(st.sampled_from(" \t\n\u00a0\u2003\u3000"), max_size=10))
def test_a_blank_text_field_is_refused_as_missing(field, blank):
    path, code, _ = field
    problems, _ = problems_of(with_value(path, blank))
    assert [(p.field, p.code) for p in problems] == [(".".join(path), f"{code}_missing")]


@pytest.mark.parametrize("path", REQUIRED, ids=".".join)
def test_a_missing_required_field_is_named(path):
    problems, _ = problems_of(without(path))
    assert [(p.field, p.code) for p in problems] == [(".".join(path), "missing")]
    assert problems[0].message == ERROR_MESSAGES["missing"][Language.EN]


@PROPERTY
@given(st.sampled_from(["home_library", "phone", "email"]), st.sampled_from(MARKUP))
def test_markup_in_a_coded_field_is_refused_on_that_field(field, markup):
    problems, text = problems_of(with_value((field,), markup))
    expected = {"home_library": "library_code_invalid", "phone": "phone_invalid", "email": "email_invalid"}[field]
    assert [(p.field, p.code) for p in problems] == [(field, expected)]
    assert markup not in text


@PROPERTY
@given(st.one_of(st.emails(), st.text(max_size=40), st.builds(lambda a, b: f"{a}@{b}", st.text(max_size=12), st.text(max_size=12))))
@example("<script>alert(1)</script>@example.org")
@example('"aino virtanen"@example.org')
@example("aino@exämple.fi")
@example("äiti@example.fi")
@example("aino@example")
@example("aino@-example.org")
def test_the_form_takes_exactly_the_addresses_the_mail_connector_can_send_to(address):
    try:
        check_address(address)
    except ValueError:
        sendable = False
    else:
        sendable = True
    if not address.strip():
        return  # an empty e-mail field means "no address", not an error
    try:
        application = LibraryCardApplication.model_validate(with_value(("email",), address))
    except ValidationError as error:
        assert not sendable, "an address the mailer takes was refused"
        assert [(p.field, p.code) for p in describe_errors(error)] == [("email", "email_invalid")]
        return
    assert sendable, "an address the mailer refuses was accepted"
    assert application.email is not None and application.email.lower() == address.strip().lower()


# --------------------------------------------------------------------------- anything at all


_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=30) | st.sampled_from(MARKUP),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=12), inner, max_size=4),
    max_leaves=12,
)


@PROPERTY
@given(st.sampled_from([(), ("applicant",), ("applicant", "permanent_address")]), st.text(max_size=15), _json)
def test_any_json_anywhere_is_either_a_valid_application_or_a_described_error(where, key, value):
    data = deepcopy(VALID)
    target = data
    for part in where:
        target = target[part]
    target[key] = value
    try:
        application = LibraryCardApplication.model_validate(data)
    except ValidationError as error:
        problems = describe_errors(error, Language.SV)
        assert problems and all(problem.field is not None and problem.message for problem in problems)
        shown = json.dumps([problem.model_dump() for problem in problems])
        for leaf in value if isinstance(value, list) else [value]:
            if isinstance(leaf, str) and len(leaf) >= 4 and leaf not in key and not any(leaf in p.field for p in problems):
                assert leaf not in shown
        return
    json.loads(application.model_dump_json())
