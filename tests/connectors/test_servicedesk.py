"""ServiceDeskClient against the service desk sandbox in-process; the catalogue of access profiles and due dates."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import date, timedelta

import httpx
import pytest
import stamina
from pydantic import SecretStr, ValidationError

from connectors.errors import BusinessRuleError, IntegrationError, TransientError
from connectors.http import RetryPolicy
from connectors.sandbox_support import FaultSpec, SyncASGITransport
from connectors.servicedesk import (
    AccessCardDetails,
    EquipmentDetails,
    EquipmentItem,
    ItAccountDetails,
    KeysDetails,
    Person,
    ReferenceConflictError,
    ServiceDeskAuthenticationError,
    ServiceDeskClient,
    ServiceDeskRejectedError,
    ServiceDeskSettings,
    ServiceDeskUnavailableError,
    ServiceDeskValidationError,
    ServiceRequestCreate,
    TicketClosedError,
    TicketNotFoundError,
    access_profile_for,
    default_equipment,
    due_date_for,
)
from connectors.servicedesk.sandbox import PAGES, create_app

HETU = "150385-9046"
BASE = "http://servicedesk.test/api/v1"
TODAY = date(2026, 12, 1)
START = date(2027, 1, 4)  # a Monday


@pytest.fixture(autouse=True)
def _no_backoff() -> Iterator[None]:
    with stamina.set_testing(True, attempts=10, cap=True):
        yield


@pytest.fixture
def app():
    return create_app(faults=FaultSpec(), today=TODAY)


@pytest.fixture
def store(app):
    return app.state.store


def make_client(app, **settings) -> ServiceDeskClient:
    return ServiceDeskClient(ServiceDeskSettings(**({"base_url": BASE} | settings)), transport=SyncASGITransport(app), retry=RetryPolicy(attempts=3))


@pytest.fixture
def desk(app) -> Iterator[ServiceDeskClient]:
    with make_client(app) as client:
        yield client


@pytest.fixture
def web(app) -> Iterator[httpx.Client]:
    with httpx.Client(transport=SyncASGITransport(app), base_url="http://servicedesk.test") as client:
        yield client


def aino(**fields) -> Person:
    values = {
        "employee_id": 500001,
        "first_names": "Aino Maria",
        "last_name": "Virtanen",
        "job_title": "sairaanhoitaja",
        "unit_id": "SOTE-LAAKSO-OS7",
        "start_date": START,
    }
    return Person(**(values | fields))


def it_account(reference: str = "employment_start:42:it_account", **fields) -> ServiceRequestCreate:
    profile = access_profile_for("sairaanhoitaja")
    values = {
        "external_reference": reference,
        "person": aino(),
        "due_date": due_date_for("it_account", START),
        "details": ItAccountDetails(access_profile=profile.code, systems=list(profile.systems)),
    }
    return ServiceRequestCreate(**(values | fields))


# ------------------------------------------------------------------------------- the catalogue


@pytest.mark.parametrize(
    ("title", "code"),
    [
        ("sairaanhoitaja", "APOTTI-HOITAJA"),
        ("Lähihoitaja", "APOTTI-LAHIHOITAJA"),
        ("erikoislääkäri", "APOTTI-LAAKARI"),
        ("terveyskeskuslääkäri", "APOTTI-LAAKARI"),
        ("hammaslääkäri", "APOTTI-HAMMASLAAKARI"),
        ("vastaava  hoitaja", "APOTTI-ESIHENKILO-HOITO"),
        ("palvelusihteeri", "APOTTI-SIHTEERI"),
        ("controller", "PERUS"),
    ],
)
def test_the_access_profile_follows_the_title(title, code):
    assert access_profile_for(title).code == code


def test_ward_work_gets_a_phone_and_the_rest_a_laptop_too():
    assert default_equipment("sairaanhoitaja") == ("phone",)
    assert default_equipment("osastonhoitaja") == ("laptop", "phone")
    assert default_equipment("erikoislääkäri") == ("laptop", "phone")


def test_due_dates_count_working_days_back_from_the_start():
    assert due_date_for("it_account", START) == date(2026, 12, 28)  # five working days: Mon 28 Dec
    assert due_date_for("access_card", START) == date(2026, 12, 30)
    assert due_date_for("keys", START) == date(2027, 1, 1)  # the Friday before


# ------------------------------------------------------------------------------- creating requests


def test_opens_an_it_account_request_with_the_titles_profile(desk, store):
    result = desk.create_request(it_account())
    ticket = result.ticket
    assert result.created and ticket.ticket_id == "REQ0010001" and ticket.state == "new" and ticket.is_open
    assert ticket.title == "Uusi käyttäjätunnus: Aino Virtanen, sairaanhoitaja"
    assert ticket.assignment_group == "IT-palvelut / Käyttäjätunnukset" and ticket.requested_by == "Kuntaflow HR-robotti"
    assert ticket.details.access_profile == "APOTTI-HOITAJA" and "Apotti" in ticket.details.systems
    assert ticket.due_date == date(2026, 12, 28) and not ticket.is_overdue(date(2026, 12, 28)) and ticket.is_overdue(date(2026, 12, 29))
    assert desk.get_ticket(ticket.ticket_id) == ticket


@pytest.mark.parametrize(
    ("details", "group"),
    [
        (AccessCardDetails(areas=["Laakson sairaala, rakennus 5", "Osasto 7"]), "Turvallisuuspalvelut / Kulunvalvonta"),
        (KeysDetails(keys=["Osasto 7 kanslia", "Lääkehuone"]), "Kiinteistöpalvelut / Avainpalvelu"),
        (EquipmentDetails(items=[EquipmentItem(kind="phone"), EquipmentItem(kind="headset", quantity=2)]), "IT-palvelut / Laitetoimitukset"),
    ],
)
def test_opens_access_card_keys_and_equipment_requests(desk, details, group):
    ticket = desk.create_request(it_account(f"employment_start:42:{details.kind}", details=details, due_date=due_date_for(details.kind, START))).ticket
    assert (ticket.type, ticket.assignment_group, ticket.details) == (details.kind, group, details)


def test_the_same_reference_gives_the_same_ticket(desk, store):
    first = desk.create_request(it_account())
    again = desk.create_request(it_account())
    assert not again.created and again.ticket.ticket_id == first.ticket.ticket_id
    assert len(store.tickets) == 1


def test_a_create_whose_answer_was_lost_is_resent_and_not_duplicated(app, desk, store):
    app.state.faults.fail_next(1, kind="lost_response", path_prefix="/api/v1/requests")
    result = desk.create_request(it_account())
    assert not result.created and list(store.tickets) == [result.ticket.ticket_id]


def test_a_reference_reused_for_another_request_is_an_integration_error(desk):
    desk.create_request(it_account())
    with pytest.raises(ReferenceConflictError) as raised:
        desk.create_request(it_account(details=KeysDetails(keys=["Pääovi"])))
    assert isinstance(raised.value, IntegrationError) and raised.value.status_code == 409


@pytest.mark.parametrize(
    ("fields", "code"),
    [
        ({"details": ItAccountDetails(access_profile="APOTTI-KAIKKI")}, "UNKNOWN_ACCESS_PROFILE"),
        ({"due_date": TODAY - timedelta(days=1)}, "DUE_DATE_IN_PAST"),
    ],
)
def test_data_the_desk_refuses_is_a_business_case(desk, fields, code):
    with pytest.raises(ServiceDeskValidationError) as raised:
        desk.create_request(it_account(**fields))
    assert isinstance(raised.value, BusinessRuleError) and raised.value.code == code


# ------------------------------------------------------------------------------- following tickets


def test_open_tickets_are_listed_per_person_and_reference_until_done(desk, web):
    it = desk.create_request(it_account()).ticket
    keys = desk.create_request(it_account("employment_start:42:keys", details=KeysDetails(keys=["Kanslia"]))).ticket
    desk.create_request(it_account("employment_start:43:it_account", person=aino(employee_id=500002, first_names="Eero")))
    assert [t.ticket_id for t in desk.list_open_tickets(employee_id=500001)] == [it.ticket_id, keys.ticket_id]
    assert [t.ticket_id for t in desk.list_open_tickets(external_reference="employment_start:42:keys")] == [keys.ticket_id]
    assert web.post(f"/_sandbox/tickets/{it.ticket_id}/state", json={"state": "in_progress"}).status_code == 200
    assert desk.get_ticket(it.ticket_id).state == "in_progress"
    done = web.post(f"/_sandbox/tickets/{it.ticket_id}/state", json={"state": "done", "resolution": "Tunnus luotu: avirtanen"}).json()
    assert (done["state"], done["resolution"]) == ("done", "Tunnus luotu: avirtanen") and done["resolved_at"]
    assert [t.ticket_id for t in desk.list_open_tickets(employee_id=500001)] == [keys.ticket_id]
    assert web.post(f"/_sandbox/tickets/{it.ticket_id}/state", json={"state": "new"}).status_code == 409
    with pytest.raises(ValueError, match="employee_id"):
        desk.list_open_tickets()


def test_reminders_are_counted_and_a_repeated_one_added_once(desk):
    ticket = desk.create_request(it_account()).ticket
    first = desk.add_comment(ticket.ticket_id, "Eräpäivä on ylittynyt.", reminder=True, external_reference="employment_start:42:it_account:reminder:1")
    again = desk.add_comment(ticket.ticket_id, "Eräpäivä on ylittynyt.", reminder=True, external_reference="employment_start:42:it_account:reminder:1")
    desk.add_comment(ticket.ticket_id, "Aloitus siirtyi viikolla.")
    now = desk.get_ticket(ticket.ticket_id)
    assert first == again and first.kind == "reminder" and first.author == "kuntaflow-robot"
    assert now.reminders == 1 and [c.kind for c in now.comments] == ["reminder", "comment"]


def test_a_done_ticket_takes_no_comments_and_cannot_be_cancelled(desk, store):
    ticket = desk.create_request(it_account()).ticket
    store.set_state(ticket.ticket_id, "done")
    with pytest.raises(TicketClosedError) as raised:
        desk.add_comment(ticket.ticket_id, "Muistutus", reminder=True)
    assert isinstance(raised.value, BusinessRuleError)
    with pytest.raises(TicketClosedError):
        desk.cancel_request(ticket.ticket_id, "Rekrytointi peruttu")


def test_a_request_is_cancelled_once(desk):
    ticket = desk.create_request(it_account()).ticket
    cancelled = desk.cancel_request(ticket.ticket_id, "Rekrytointi peruttu")
    again = desk.cancel_request(ticket.ticket_id, "Rekrytointi peruttu")
    assert (cancelled.state, cancelled.resolution, again.resolved_at) == ("cancelled", "Rekrytointi peruttu", cancelled.resolved_at)


def test_a_missing_ticket_is_not_found_and_a_bad_id_is_refused(desk):
    with pytest.raises(TicketNotFoundError) as raised:
        desk.get_ticket("REQ9999999")
    assert raised.value.business_ids == {"ticket_id": "REQ9999999"}
    with pytest.raises(ValueError, match="letters and digits"):
        desk.get_ticket("../admin")


def test_the_board_shows_tickets_in_finnish_first_and_moves_them(desk, web, store):
    ticket = desk.create_request(it_account()).ticket
    desk.create_request(it_account("employment_start:42:keys", details=KeysDetails(keys=["Osasto 7 kanslia"])))
    desk.create_request(it_account("employment_start:42:equipment", details=EquipmentDetails(items=[EquipmentItem(kind="headset", quantity=2)])))
    assert ("Tiketit · Ärenden · Tickets", "/_sandbox/tickets") in PAGES
    board = web.get("/_sandbox/tickets")
    assert board.status_code == 200 and '<html lang="fi">' in board.text
    assert ticket.ticket_id in board.text and "Uusi käyttäjätunnus: Aino Virtanen" in board.text and "APOTTI-HOITAJA" in board.text
    assert "Osasto 7 kanslia" in board.text and "2 × headset" in board.text
    moved = web.post(f"/_sandbox/tickets/{ticket.ticket_id}/state", data={"state": "in_progress"})
    assert moved.status_code == 303 and store.tickets[ticket.ticket_id]["state"] == "in_progress"


# ------------------------------------------------------------------------------- auth, outages, malformed answers


def test_a_wrong_application_password_is_an_authentication_error(app):
    with make_client(app, app_password=SecretStr("vanha-salasana")) as desk, pytest.raises(ServiceDeskAuthenticationError) as raised:
        desk.get_ticket("REQ0010001")
    assert raised.value.status_code == 401 and "vanha-salasana" not in str(raised.value)


def test_server_errors_are_retried_then_succeed(app, desk, store):
    app.state.faults.fail_next(2, kind="error", path_prefix="/api/v1/requests")
    assert desk.create_request(it_account()).created
    assert len(store.tickets) == 1 and [f.kind for f in app.state.faults.injected] == ["error", "error"]


def test_server_errors_past_the_attempts_are_servicedesk_unavailable(app, desk):
    app.state.faults.fail_next(5, kind="error", path_prefix="/api/v1/tickets")
    with pytest.raises(ServiceDeskUnavailableError) as raised:
        desk.list_open_tickets(employee_id=500001)
    assert isinstance(raised.value, TransientError) and len(app.state.faults.injected) == 3


def scripted(answer: httpx.Response) -> ServiceDeskClient:
    return ServiceDeskClient(ServiceDeskSettings(base_url=BASE), transport=httpx.MockTransport(lambda request: answer), retry=RetryPolicy(attempts=1))


def test_a_body_that_is_not_json_is_an_integration_error():
    with pytest.raises(IntegrationError) as raised:
        scripted(httpx.Response(200, text="<html>Palvelukatko</html>")).get_ticket("REQ1")
    assert raised.value.code == "INVALID_JSON"


def test_a_ticket_in_an_unexpected_shape_is_an_integration_error():
    with pytest.raises(IntegrationError, match="state") as raised:
        scripted(httpx.Response(200, json={"ticket_id": "REQ1", "state": "waiting"})).get_ticket("REQ1")
    assert raised.value.code == "UNEXPECTED_RESPONSE"


def test_a_request_the_desk_cannot_read_is_rejected(app, web):
    answer = web.post("/api/v1/requests", json={"type": "keys"}, auth=("kuntaflow-robot", "servicedesk-sandbox-app-password"))
    assert answer.status_code == 400 and answer.json()["error"]["code"] == "invalid_request"
    with pytest.raises(ServiceDeskRejectedError) as raised:
        scripted(httpx.Response(400, json=answer.json())).create_request(it_account())
    assert raised.value.code == "INVALID_REQUEST" and isinstance(raised.value, IntegrationError)


# ------------------------------------------------------------------------------- privacy


def test_a_hetu_never_goes_to_the_service_desk(desk):
    with pytest.raises(ValidationError, match="holds a henkilötunnus") as raised:
        aino(last_name=f"Virtanen {HETU}")
    assert HETU not in str(raised.value)
    with pytest.raises(ValidationError, match="holds a henkilötunnus"):
        it_account(description=f"Hetu {HETU}")
    with pytest.raises(ValidationError, match="holds a henkilötunnus"):
        KeysDetails(keys=[HETU])
    ticket = desk.create_request(it_account()).ticket
    with pytest.raises(ValueError, match="henkilötunnus"):
        desk.add_comment(ticket.ticket_id, f"Hetu on {HETU}")


def test_logs_carry_paths_and_codes_not_people(app, desk, caplog):
    caplog.set_level(logging.DEBUG)
    desk.create_request(it_account())
    desk.list_open_tickets(employee_id=500001, external_reference="employment_start:42:it_account")
    ours = "\n".join(record.getMessage() for record in caplog.records if record.name.startswith("connectors"))
    assert "servicedesk POST /api/v1/requests -> 201" in ours
    assert "Virtanen" not in caplog.text and "employment_start" not in ours


# ------------------------------------------------------------------------------- over real TCP, mounted as the all-sandboxes server does


def test_the_sandbox_mounted_under_servicedesk_works_over_a_real_port():
    from fastapi import FastAPI

    from connectors.servers import serve_in_thread

    inner = create_app(faults=FaultSpec(), today=TODAY)
    outer = FastAPI()
    outer.mount("/servicedesk", inner)
    with serve_in_thread(outer) as url, ServiceDeskClient(ServiceDeskSettings(base_url=f"{url}/servicedesk/api/v1"), retry=RetryPolicy(attempts=2)) as desk:
        inner.state.faults.fail_next(1, kind="lost_response", path_prefix="/api/v1/requests")
        result = desk.create_request(it_account())
        assert not result.created and list(inner.state.store.tickets) == [result.ticket.ticket_id]
        with httpx.Client(base_url=url) as web:
            assert "REQ0010001" in web.get("/servicedesk/_sandbox/tickets").text
