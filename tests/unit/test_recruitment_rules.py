"""Mass-recruitment screening, one rule at a time, and the letters a candidate reads."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest

from schemas.recruitment import (
    Candidate,
    JobRequirements,
    Outcome,
    ReasonCode,
    RegisteredRight,
    RegisterPerson,
    invitation_letter,
    match_register,
    rejection_letter,
    screen,
)
from schemas.redaction import HETU_PATTERN

TODAY = date(2026, 11, 25)
JOB = JobRequirements(
    job_key="sote-03-2180-26",
    job_id=4101,
    title="Sairaanhoitaja, kotihoito",
    professions=["Sairaanhoitaja", "Terveydenhoitaja"],
    qualifications=["Sairaanhoitaja (AMK)", "Terveydenhoitaja (AMK)"],
    period_start=date(2026, 12, 25),
    period_end=date(2027, 6, 24),
)


def candidate(**changes) -> Candidate:
    values = {
        "application_id": 41010001,
        "candidate_id": 410100001,
        "first_names": "Aino Maria",
        "last_name": "Virtanen",
        "birth_date": date(1990, 5, 17),
        "email": "aino.virtanen@example.fi",
        "registration_number": "10012345678",
        "qualifications": ["Sairaanhoitaja (AMK)"],
        "languages": {"suomi": "äidinkieli", "englanti": "hyvä"},
        "available_from": date(2026, 12, 1),
        "available_until": None,
        "reference_consent": True,
    }
    return Candidate(**{**values, **changes})


def registered(*rights: RegisteredRight, **changes) -> RegisterPerson:
    values = {
        "registration_number": "10012345678",
        "last_name": "Virtanen",
        "first_names": "Aino Maria",
        "birth_date": date(1990, 5, 17),
        "rights": list(rights),
    }
    return RegisterPerson(**{**values, **changes})


def right(profession="Sairaanhoitaja", status="valid", valid_until=None) -> RegisteredRight:
    return RegisteredRight(profession=profession, status=status, valid_from=date(2015, 6, 1), valid_until=valid_until)


def screened(person: Candidate, holder: RegisterPerson | None = None, namesakes: list[RegisterPerson] | None = None):
    finding = match_register(person, by_number=holder) if person.registration_number else match_register(person, by_name=namesakes or [])
    return screen(person, JOB, finding, today=TODAY)


def test_a_candidate_who_meets_every_requirement_is_eligible():
    assert screened(candidate(), registered(right())) == screened(candidate(), registered(right("Terveydenhoitaja")))
    assert screened(candidate(), registered(right())).outcome is Outcome.ELIGIBLE


def test_an_expired_right_is_not_eligible_and_so_is_one_past_its_end_date():
    assert screened(candidate(), registered(right(status="expired", valid_until=date(2026, 3, 1)))).reasons == [ReasonCode.LICENCE_EXPIRED]
    ended = screened(candidate(), registered(right(status="valid", valid_until=date(2026, 11, 24))))
    assert (ended.outcome, ended.reasons) == (Outcome.NOT_ELIGIBLE, [ReasonCode.LICENCE_EXPIRED])


def test_a_right_in_another_profession_is_not_eligible():
    assert screened(candidate(), registered(right("Lähihoitaja"))).reasons == [ReasonCode.WRONG_PROFESSION]


def test_a_limited_right_goes_to_a_person():
    result = screened(candidate(), registered(right(status="limited")))
    assert (result.outcome, result.reasons) == (Outcome.NEEDS_REVIEW, [ReasonCode.LICENCE_LIMITED])


def test_a_number_held_by_someone_else_is_a_mismatch_for_a_person_to_check():
    result = screened(candidate(), registered(right(), last_name="Korhonen", first_names="Mikko"))
    assert (result.outcome, result.reasons) == (Outcome.NEEDS_REVIEW, [ReasonCode.LICENCE_DETAILS_MISMATCH])
    assert screened(candidate(), None).reasons == [ReasonCode.LICENCE_NOT_FOUND]


def test_without_a_number_a_namesake_born_on_another_day_is_not_the_candidate():
    no_number = candidate(registration_number=None)
    namesake = registered(right(), registration_number="10087654321", birth_date=date(1975, 1, 2))
    result = screened(no_number, namesakes=[namesake])
    assert (result.outcome, result.reasons) == (Outcome.NEEDS_REVIEW, [ReasonCode.LICENCE_NOT_FOUND])
    assert screened(no_number, namesakes=[namesake, registered(right())]).outcome is Outcome.ELIGIBLE
    assert screened(no_number, namesakes=[registered(right()), registered(right(), registration_number="10011111111")]).reasons == [
        ReasonCode.SEVERAL_REGISTER_MATCHES
    ]


def test_a_malformed_number_is_looked_up_by_name_and_birth_date_instead():
    finding = match_register(candidate(registration_number="1001234"), by_name=[registered(right())])
    assert (finding.status, finding.searched_by, finding.registration_number) == ("found", "name_and_birth_date", "10012345678")


def test_a_qualification_outside_the_accepted_ones_is_not_eligible():
    assert screened(candidate(qualifications=["Merkonomi"]), registered(right())).reasons == [ReasonCode.QUALIFICATION_MISSING]


@pytest.mark.parametrize(
    ("level", "eligible"), [("äidinkieli", True), ("erinomainen", True), ("hyvä", True), ("tyydyttävä", False), ("alkeet", False), (None, False)]
)
def test_finnish_must_be_at_least_good(level, eligible):
    languages = {"englanti": "äidinkieli", **({"suomi": level} if level else {})}
    result = screened(candidate(languages=languages), registered(right()))
    assert result.outcome is (Outcome.ELIGIBLE if eligible else Outcome.NOT_ELIGIBLE)


@pytest.mark.parametrize(
    ("available_from", "available_until", "reasons"),
    [
        (date(2026, 12, 25), None, []),
        (date(2026, 12, 1), date(2027, 6, 24), []),
        (date(2027, 1, 10), None, [ReasonCode.PARTLY_AVAILABLE]),
        (date(2026, 12, 1), date(2027, 3, 1), [ReasonCode.PARTLY_AVAILABLE]),
        (date(2027, 7, 1), None, [ReasonCode.NOT_AVAILABLE]),
        (date(2026, 1, 1), date(2026, 12, 24), [ReasonCode.NOT_AVAILABLE]),
        (None, None, [ReasonCode.PARTLY_AVAILABLE]),
    ],
)
def test_availability_must_cover_the_period(available_from, available_until, reasons):
    assert screened(candidate(available_from=available_from, available_until=available_until), registered(right())).reasons == reasons


def test_no_consent_to_contact_references_goes_to_a_person():
    result = screened(candidate(reference_consent=False), registered(right()))
    assert (result.outcome, result.reasons) == (Outcome.NEEDS_REVIEW, [ReasonCode.NO_REFERENCE_CONSENT])


def test_a_not_eligible_reason_outweighs_review_reasons_and_all_are_kept():
    result = screened(candidate(reference_consent=False, qualifications=[]), registered(right(status="limited")))
    assert result.outcome is Outcome.NOT_ELIGIBLE
    assert result.reasons == [ReasonCode.LICENCE_LIMITED, ReasonCode.QUALIFICATION_MISSING, ReasonCode.NO_REFERENCE_CONSENT]


def test_a_job_without_a_profession_needs_no_register_match():
    job = JOB.model_copy(update={"professions": []})
    assert screen(candidate(), job, None, today=TODAY).outcome is Outcome.ELIGIBLE


def test_the_rejection_letter_explains_each_reason_in_plain_finnish_and_nothing_else():
    letter = rejection_letter(
        candidate(), JOB, [ReasonCode.LICENCE_EXPIRED, ReasonCode.QUALIFICATION_MISSING, ReasonCode.NO_REFERENCE_CONSENT], reply_by=date(2026, 12, 9)
    )
    assert letter.subject == "Hakemuksesi tehtävään Sairaanhoitaja, kotihoito (sote-03-2180-26)"
    assert letter.text.startswith("Hei Aino,")
    assert "ei ole enää voimassa" in letter.text and "Sairaanhoitaja (AMK)" in letter.text and "9.12.2026 mennessä" in letter.text
    assert "suosittelij" not in letter.text  # a review reason is not a reason to reject
    assert not HETU_PATTERN.search(letter.text)


def test_the_invitation_says_when_and_where_in_helsinki_time():
    helsinki = ZoneInfo("Europe/Helsinki")
    letter = invitation_letter(
        candidate(),
        JOB,
        starts=datetime(2026, 12, 3, 9, 0, tzinfo=helsinki),
        ends=datetime(2026, 12, 3, 10, 30, tzinfo=helsinki),
        location="Työpajankatu 8, 00580 Helsinki",
    )
    assert "torstaina 3.12.2026 klo 09.00–10.30" in letter.text and "Työpajankatu 8" in letter.text
