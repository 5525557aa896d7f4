"""schemas.Hetu / parse_hetu against hostile and odd input: every century sign (the 2023 ones too),
individual numbers 002–999 and the two below, 29 February, future dates, whitespace of every kind,
lower case, a wrong check character, and arbitrary text. A valid code is always accepted with what it
encodes; anything else is a ``ValueError`` (a ``ValidationError`` in a model) whose message says what
is wrong without repeating the code."""

from __future__ import annotations

import calendar
from datetime import date, timedelta

import pytest
from hostile_support import PROPERTY
from hypothesis import example, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel, ConfigDict, ValidationError

from schemas import Hetu, parse_hetu
from schemas.hetu import helsinki_today

TODAY = helsinki_today()  # the models check against today in Helsinki, so the properties must too
CHECK = "0123456789ABCDEFHJKLMNPRSTUVWXY"
SIGNS = {"+": 1800, "-": 1900, "U": 1900, "V": 1900, "W": 1900, "X": 1900, "Y": 1900, "A": 2000, "B": 2000, "C": 2000, "D": 2000, "E": 2000, "F": 2000}
WHITESPACE = " \t\n\r\x0b\x0c\u00a0\u1680\u2000\u2007\u2009\u200a\u2028\u2029\u202f\u205f\u3000"


class Person(BaseModel):
    model_config = ConfigDict(hide_input_in_errors=True)
    hetu: Hetu


def code_for(born: date, sign: str, individual: int) -> str:
    nine = f"{born:%d%m}{born.year % 100:02d}{individual:03d}"
    return f"{nine[:6]}{sign}{nine[6:]}{CHECK[int(nine) % 31]}"


@st.composite
def valid_codes(draw: st.DrawFn) -> tuple[str, date, str, int]:
    sign = draw(st.sampled_from(sorted(SIGNS)))
    century = SIGNS[sign]
    born = draw(st.dates(min_value=date(century, 1, 1), max_value=min(date(century + 99, 12, 31), TODAY)))
    individual = draw(st.integers(min_value=2, max_value=999))
    return code_for(born, sign, individual), born, sign, individual


def refused(code: object) -> str:
    """The refusal's message, checked to be the same through a model and never to echo the code."""
    with pytest.raises(ValueError) as raised:
        parse_hetu(code, today=TODAY)
    message = str(raised.value)
    with pytest.raises(ValidationError) as model_error:
        Person(hetu=code)
    if isinstance(code, str) and len(code.strip()) >= 6:
        core = code.strip()
        for part in (core, core[:6], core[7:]):
            if len(part) >= 4:
                assert part not in message and part not in str(model_error.value), "the refusal repeats the code"
    return message


# --------------------------------------------------------------------------- accepted


@settings(PROPERTY, max_examples=200)
@given(valid_codes())
@example(("290200A1239", date(2000, 2, 29), "A", 123))
@example(("290296-2461", date(1996, 2, 29), "-", 246))
@example((code_for(date(1904, 2, 29), "Y", 2), date(1904, 2, 29), "Y", 2))
@example((code_for(date(2024, 2, 29), "F", 999), date(2024, 2, 29), "F", 999))
def test_every_valid_code_of_every_century_sign_is_accepted_with_what_it_encodes(case):
    code, born, sign, individual = case
    info = parse_hetu(code, today=TODAY)
    assert (info.birth_date, info.century_sign, info.individual_number) == (born, sign, individual)
    assert info.temporary is (individual >= 900)
    assert Person(hetu=code).hetu.value == code and code not in repr(Person(hetu=code))


def test_the_2023_century_signs_mean_the_same_centuries_as_the_old_ones():
    born = date(1999, 12, 31)
    for sign in "-UVWXY":
        assert parse_hetu(code_for(born, sign, 123), today=TODAY).birth_date == born
    born = date(2010, 6, 1)
    for sign in "ABCDEF":
        assert parse_hetu(code_for(born, sign, 123), today=TODAY).birth_date == born


# --------------------------------------------------------------------------- refused, each for its reason


@PROPERTY
@given(valid_codes(), st.integers(min_value=0, max_value=1))
def test_individual_numbers_000_and_001_are_refused(case, individual):
    _code, born, sign, _ = case
    assert "002-999" in refused(code_for(born, sign, individual))


@PROPERTY
@given(st.integers(min_value=1801, max_value=2099).filter(lambda year: not calendar.isleap(year)))
def test_29_february_of_a_common_year_is_not_a_real_date(year):
    sign = {1800: "+", 1900: "-", 2000: "A"}[year // 100 * 100]
    nine = f"2902{year % 100:02d}123"
    code = f"{nine[:6]}{sign}{nine[6:]}{CHECK[int(nine) % 31]}"
    assert "not a real date" in refused(code)


@PROPERTY
@given(st.dates(min_value=TODAY + timedelta(days=1), max_value=date(2099, 12, 31)), st.sampled_from("ABCDEF"), st.integers(min_value=2, max_value=999))
def test_a_birth_date_after_today_is_refused(born, sign, individual):
    assert "future" in refused(code_for(born, sign, individual))


@PROPERTY
@given(valid_codes(), st.sampled_from(WHITESPACE), st.sampled_from(["before", "after", "inside", "instead"]))
def test_whitespace_of_any_kind_anywhere_is_refused_as_a_space(case, space, where):
    code = case[0]
    spaced = {"before": space + code, "after": code + space, "inside": code[:6] + space + code[6:], "instead": code[:6] + space + code[7:]}[where]
    assert "no spaces" in refused(spaced)


@PROPERTY
@given(valid_codes().filter(lambda case: any(c.isalpha() for c in case[0])))
def test_lower_case_is_refused(case):
    assert "upper case" in refused(case[0].lower())


@PROPERTY
@given(valid_codes(), st.sampled_from(CHECK))
def test_a_wrong_check_character_is_refused(case, other):
    code = case[0]
    if other == code[10]:
        return
    assert "check character" in refused(code[:10] + other)


@PROPERTY
@given(st.one_of(st.text(max_size=20), st.binary(max_size=11), st.integers(), st.none(), st.floats(allow_nan=True)))
@example("１３１０５２-３０８Ｔ")  # full-width digits
@example("١٣١٠٥٢-٣٠٨T")  # Arabic-Indic digits
@example("131052\u2010308T")  # a Unicode hyphen
@example("131052-308Ｔ")
@example("<script>a</>")
def test_arbitrary_input_is_either_a_valid_code_or_a_value_error(value):
    try:
        info = parse_hetu(value, today=TODAY)
    except ValueError as error:
        assert str(error)
        if isinstance(value, str) and len(value) >= 6:
            assert value not in str(error)
        return
    # Accepted: then it really is a code of the documented shape, in ASCII.
    assert isinstance(value, str) and value.isascii() and len(value) == 11 and info.birth_date <= TODAY
