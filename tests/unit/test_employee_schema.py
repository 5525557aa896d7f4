"""The new-employee model HR fills in, its reference, the start rules and the orientation plan."""

from __future__ import annotations

from datetime import date

import pytest
from pydantic import SecretStr, ValidationError

from connectors.hr.sandbox.seed import test_hetu as make_hetu
from processes.employment_start.orientation import Phase, orientation_plan
from schemas.employee import NewEmployee, StartCheck, check_start, employment_start_reference, profession_for

BORN = date(1990, 2, 3)
HETU = make_hetu(BORN, 951)


def employee(**changes) -> NewEmployee:
    data = {
        "first_names": "Aino",
        "last_name": "Testinen",
        "hetu": HETU,
        "date_of_birth": BORN.isoformat(),
        "personal_email": "aino@example.org",
        "phone": "040 123 4567",
        "start_date": "2026-12-01",
        "title": "sairaanhoitaja",
        "unit_id": "sote-laakso-os7",
        "supervisor_id": 100101,
        "workplace_address": "Lääkärinkatu 8",
        "licence_number": "100 123 456 78",
        **changes,
    }
    return NewEmployee.model_validate(data)


def test_the_same_person_and_start_date_give_the_same_reference_without_the_hetu():
    salt = SecretStr("s")
    first = employment_start_reference(employee(), salt)
    assert first == employment_start_reference(employee(first_names="Aino Maria", title="lähihoitaja"), salt)
    assert first != employment_start_reference(employee(start_date="2026-12-02"), salt)
    assert HETU not in first and first.startswith("employment_start:") and first.endswith(":2026-12-01")


@pytest.mark.parametrize(
    ("changes", "code"),
    [
        ({"date_of_birth": "1990-02-04"}, "date_of_birth_mismatch"),
        ({"employment_type": "sijainen"}, "end_date_missing"),
        ({"employment_type": "määräaikainen", "end_date": "2026-11-01"}, "end_before_start"),
        ({"licence_number": "1234"}, "licence_number_invalid"),
        ({"personal_email": "äiti@example.org"}, "email_invalid"),
        ({"hetu": HETU[:-1] + ("A" if HETU[-1] != "A" else "B")}, "hetu_invalid"),
        ({"supervisor_id": 0}, "greater_than"),
    ],
)
def test_malformed_input_is_refused_at_the_form_without_echoing_it(changes, code):
    with pytest.raises(ValidationError) as error:
        employee(**changes)
    assert code in {e["type"] for e in error.value.errors()}
    assert HETU not in str(error.value)


def test_form_values_are_normalised_and_the_repr_holds_no_personal_data():
    e = employee()
    assert (e.unit_id, e.phone, e.licence_number) == ("SOTE-LAAKSO-OS7", "0401234567", "10012345678")
    assert HETU not in repr(e) and "Aino" not in repr(e)


def test_licensed_and_protected_titles_need_the_registration_number_and_past_starts_are_refused():
    assert profession_for("Erikoislääkäri").name == "lääkäri" and profession_for("apulaisosastonhoitaja").name == "sairaanhoitaja"
    assert profession_for("palvelusuunnittelija") is None
    assert check_start(employee(), today=date(2026, 11, 25)) is None
    assert check_start(employee(), today=date(2026, 12, 2))[0] is StartCheck.START_DATE_IN_PAST
    assert check_start(employee(title="lähihoitaja", licence_number=""), today=date(2026, 11, 25))[0] is StartCheck.LICENCE_NUMBER_MISSING
    assert check_start(employee(title="palvelusuunnittelija", licence_number=""), today=date(2026, 11, 25)) is None


def test_the_orientation_plan_has_every_phase_work_safety_data_protection_and_the_role_systems():
    plan = orientation_plan(employee())
    assert [t.phase for t in plan] == sorted((t.phase for t in plan), key=list(Phase).index)
    assert {t.phase for t in plan} == set(Phase) and plan[0].due == date(2026, 12, 1)
    topics = [t.topic for t in plan]
    assert any("Työturvallisuus" in t for t in topics) and any("Tietosuoja" in t for t in topics)
    assert "Järjestelmäkoulutus: Apotti" in topics and any("Rokotussuoja" in t for t in topics)
    office = [t.topic for t in orientation_plan(employee(title="palvelusuunnittelija", licence_number=""))]
    assert not any("Apotti" in t or "Rokotussuoja" in t for t in office)
