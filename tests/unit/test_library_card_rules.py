"""schemas.library_card: the application's validation, the library rules, category, expiry, channel, texts."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from pydantic import ValidationError

from connectors.koha.models import PatronCategory
from connectors.koha.sandbox.seed import CATEGORIES
from schemas import library_card
from schemas.hetu import CHECK_CHARACTERS
from schemas.library_card import (
    ERROR_MESSAGES,
    ApplicationDecision,
    CategoryConfigurationError,
    Channel,
    DecisionFacts,
    Language,
    LibraryCardApplication,
    NotificationPreference,
    ReasonCode,
    card_expiry,
    check_library_rules,
    choose_category,
    choose_channel,
    decided_on,
    decision_text,
    describe_errors,
    needs_guarantor,
)

TODAY = date(2026, 11, 25)
SENT = datetime(2026, 11, 24, 21, 30, tzinfo=UTC)


def make_hetu(born: date, individual: int = 901) -> str:
    """A henkilötunnus in the temporary 900-999 range, built from its rule (no real person)."""
    sign = {18: "+", 19: "-", 20: "A"}[born.year // 100]
    digits = f"{born:%d%m%y}{individual:03d}"
    return f"{born:%d%m%y}{sign}{individual:03d}{CHECK_CHARACTERS[int(digits) % 31]}"


ADDRESS = {"street_address": "Kauppakatu 1 A 2", "postal_code": "40100", "post_office": "Jyväskylä"}


def person(born: date, *, individual: int = 901, **changes) -> dict:
    return {
        "hetu": make_hetu(born, individual),
        "first_names": "Aino Maria",
        "surname": "Meikäläinen",
        "home_municipality_code": "179",
        "home_municipality": "Jyväskylä",
        "permanent_address": dict(ADDRESS),
        "non_disclosure": False,
        **changes,
    }


def guardian(born: date = date(1985, 3, 15), **changes) -> dict:
    return {
        **person(born, individual=933),
        "first_names": "Mikko",
        "relationship_verified_by": "suomifi_valtuudet",
        "relationship_verified_at": "2026-11-24T21:29:00+02:00",
        **changes,
    }


def application(applicant: dict | None = None, **changes) -> dict:
    return {
        "applicant": applicant or person(date(1990, 5, 17)),
        "guardian": None,
        "home_library": "JYVPK",
        "email": "aino@example.org",
        "phone": "+358401234567",
        "language": "fi",
        "notification_preference": "suomifi",
        "rules_accepted": True,
        "submitted_at": SENT.isoformat(),
        **changes,
    }


def parse(data: dict) -> LibraryCardApplication:
    return LibraryCardApplication.model_validate(data)


def error_codes(data: dict) -> dict[str, str]:
    with pytest.raises(ValidationError) as caught:
        parse(data)
    return {".".join(map(str, e["loc"])): e["type"] for e in caught.value.errors()}


def categories() -> list[PatronCategory]:
    """The Koha sandbox's categories, as the connector reads them."""
    return [PatronCategory.model_validate(category) for category in CATEGORIES]


# --------------------------------------------------------------------------- the payload


def test_a_complete_application_parses_and_its_repr_shows_no_personal_data():
    data = application()
    parsed = parse(data)
    assert parsed.applicant.hetu.value == data["applicant"]["hetu"]
    assert parsed.applicant.birth_date == date(1990, 5, 17)
    text = repr(parsed) + str(parsed)
    for secret in (data["applicant"]["hetu"], "Meikäläinen", "Kauppakatu", "aino@example.org", "+358401234567"):
        assert secret not in text
    # JSON round trip: what the e-service enqueues is what the robot reads.
    assert parse(parsed.model_dump(mode="json")) == parsed


def test_contact_details_are_normalised():
    parsed = parse(application(email="  Aino@Example.ORG ", phone="+358 40 123-4567", home_library=" jyvpk "))
    assert (parsed.email, parsed.phone, parsed.home_library) == ("Aino@example.org", "+358401234567", "JYVPK")
    assert parse(application(email="", phone=" ")).email is None


@pytest.mark.parametrize(
    ("changes", "field", "code"),
    [
        ({"email": "aino.example.org"}, "email", "email_invalid"),
        ({"phone": "040-ABC"}, "phone", "phone_invalid"),
        ({"phone": "+35840+123"}, "phone", "phone_invalid"),
        ({"home_library": "Jyväskylä pääkirjasto"}, "home_library", "library_code_invalid"),
        ({"rules_accepted": False}, "rules_accepted", "rules_not_accepted"),
        ({"language": "de"}, "language", "enum"),
        ({"submitted_at": "2026-11-24T21:30:00"}, "submitted_at", "timezone_aware"),
        ({"email": None, "notification_preference": "email"}, "", "email_missing_for_preference"),
        ({"favourite_colour": "blue"}, "favourite_colour", "extra_forbidden"),
    ],
)
def test_each_bad_field_has_its_own_stable_error_code(changes, field, code):
    assert error_codes(application(**changes)) == {field: code}


@pytest.mark.parametrize(
    ("changes", "field", "code"),
    [
        ({"hetu": "170590-901X"}, "applicant.hetu", "hetu_invalid"),
        ({"hetu": None}, "applicant", "identity_missing"),
        ({"hetu": None, "eidas_person_identifier": "SE/FI/199005171234"}, "applicant", "date_of_birth_missing"),
        ({"hetu": None, "eidas_person_identifier": "199005171234", "date_of_birth": "1990-05-17"}, "applicant.eidas_person_identifier", "eidas_id_invalid"),
        ({"date_of_birth": "1990-05-18"}, "applicant", "date_of_birth_mismatch"),
        ({"non_disclosure": True}, "applicant", "address_with_non_disclosure"),
        ({"surname": "   "}, "applicant.surname", "surname_missing"),
        ({"first_names": "A" * 101}, "applicant.first_names", "first_names_too_long"),
        ({"first_names": "Aino\x00"}, "applicant.first_names", "first_names_invalid"),
        ({"home_municipality_code": "17"}, "applicant.home_municipality_code", "municipality_code_invalid"),
        ({"permanent_address": {**ADDRESS, "postal_code": "4010"}}, "applicant.permanent_address.postal_code", "postal_code_invalid"),
        ({"permanent_address": {**ADDRESS, "street_address": ""}}, "applicant.permanent_address.street_address", "street_address_missing"),
    ],
)
def test_each_bad_identity_field_has_its_own_stable_error_code(changes, field, code):
    assert error_codes(application(person(date(1990, 5, 17), **changes))) == {field: code}


def test_a_guardian_must_identify_with_a_hetu_and_say_when_the_guardianship_was_checked():
    no_hetu = guardian(hetu=None, eidas_person_identifier="SE/FI/198503151234", date_of_birth="1985-03-15")
    assert error_codes(application(person(date(2018, 3, 12)), guardian=no_hetu)) == {"guardian": "guardian_hetu_missing"}
    no_time = guardian(relationship_verified_at=None)
    assert error_codes(application(person(date(2018, 3, 12)), guardian=no_time)) == {"guardian": "guardianship_time_missing"}


def test_an_invalid_hetu_is_never_echoed_in_the_validation_error():
    bad = "170590-901X"
    with pytest.raises(ValidationError) as caught:
        parse(application(person(date(1990, 5, 17), hetu=bad)))
    assert bad not in str(caught.value)
    assert "check character" in str(caught.value)


def test_every_error_code_reads_in_finnish_swedish_and_english():
    with pytest.raises(ValidationError) as caught:
        parse(application(person(date(1990, 5, 17), first_names="", permanent_address={**ADDRESS, "postal_code": "x"}), email="@", rules_accepted=False))
    for language in Language:
        problems = describe_errors(caught.value, language)
        assert {p.field: p.code for p in problems} == {
            "applicant.first_names": "first_names_missing",
            "applicant.permanent_address.postal_code": "postal_code_invalid",
            "email": "email_invalid",
            "rules_accepted": "rules_not_accepted",
        }
        assert all(p.message == ERROR_MESSAGES[p.code][language] for p in problems)
    assert describe_errors(caught.value, "sv")[0].message == "Förnamn saknas."
    assert all(set(messages) == set(Language) and all(messages.values()) for messages in ERROR_MESSAGES.values())


def test_every_code_the_validators_can_raise_has_a_translation():
    source = Path(library_card.__file__).read_text(encoding="utf-8")
    codes = set(re.findall(r'_error\("([a-z_]+)"', source))
    fields = {"first_names", "surname", "home_municipality", "street_address", "post_office"}
    codes |= {f"{field}_{kind}" for field in fields for kind in ("missing", "too_long", "invalid")}
    assert codes - set(ERROR_MESSAGES) == set()


# --------------------------------------------------------------------------- the rules


def rules(data: dict, today: date = TODAY) -> ReasonCode:
    return check_library_rules(parse(data), today=today)


def test_an_adult_with_an_address_in_finland_gets_a_card():
    assert rules(application()) is ReasonCode.CARD_GRANTED


def test_a_child_of_14_years_and_364_days_cannot_apply_alone():
    assert rules(application(person(date(2011, 11, 26)))) is ReasonCode.UNDER_15_NO_GUARDIAN


def test_a_child_applies_alone_on_the_15th_birthday():
    assert rules(application(person(date(2011, 11, 25)))) is ReasonCode.CARD_GRANTED


def test_a_leap_day_child_turns_15_on_the_first_of_march():
    data = application(person(date(2012, 2, 29)))
    assert rules(data, date(2027, 2, 28)) is ReasonCode.UNDER_15_NO_GUARDIAN
    assert rules(data, date(2027, 3, 1)) is ReasonCode.CARD_GRANTED


def test_a_child_gets_a_card_through_a_verified_adult_guardian_who_becomes_the_guarantor():
    data = application(person(date(2018, 3, 12)), guardian=guardian())
    assert rules(data) is ReasonCode.CARD_GRANTED
    assert needs_guarantor(parse(data), today=TODAY)
    assert parse(data).recipient == parse(data).guardian


def test_a_15_year_old_applying_through_a_guardian_needs_no_guarantor():
    data = application(person(date(2011, 11, 25)), guardian=guardian())
    assert rules(data) is ReasonCode.CARD_GRANTED
    assert not needs_guarantor(parse(data), today=TODAY)


def test_the_guardian_must_be_of_age_on_the_day():
    assert rules(application(person(date(2018, 3, 12)), guardian=guardian(date(2008, 11, 26)))) is ReasonCode.GUARDIAN_NOT_ADULT
    assert rules(application(person(date(2018, 3, 12)), guardian=guardian(date(2008, 11, 25)))) is ReasonCode.CARD_GRANTED


def test_an_unverified_guardianship_goes_to_staff():
    data = application(person(date(2018, 3, 12)), guardian=guardian(relationship_verified_by=None, relationship_verified_at=None))
    assert rules(data) is ReasonCode.GUARDIANSHIP_NOT_VERIFIED
    assert ReasonCode.GUARDIANSHIP_NOT_VERIFIED.staff_review


def test_non_disclosure_registers_without_an_address_and_goes_to_staff():
    reason = rules(application(person(date(1990, 5, 17), non_disclosure=True, permanent_address=None)))
    assert reason is ReasonCode.NON_DISCLOSURE_STAFF_REVIEW
    assert reason.registers_patron and reason.staff_review and reason.is_business_failure


def test_without_a_permanent_address_in_finland_there_is_no_card():
    reason = rules(application(person(date(1990, 5, 17), permanent_address=None)))
    assert reason is ReasonCode.NO_PERMANENT_ADDRESS_IN_FINLAND
    assert not reason.registers_patron and not reason.staff_review


def test_an_eidas_user_without_a_finnish_hetu_goes_to_staff_whatever_the_age():
    eidas = {"hetu": None, "eidas_person_identifier": "SE/FI/199005171234"}
    assert rules(application(person(date(1990, 5, 17), date_of_birth="1990-05-17", **eidas))) is ReasonCode.NO_FINNISH_HETU_STAFF_REVIEW
    child = person(date(2018, 3, 12), date_of_birth="2018-03-12", **eidas)
    assert rules(application(child)) is ReasonCode.NO_FINNISH_HETU_STAFF_REVIEW
    assert parse(application(child)).applicant.age_on(TODAY) == 8


def test_only_a_granted_card_ends_done():
    assert ApplicationDecision(reason=ReasonCode.CARD_GRANTED).work_item_state == "DONE"
    assert {ApplicationDecision(reason=r).work_item_state for r in ReasonCode if r is not ReasonCode.CARD_GRANTED} == {"BUSINESS_FAILED"}
    assert {r for r in ReasonCode if r.registers_patron} == {ReasonCode.CARD_GRANTED, ReasonCode.NON_DISCLOSURE_STAFF_REVIEW}


def test_decisions_go_by_the_helsinki_calendar_day():
    assert decided_on(datetime(2026, 11, 24, 22, 30, tzinfo=UTC)) == date(2026, 11, 25)


# --------------------------------------------------------------------------- category and expiry


def test_the_child_category_ends_at_its_upper_age_limit():
    kinds = categories()
    child = choose_category(kinds, age=parse(application(person(date(2011, 11, 26)))).applicant.age_on(TODAY), adult_category="HENKILO", child_category="LAPSI")
    adult = choose_category(kinds, age=parse(application(person(date(2011, 11, 25)))).applicant.age_on(TODAY), adult_category="HENKILO", child_category="LAPSI")
    assert (child.patron_category_id, adult.patron_category_id) == ("LAPSI", "HENKILO")
    assert choose_category(kinds, age=0, adult_category="HENKILO", child_category="LAPSI").patron_category_id == "LAPSI"
    assert choose_category(kinds, age=99, adult_category="HENKILO", child_category="LAPSI").patron_category_id == "HENKILO"


def test_a_category_missing_from_the_library_system_is_a_configuration_error():
    with pytest.raises(CategoryConfigurationError, match="AIKUINEN"):
        choose_category(categories(), age=30, adult_category="AIKUINEN", child_category="LAPSI")
    capped = [c.model_copy(update={"upper_age_limit": 65}) if c.patron_category_id == "HENKILO" else c for c in categories()]
    with pytest.raises(CategoryConfigurationError, match="upper age limit"):
        choose_category(capped, age=70, adult_category="HENKILO", child_category="LAPSI")


def test_expiry_follows_the_categorys_enrolment_period_in_months():
    adult = next(c for c in categories() if c.patron_category_id == "HENKILO")
    assert adult.enrolment_period == 60
    assert card_expiry(adult, enrolled_on=TODAY) == date(2031, 11, 25)
    assert card_expiry(adult, enrolled_on=date(2024, 2, 29)) == date(2029, 2, 28)
    fixed = adult.model_copy(update={"enrolment_period_date": date(2030, 12, 31)})
    assert card_expiry(fixed, enrolled_on=TODAY) == date(2030, 12, 31)
    with pytest.raises(CategoryConfigurationError, match="no enrolment period"):
        card_expiry(adult.model_copy(update={"enrolment_period": None}), enrolled_on=TODAY)


# --------------------------------------------------------------------------- channel


@pytest.mark.parametrize(
    ("mailbox", "preference", "email", "address", "channel"),
    [
        (True, "letter", "a@example.org", True, Channel.SUOMI_FI),
        (True, "email", None, False, Channel.SUOMI_FI),
        (False, "suomifi", "a@example.org", True, Channel.EMAIL),
        (False, "email", "a@example.org", True, Channel.EMAIL),
        (False, "letter", "a@example.org", True, Channel.LETTER),
        (False, "letter", "a@example.org", False, Channel.EMAIL),
        (False, "suomifi", None, True, Channel.LETTER),
        (False, "suomifi", None, False, Channel.NONE),
    ],
)
def test_the_decision_goes_to_the_mailbox_then_email_then_paper(mailbox, preference, email, address, channel):
    postal = parse(application()).applicant.permanent_address if address else None
    chosen = choose_channel(mailbox_active=mailbox, preference=NotificationPreference(preference), email=email, postal_address=postal)
    assert chosen is channel


# --------------------------------------------------------------------------- texts


SPOKEN_TO_THE_GUARDIAN = {
    ReasonCode.CARD_GRANTED,
    ReasonCode.ALREADY_A_PATRON,
    ReasonCode.GUARDIAN_NOT_ADULT,
    ReasonCode.GUARDIANSHIP_NOT_VERIFIED,
    ReasonCode.NON_DISCLOSURE_STAFF_REVIEW,
    ReasonCode.NO_PERMANENT_ADDRESS_IN_FINLAND,
}


@pytest.mark.parametrize("reason", list(ReasonCode))
@pytest.mark.parametrize("language", list(Language))
@pytest.mark.parametrize("child", [None, "Eetu"])
def test_every_decision_reads_in_every_language_with_nothing_left_unfilled(reason, language, child):
    facts = DecisionFacts(
        library_name="Vaajakosken kirjasto", existing_library_name="Äänekosken kaupunginkirjasto", expiry_date=date(2031, 11, 25), child_first_name=child
    )
    text = decision_text(reason, language, facts)
    assert text.title and len(text.paragraphs) >= 2
    assert not re.search(r"[{}]", text.title + text.body)
    assert "  " not in text.body
    if child and reason in SPOKEN_TO_THE_GUARDIAN:
        assert child in text.body
    if reason in (ReasonCode.CARD_GRANTED,):
        assert ("25.11.2031" if language is not Language.EN else "25 November 2031") in text.body


def test_an_existing_card_is_named_by_the_library_it_is_registered_at():
    facts = DecisionFacts(library_name="Vaajakosken kirjasto", existing_library_name="Jyväskylän pääkirjasto")
    text = decision_text(ReasonCode.ALREADY_A_PATRON, "fi", facts)
    assert text.paragraphs[0] == "Sinulla on jo kirjastokortti. Se on rekisteröity kirjastoon Jyväskylän pääkirjasto."
    assert decision_text(ReasonCode.ALREADY_A_PATRON, "sv", facts).title == "Du har redan ett bibliotekskort"


def test_the_under_15_decision_tells_how_to_apply_through_the_guardian():
    text = decision_text(ReasonCode.UNDER_15_NO_GUARDIAN, "en", DecisionFacts(library_name="Vaajakosken kirjasto"))
    assert "guardian" in text.body and "log" in text.body
