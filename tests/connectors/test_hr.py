"""HrClient against the HR sandbox in-process: happy paths, every error class, retries, idempotent resends, privacy."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import date

import httpx
import pytest
import stamina
from pydantic import SecretStr, ValidationError

from connectors.errors import BusinessRuleError, IntegrationError, TransientError
from connectors.hr import (
    EmployeeCreate,
    EmployeeNotFoundError,
    EmploymentConflictError,
    EmploymentCreate,
    EmploymentNotFoundError,
    HrAuthenticationError,
    HrClient,
    HrRejectedError,
    HrSettings,
    HrUnavailableError,
    HrValidationError,
    IdempotencyKeyReusedError,
    UnitNotFoundError,
)
from connectors.hr.sandbox import create_app
from connectors.http import RetryPolicy
from connectors.sandbox_support import FaultSpec, SyncASGITransport

HETU = "150385-9046"
BASE = "http://hr.test/api/v1"
START = date(2027, 1, 4)
LAAKSO = "SOTE-LAAKSO-OS7"


@pytest.fixture(autouse=True)
def _no_backoff() -> Iterator[None]:
    with stamina.set_testing(True, attempts=10, cap=True):
        yield


@pytest.fixture
def app():
    return create_app(faults=FaultSpec())


@pytest.fixture
def store(app):
    return app.state.store


def make_client(app, **settings) -> HrClient:
    return HrClient(HrSettings(**({"base_url": BASE} | settings)), transport=SyncASGITransport(app), retry=RetryPolicy(attempts=3))


@pytest.fixture
def hr(app) -> Iterator[HrClient]:
    with make_client(app) as client:
        yield client


def aino(**fields) -> EmployeeCreate:
    return EmployeeCreate(**({"hetu": HETU, "first_names": "Aino Maria", "last_name": "Virtanen", "calling_name": "Aino"} | fields))


def nurse(employee_id: int, **fields) -> EmploymentCreate:
    values = {"employee_id": employee_id, "start_date": START, "job_title": "sairaanhoitaja", "title_code": "SH01", "unit_id": LAAKSO}
    return EmploymentCreate(**(values | fields))


@pytest.fixture
def employee_id(hr) -> int:
    return hr.create_employee(aino(iban="FI21 1234 5600 0007 85"), idempotency_key="employment_start:1:employee").employee.employee_id


# ------------------------------------------------------------------------------- reference data


def test_lists_helsinki_social_and_health_care_units(hr):
    units = {unit.unit_id: unit for unit in hr.list_units()}
    assert len(units) == 7
    laakso = units[LAAKSO]
    assert laakso.name == "Laakson sairaala, osasto 7" and laakso.city == "Helsinki"
    assert laakso.division == "Sosiaali-, terveys- ja pelastustoimiala"
    assert laakso.cost_centres == ["2813720", "2813721"] and laakso.default_cost_centre == "2813720"
    supervisor = hr.get_employee(laakso.supervisor_id)
    assert (supervisor.last_name, supervisor.work_email) == ("Lehtonen", "satu.lehtonen@hel.example")


def test_an_unknown_unit_is_not_found(hr):
    with pytest.raises(UnitNotFoundError) as raised:
        hr.get_unit("SOTE-EI-OLE")
    assert raised.value.status_code == 404 and raised.value.business_ids == {"unit_id": "SOTE-EI-OLE"}


# ------------------------------------------------------------------------------- employees


def test_creates_an_employee_whose_hetu_is_stored_but_never_returned(hr, store):
    result = hr.create_employee(aino(), idempotency_key="employment_start:1:employee")
    employee = result.employee
    assert result.created and employee.employee_id >= 500001
    assert (employee.first_names, employee.display_name, employee.birth_date) == ("Aino Maria", "Aino Virtanen", date(1985, 3, 15))
    assert store.employees[employee.employee_id].hetu == HETU
    assert HETU not in repr(employee) and HETU not in employee.model_dump_json()


def test_a_resend_with_the_same_key_gets_the_same_employee(hr, store):
    first = hr.create_employee(aino(), idempotency_key="employment_start:1:employee")
    again = hr.create_employee(aino(), idempotency_key="employment_start:1:employee")
    assert again.employee.employee_id == first.employee.employee_id and again.created
    assert store.replays == 1 and len([r for r in store.employees.values() if r.hetu == HETU]) == 1


def test_a_create_whose_answer_was_lost_is_resent_and_replayed(app, hr, store):
    app.state.faults.fail_next(1, kind="lost_response", path_prefix="/api/v1/employees")
    result = hr.create_employee(aino(), idempotency_key="employment_start:1:employee")
    assert [r.employee_id for r in store.employees.values() if r.hetu == HETU] == [result.employee.employee_id]
    assert store.replays == 1 and [f.kind for f in app.state.faults.injected] == ["lost_response"]


def test_a_person_hr_already_has_is_returned_with_their_employments(hr, employee_id):
    hr.create_employment(nurse(employee_id), idempotency_key="employment_start:1:employment")
    returning = hr.create_employee(aino(), idempotency_key="employment_start:2:employee")
    assert not returning.created and returning.employee.employee_id == employee_id
    assert len(returning.employment_ids) == 1 and returning.employee.job_title == "sairaanhoitaja"


def test_a_missing_employee_is_not_found(hr):
    with pytest.raises(EmployeeNotFoundError):
        hr.get_employee(424242)


# ------------------------------------------------------------------------------- employments


def test_registers_an_employment_with_the_units_defaults(hr, employee_id):
    result = hr.create_employment(nurse(employee_id, monthly_salary_eur="3012.45"), idempotency_key="employment_start:1:employment")
    employment = result.employment
    assert result.created and employment.status == "registered" and employment.is_open
    assert (employment.cost_centre, employment.supervisor_id) == ("2813720", 100101)
    assert (employment.collective_agreement, employment.trial_period_months, employment.trial_period_ends) == ("SOTE", 6, date(2027, 7, 3))
    assert str(employment.monthly_salary_eur) == "3012.45"
    # A newcomer with a bank account given: tax card, certificates and the health statement are missing.
    assert employment.missing_documents == ["tax_card", "degree_certificate", "health_statement"]
    assert hr.get_employment(employment.employment_id) == employment


def test_a_fixed_term_public_office_keeps_its_terms(hr, employee_id):
    employment = hr.create_employment(
        nurse(
            employee_id, employment_type="fixed_term", relationship="public_office", end_date=date(2027, 6, 30), trial_period_months=3, cost_centre="2813721"
        ),
        idempotency_key="employment_start:1:employment",
    ).employment
    assert (employment.end_date, employment.relationship, employment.cost_centre, employment.trial_period_ends) == (
        date(2027, 6, 30),
        "public_office",
        "2813721",
        date(2027, 4, 3),
    )


def test_status_and_missing_documents_follow_the_payroll_secretary(app, hr, employee_id):
    created = hr.create_employment(nurse(employee_id), idempotency_key="employment_start:1:employment").employment
    with httpx.Client(transport=SyncASGITransport(app), base_url="http://hr.test") as web:
        answer = web.post(f"/_sandbox/employments/{created.employment_id}/status", json={"status": "transferred_to_payroll", "missing_documents": []})
        assert answer.status_code == 200
        assert web.post(f"/_sandbox/employments/{created.employment_id}/status", json={"status": "lost"}).status_code == 400
    now = hr.get_employment(created.employment_id)
    assert (now.status, now.missing_documents) == ("transferred_to_payroll", [])
    assert [e.employment_id for e in hr.list_employments(employee_id)] == [created.employment_id]


def test_the_same_employment_with_a_new_key_is_found_not_duplicated(hr, store, employee_id):
    first = hr.create_employment(nurse(employee_id), idempotency_key="employment_start:1:employment")
    again = hr.create_employment(nurse(employee_id), idempotency_key="employment_start:1:employment:retry")
    assert not again.created and again.employment == first.employment
    assert len(store.employments) == 1


def test_an_employment_whose_answer_was_lost_is_created_once(app, hr, store, employee_id):
    app.state.faults.fail_next(1, kind="lost_response", path_prefix="/api/v1/employments")
    result = hr.create_employment(nurse(employee_id), idempotency_key="employment_start:1:employment")
    assert list(store.employments) == [result.employment.employment_id] and result.created


def test_another_employment_the_same_day_with_other_terms_needs_a_person(hr, employee_id):
    first = hr.create_employment(nurse(employee_id), idempotency_key="employment_start:1:employment")
    with pytest.raises(EmploymentConflictError) as raised:
        hr.create_employment(nurse(employee_id, unit_id="SOTE-MALMI-TA", job_title="terveydenhoitaja"), idempotency_key="employment_start:9:employment")
    error = raised.value
    assert isinstance(error, BusinessRuleError) and error.existing_employment_id == first.employment.employment_id
    assert error.differences == ["unit_id", "job_title"]


def test_a_reused_key_with_another_request_is_an_integration_error(hr, employee_id):
    hr.create_employment(nurse(employee_id), idempotency_key="employment_start:1:employment")
    with pytest.raises(IdempotencyKeyReusedError) as raised:
        hr.create_employment(nurse(employee_id, start_date=date(2027, 2, 1)), idempotency_key="employment_start:1:employment")
    assert isinstance(raised.value, IntegrationError) and raised.value.status_code == 422


@pytest.mark.parametrize(
    ("fields", "code"),
    [
        ({"unit_id": "SOTE-EI-OLE"}, "UNKNOWN_UNIT"),
        ({"cost_centre": "2711520"}, "COST_CENTRE_NOT_IN_UNIT"),
        ({"supervisor_id": 123}, "UNKNOWN_SUPERVISOR"),
        ({"employee_id": 999999}, "UNKNOWN_EMPLOYEE"),
    ],
)
def test_data_hr_refuses_is_a_business_case_with_hrs_reason(hr, employee_id, fields, code):
    with pytest.raises(HrValidationError) as raised:
        hr.create_employment(nurse(**({"employee_id": employee_id} | fields)), idempotency_key=f"employment_start:1:{code}")
    assert isinstance(raised.value, BusinessRuleError) and raised.value.code == code and raised.value.status_code == 422


def test_a_hire_that_fell_through_is_cancelled_once_and_a_started_one_is_not(app, hr, store, employee_id):
    employment = hr.create_employment(nurse(employee_id), idempotency_key="employment_start:1:employment").employment
    cancelled = hr.cancel_employment(employment.employment_id, "Hakija perui", idempotency_key="employment_start:1:cancel")
    again = hr.cancel_employment(employment.employment_id, "Hakija perui", idempotency_key="employment_start:1:cancel:2")
    assert (cancelled.status, cancelled.cancellation_reason, again.status) == ("cancelled", "Hakija perui", "cancelled")
    other = hr.create_employment(nurse(employee_id), idempotency_key="employment_start:2:employment").employment
    store.set_status(other.employment_id, "active")
    with pytest.raises(HrValidationError) as raised:
        hr.cancel_employment(other.employment_id, "Myöhässä", idempotency_key="employment_start:2:cancel")
    assert raised.value.code == "EMPLOYMENT_ALREADY_STARTED"


def test_a_missing_employment_is_not_found(hr):
    with pytest.raises(EmploymentNotFoundError) as raised:
        hr.get_employment(1)
    assert raised.value.business_ids == {"employment_id": 1}


# ------------------------------------------------------------------------------- auth


def test_an_expired_token_is_refreshed_once(hr, store):
    hr.list_units()
    store.revoke_tokens()
    assert hr.get_unit(LAAKSO).unit_id == LAAKSO
    assert hr.auth.tokens_fetched == 2


def test_refused_client_credentials_are_an_authentication_error(app):
    with make_client(app, client_secret=SecretStr("wrong")) as hr, pytest.raises(HrAuthenticationError) as raised:
        hr.list_units()
    assert raised.value.status_code == 401 and "wrong" not in str(raised.value)


def test_a_token_endpoint_outage_is_transient(app, hr):
    app.state.faults.fail_next(3, kind="error", path_prefix="/api/v1/oauth")
    with pytest.raises(HrUnavailableError):
        hr.list_units()


# ------------------------------------------------------------------------------- transient failures


def test_server_errors_are_retried_then_succeed(app, hr):
    app.state.faults.fail_next(2, kind="error", path_prefix="/api/v1/units")
    assert len(hr.list_units()) == 7
    assert [f.kind for f in app.state.faults.injected] == ["error", "error"]


def test_rate_limiting_is_waited_out(app, hr):
    app.state.faults.configure(retry_after=0)
    app.state.faults.fail_next(1, kind="rate_limit", path_prefix="/api/v1/employees")
    assert hr.create_employee(aino(), idempotency_key="employment_start:1:employee").created


def test_server_errors_past_the_attempts_are_hr_unavailable(app, hr):
    app.state.faults.fail_next(5, kind="error", path_prefix="/api/v1/units")
    with pytest.raises(HrUnavailableError) as raised:
        hr.list_units()
    assert isinstance(raised.value, TransientError) and raised.value.status_code == 503
    assert len(app.state.faults.injected) == 3


# ------------------------------------------------------------------------------- malformed requests and answers


def scripted(answer: httpx.Response) -> HrClient:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/oauth/token"):
            return httpx.Response(200, json={"access_token": "t", "token_type": "Bearer", "expires_in": 3600})
        return answer

    return HrClient(HrSettings(base_url=BASE), transport=httpx.MockTransport(handler), retry=RetryPolicy(attempts=1))


def test_a_body_that_is_not_json_is_an_integration_error():
    with pytest.raises(IntegrationError) as raised:
        scripted(httpx.Response(200, text="<html>huoltokatko</html>")).get_employment(1)
    assert raised.value.code == "INVALID_JSON"


def test_an_employment_in_an_unexpected_shape_is_an_integration_error():
    with pytest.raises(IntegrationError, match="status: Input should be") as raised:
        scripted(httpx.Response(200, json={"employment_id": 1, "status": "mystery"})).get_employment(1)
    assert raised.value.code == "UNEXPECTED_RESPONSE"


def test_a_conflict_that_names_nothing_is_an_integration_error():
    with pytest.raises(IntegrationError) as raised:
        scripted(httpx.Response(409, json={"error": {"code": "employee_exists", "message": "", "details": {}}})).create_employee(aino(), idempotency_key="k")
    assert raised.value.code == "UNEXPECTED_RESPONSE" and HETU not in str(raised.value) + (raised.value.body or "")


def test_a_request_hr_cannot_read_is_rejected_naming_fields_not_values(app, hr):
    hr.list_units()  # fetch a token
    token = hr.auth._token
    with httpx.Client(transport=SyncASGITransport(app), base_url="http://hr.test") as web:
        answer = web.post("/api/v1/employees", json={"hetu": HETU, "first_names": 5}, headers={"Authorization": f"Bearer {token}"})
        broken = web.post("/api/v1/employments", content=b"{not json", headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
    assert answer.status_code == 400 and answer.json()["error"]["code"] == "invalid_request"
    assert {f["field"] for f in answer.json()["error"]["details"]["fields"]} == {"body.first_names", "body.last_name"}
    assert HETU not in answer.text
    assert broken.status_code == 400
    with pytest.raises(HrRejectedError) as raised:
        scripted(httpx.Response(400, json=answer.json())).create_employee(aino(), idempotency_key="k")
    assert raised.value.code == "INVALID_REQUEST"


# ------------------------------------------------------------------------------- privacy


def test_no_hetu_in_logs_errors_or_model_reprs(app, hr, caplog):
    caplog.set_level(logging.DEBUG)
    new = aino()
    hr.create_employee(new, idempotency_key="employment_start:1:employee")
    app.state.faults.fail_next(5, kind="error", path_prefix="/api/v1/employees")
    with pytest.raises(HrUnavailableError) as raised:
        hr.create_employee(new, idempotency_key="employment_start:2:employee")
    for text in (caplog.text, repr(new), str(new), str(raised.value), repr(raised.value)):
        assert HETU not in text
    assert "hr POST /api/v1/employees -> 201" in caplog.text


def test_a_hetu_outside_its_field_and_bad_keys_are_refused_before_sending(hr):
    with pytest.raises(ValidationError, match="holds a henkilötunnus") as raised:
        aino(calling_name=HETU)
    assert HETU not in str(raised.value)
    with pytest.raises(ValidationError, match="IBAN"):
        aino(iban="FI00 1234 5600 0007 85")
    with pytest.raises(ValueError, match="idempotency key"):
        hr.create_employee(aino(), idempotency_key=f"employee:{HETU}")
    with pytest.raises(ValidationError, match="needs an end_date"):
        nurse(1, employment_type="fixed_term")


# ------------------------------------------------------------------------------- over real TCP, mounted as the all-sandboxes server does


def test_the_sandbox_mounted_under_hr_works_over_a_real_port():
    from fastapi import FastAPI

    from connectors.servers import serve_in_thread

    inner = create_app(faults=FaultSpec())
    outer = FastAPI()
    outer.mount("/hr", inner)
    with serve_in_thread(outer) as url, HrClient(HrSettings(base_url=f"{url}/hr/api/v1"), retry=RetryPolicy(attempts=2)) as hr:
        inner.state.faults.fail_next(1, kind="drop", path_prefix="/api/v1/employees")
        created = hr.create_employee(aino(), idempotency_key="employment_start:1:employee")
        assert created.created and hr.get_employee(created.employee.employee_id).last_name == "Virtanen"
        assert [f.kind for f in inner.state.faults.injected] == ["drop"]
