"""schemas.hetu: every valid henkilötunnus passes, everything else fails without echoing the value."""

from __future__ import annotations

import json
import pickle
from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import BaseModel, ConfigDict, SecretStr, ValidationError
from robot.utils import prepr

from schemas import Hetu, hetu_key, parse_hetu
from schemas.redaction import HETU_PATTERN, redact

TODAY = date(2026, 11, 25)

# Check characters worked out by hand from the DVV rule (DDMMYYZZZ mod 31); 131052-308T is DVV's
# own example and 210281-9988 a Suomi.fi test person.
VALID = {
    "131052-308T": (date(1952, 10, 13), "-", 308),
    "210281-9988": (date(1981, 2, 21), "-", 998),
    "050879+456S": (date(1879, 8, 5), "+", 456),
    "010594Y239M": (date(1994, 5, 1), "Y", 239),
    "010594U231C": (date(1994, 5, 1), "U", 231),
    "311299V1236": (date(1999, 12, 31), "V", 123),
    "150601W002U": (date(1901, 6, 15), "W", 2),
    "010101X999X": (date(1901, 1, 1), "X", 999),
    "010199-9001": (date(1999, 1, 1), "-", 900),
    "290200A1239": (date(2000, 2, 29), "A", 123),
    "290200B404B": (date(2000, 2, 29), "B", 404),
    "150315C0021": (date(2015, 3, 15), "C", 2),
    "311223D555H": (date(2023, 12, 31), "D", 555),
    "010120E777N": (date(2020, 1, 1), "E", 777),
    "290224F101S": (date(2024, 2, 29), "F", 101),
    "290296-2461": (date(1996, 2, 29), "-", 246),
}

INVALID = {
    "131052-308U": "check character",
    "131052-3080": "check character",
    "310252-1234": "not a real date",  # 31 Feb
    "290201A123X": "not a real date",  # 2001 is no leap year
    "290200-1230": "not a real date",  # neither is 1900
    "011352-308T": "not a real date",  # month 13
    "001052-308T": "not a real date",  # day 0
    "131052-000T": "002-999",
    "131052-001T": "002-999",
    "010130A123X": "future",
    "131052-308t": "upper case",
    "131052 308T": "no spaces",
    " 31052-308T": "no spaces",
    "131052-308T ": "no spaces",
    "131052-308T\n": "no spaces",
    "131052\u00a0308T": "no spaces",
    "131052-308": "11 characters",
    "13105-2308T": "DDMMYY",
    "131052G308T": "DDMMYY",  # G is no century sign
    "131052Z308T": "DDMMYY",
    "131052-3O8T": "DDMMYY",  # letter O for zero
    "": "11 characters",
}


class Person(BaseModel):
    model_config = ConfigDict(hide_input_in_errors=True)
    hetu: Hetu


@pytest.mark.parametrize("code", sorted(VALID))
def test_valid_codes_of_every_century_sign_are_accepted(code):
    born, sign, individual = VALID[code]
    info = parse_hetu(code, today=TODAY)
    assert (info.birth_date, info.century_sign, info.individual_number) == (born, sign, individual)
    assert Person(hetu=code).hetu.value == code


def test_every_century_sign_is_covered_by_the_examples():
    assert {sign for _, sign, _ in VALID.values()} == set("+-UVWXYABCDEF")


@pytest.mark.parametrize("code", sorted(INVALID))
def test_invalid_codes_are_rejected_with_a_reason_that_does_not_echo_them(code):
    with pytest.raises(ValueError, match=INVALID[code]) as raised:
        parse_hetu(code, today=TODAY)
    if code.strip():
        assert code.strip() not in str(raised.value)
    with pytest.raises(ValidationError) as model_error:
        Person(hetu=code)
    assert INVALID[code] in str(model_error.value)
    if code.strip():
        assert code.strip() not in str(model_error.value)


def test_non_text_is_rejected():
    with pytest.raises(ValueError, match="must be text"):
        parse_hetu(1310523080)
    with pytest.raises(ValidationError, match="must be text"):
        Person(hetu=1310523080)


def test_born_today_is_valid_and_born_tomorrow_is_not():
    today = date(2024, 2, 29)
    nine = "290224" + "123"
    code = f"290224A123{'0123456789ABCDEFHJKLMNPRSTUVWXY'[int(nine) % 31]}"
    assert parse_hetu(code, today=today).birth_date == today
    with pytest.raises(ValueError, match="future"):
        parse_hetu(code, today=today - timedelta(days=1))


def test_the_repr_is_masked_everywhere_a_value_gets_printed_by_accident():
    person = Person(hetu="210281-9988")
    for text in (repr(person.hetu), repr(person), str(person), f"{person}", f"{person!r}", prepr(person.hetu), prepr([person.hetu]), repr(person.hetu.info())):
        assert "210281" not in text and "9988" not in text, text
    assert "Hetu('******-****')" in repr(person)


def test_the_real_value_is_available_where_it_must_be_sent():
    person = Person(hetu="210281-9988")
    assert str(person.hetu) == person.hetu.value == "210281-9988"
    assert type(person.hetu.value) is str
    assert json.loads(person.model_dump_json()) == {"hetu": "210281-9988"}
    assert Person.model_validate_json(person.model_dump_json()) == person
    assert pickle.loads(pickle.dumps(person.hetu)).value == "210281-9988"
    assert Hetu(person.hetu) is person.hetu


def test_constructing_a_hetu_directly_validates():
    with pytest.raises(ValueError, match="check character"):
        Hetu("131052-308U")


def test_json_schema_describes_the_shape_without_examples():
    schema = Person.model_json_schema()["properties"]["hetu"]
    assert schema["type"] == "string" and schema["format"] == "fi-hetu"


def test_age_counts_whole_years_and_leap_day_birthdays():
    info = parse_hetu("290296-2461", today=TODAY)
    assert info.age_on(date(2014, 2, 28)) == 17
    assert info.age_on(date(2014, 3, 1)) == 18
    assert info.age_on(date(2016, 2, 29)) == 20
    assert parse_hetu("150315C0021", today=TODAY).age_on(date(2026, 3, 14)) == 10
    assert parse_hetu("150315C0021", today=TODAY).age_on(date(2026, 3, 15)) == 11


def test_individual_number_tells_temporary_codes_and_sex():
    assert parse_hetu("210281-9988").temporary is True
    assert parse_hetu("131052-308T").temporary is False
    assert parse_hetu("131052-308T").sex == "female"
    assert parse_hetu("010594U231C").sex == "male"


def test_hetu_key_is_a_stable_salted_key_that_reveals_nothing():
    salt = SecretStr("kunta-salt")
    key = hetu_key("210281-9988", salt)
    assert key == hetu_key(Hetu("210281-9988"), salt)
    assert len(key) == 64 and set(key) <= set("ghijklmnopqrstuv")
    assert "210281" not in key
    assert key != hetu_key("210281-9988", SecretStr("other-salt"))
    assert key != hetu_key("131052-308T", salt)


def test_hetu_key_refuses_an_invalid_hetu_or_an_empty_salt():
    with pytest.raises(ValueError, match="check character"):
        hetu_key("131052-308U", SecretStr("salt"))
    with pytest.raises(ValueError, match="salt is empty"):
        hetu_key("131052-308T", SecretStr(""))


# ---------------------------------------------------------------------------------- properties

CHECK = "0123456789ABCDEFHJKLMNPRSTUVWXY"
SIGNS_BY_CENTURY = {1800: "+", 1900: "-UVWXY", 2000: "ABCDEF"}
CENTURY_OF = {sign: century for century, signs in SIGNS_BY_CENTURY.items() for sign in signs}


@st.composite
def valid_hetus(draw):
    born = draw(st.dates(min_value=date(1800, 1, 1), max_value=TODAY))
    sign = draw(st.sampled_from(SIGNS_BY_CENTURY[born.year // 100 * 100]))
    individual = draw(st.integers(min_value=2, max_value=999))
    nine = f"{born:%d%m}{born.year % 100:02d}{individual:03d}"
    return f"{nine[:6]}{sign}{nine[6:]}{CHECK[int(nine) % 31]}", born


@settings(max_examples=300, deadline=None)
@given(valid_hetus())
def test_generated_valid_codes_are_always_accepted(case):
    code, born = case
    assert parse_hetu(code, today=TODAY).birth_date == born


@settings(max_examples=300, deadline=None)
@given(valid_hetus(), st.text(min_size=1, max_size=40))
def test_hetu_keys_never_look_like_a_hetu_to_the_redaction_filter(case, salt):
    key = hetu_key(case[0], SecretStr(salt))
    assert HETU_PATTERN.search(key) is None and redact(key) == key
    assert HETU_PATTERN.search(f"prefix-{key}-suffix 123456") is None  # nor next to other text


def test_a_hex_key_that_once_looked_like_a_hetu_is_letters_now():
    # Under this salt the old hex key of 070779-912Y held the hetu-shaped run "371952d806f".
    key = hetu_key("070779-912Y", SecretStr("kunta-salt"))
    assert HETU_PATTERN.search(key.translate(str.maketrans("ghijklmnopqrstuv", "0123456789abcdef"))) is not None
    assert HETU_PATTERN.search(key) is None


def _real_date_in(code: str, sign: str) -> date | None:
    try:
        return date(CENTURY_OF[sign] + int(code[4:6]), int(code[2:4]), int(code[0:2]))
    except ValueError:
        return None


@settings(max_examples=400, deadline=None)
@given(valid_hetus(), st.integers(min_value=0, max_value=10), st.sampled_from("0123456789ABCDEFHJKLMNPRSTUVWXY+-"))
def test_a_one_character_change_is_caught_unless_only_the_century_sign_moved(case, position, replacement):
    code, _ = case
    mutated = code[:position] + replacement + code[position + 1 :]
    if mutated == code:
        return
    if position == 6 and replacement in CENTURY_OF:
        # The sign is outside the checksum: the code stays valid exactly when the date does.
        born = _real_date_in(code, replacement)
        expected_valid = born is not None and born <= TODAY
    else:
        # Any other change alters the checksummed digits (31 is prime, so a one-digit change
        # always changes the remainder), the check character itself, or the shape.
        expected_valid = False
    try:
        parse_hetu(mutated, today=TODAY)
    except ValueError:
        accepted = False
    else:
        accepted = True
    assert accepted is expected_valid
