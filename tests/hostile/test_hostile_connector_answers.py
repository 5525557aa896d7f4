"""Malformed answers from every connector's peer (Koha, Suomi.fi Messages, HR, service desk) become
typed connector errors, never a ``KeyError``/``TypeError``/``AttributeError`` out of the client, and
their messages hold no henkilötunnus even when the peer's body does.

The peer is an ``httpx.MockTransport``: token endpoints answer properly, every other request gets the
answer under test. First the classic shapes, for every public method (a 2xx answer we cannot use is an
``IntegrationError``); then a property: any status with any JSON (or not-JSON) body, for every method,
ends as an ``AutomationError`` or a proper result.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable, Iterator
from datetime import date
from typing import Any

import httpx
import pytest
from hostile_support import MARKUP, PROPERTY
from hypothesis import example, given
from hypothesis import strategies as st
from pydantic import SecretStr

from connectors.errors import AutomationError, IntegrationError
from connectors.hr import EmployeeCreate, EmploymentCreate, HrClient, HrSettings
from connectors.http import RetryPolicy
from connectors.koha import KohaClient, KohaSettings, PatronCreate
from connectors.servicedesk import ItAccountDetails, Person, ServiceDeskClient, ServiceDeskSettings, ServiceRequestCreate, due_date_for
from connectors.servicedesk.catalog import access_profile_for
from connectors.suomifi_viestit import ElectronicMessage, NewElectronicMessage, ViestitClient, ViestitSettings

HETU = "131052-308T"
KEY = "ghijklmnopqrstuvghijklmnopqrstuvghijklmnopqrstuvghijklmnopqrstuv"
START = date(2027, 1, 4)
ONCE = RetryPolicy(attempts=1)
TOKEN = {"access_token": "token-1", "token_type": "Bearer", "expires_in": 3600}

Answer = Callable[[httpx.Request], httpx.Response]


class Peer(httpx.MockTransport):
    """The other system: tokens as it should, Koha's categories refused if asked (so a create goes on
    to its POST), and ``answer`` to everything else."""

    def __init__(self, *, refuse_categories: bool = False) -> None:
        self.answer: Answer = lambda request: httpx.Response(500)
        self.refuse_categories = refuse_categories
        super().__init__(self._handle)

    def _handle(self, request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/token"):
            return httpx.Response(200, json=TOKEN)
        if self.refuse_categories and request.url.path.endswith("/patron_categories"):
            return httpx.Response(403, json={"error": "Authorization failure. Missing required permission(s)."})
        return self.answer(request)


def _it_account() -> ServiceRequestCreate:
    profile = access_profile_for("sairaanhoitaja")
    person = Person(employee_id=500001, first_names="Aino Maria", last_name="Virtanen", job_title="sairaanhoitaja", unit_id="SOTE-LAAKSO-OS7", start_date=START)
    return ServiceRequestCreate(
        external_reference="employment_start:42:it_account",
        person=person,
        due_date=due_date_for("it_account", START),
        details=ItAccountDetails(access_profile=profile.code, systems=list(profile.systems)),
    )


def koha(transport: httpx.BaseTransport) -> KohaClient:
    return KohaClient(KohaSettings(base_url="http://koha.test/api/v1"), transport=transport, retry=ONCE)


def viestit(transport: httpx.BaseTransport) -> ViestitClient:
    return ViestitClient(ViestitSettings(), transport=transport, retry=ONCE)


def hr(transport: httpx.BaseTransport) -> HrClient:
    return HrClient(HrSettings(base_url="http://hr.test/api/v1"), transport=transport, retry=ONCE)


def desk(transport: httpx.BaseTransport) -> ServiceDeskClient:
    return ServiceDeskClient(ServiceDeskSettings(base_url="http://desk.test/api/v1", app_password=SecretStr("x")), transport=transport, retry=ONCE)


NOTE = ElectronicMessage(title="Kirjastokortti", body="Hei! Kirjastokorttisi on valmis.")

#: Every public method that talks to a peer, as (name, client factory, the call).
CALLS: list[tuple[str, Callable[[httpx.BaseTransport], Any], Callable[[Any], Any]]] = [
    ("koha.find_patron_by_hetu_key", koha, lambda c: c.find_patron_by_hetu_key(KEY)),
    ("koha.find_patron_by_cardnumber", koha, lambda c: c.find_patron_by_cardnumber("K0001")),
    ("koha.get_patron", koha, lambda c: c.get_patron(7)),
    (
        "koha.create_patron",
        koha,
        lambda c: c.create_patron(PatronCreate(surname="Virtanen", firstname="Aino", library_id="JYVPK", category_id="HENKILO"), hetu_key=KEY),
    ),
    ("koha.list_libraries", koha, lambda c: c.list_libraries()),
    ("koha.list_patron_categories", koha, lambda c: c.list_patron_categories()),
    ("koha.list_extended_attributes", koha, lambda c: c.list_extended_attributes(7)),
    ("koha.set_password", koha, lambda c: c.set_password(7, SecretStr("1234"))),
    ("viestit.active_mailboxes", viestit, lambda c: c.active_mailboxes([HETU])),
    ("viestit.send_electronic", viestit, lambda c: c.send_electronic(NewElectronicMessage(external_id="kf-1", recipient=HETU, electronic=NOTE))),
    ("viestit.upload_attachment", viestit, lambda c: c.upload_attachment("paatos.pdf", b"%PDF-1.4 decision", "application/pdf")),
    ("viestit.events", viestit, lambda c: c.events("token-9")),
    ("hr.list_units", hr, lambda c: c.list_units()),
    ("hr.get_employee", hr, lambda c: c.get_employee(1)),
    (
        "hr.create_employee",
        hr,
        lambda c: c.create_employee(
            EmployeeCreate(hetu=HETU, first_names="Aino Maria", last_name="Virtanen", calling_name="Aino"), idempotency_key="es:1:employee"
        ),
    ),
    (
        "hr.create_employment",
        hr,
        lambda c: c.create_employment(
            EmploymentCreate(employee_id=1, start_date=START, job_title="sairaanhoitaja", title_code="SH01", unit_id="SOTE-LAAKSO-OS7"),
            idempotency_key="es:1:employment",
        ),
    ),
    ("hr.list_employments", hr, lambda c: c.list_employments(1)),
    ("hr.cancel_employment", hr, lambda c: c.cancel_employment(1, "the hire fell through", idempotency_key="es:1:cancel")),
    ("servicedesk.create_request", desk, lambda c: c.create_request(_it_account())),
    ("servicedesk.get_ticket", desk, lambda c: c.get_ticket("REQ0010001")),
    ("servicedesk.list_open_tickets", desk, lambda c: c.list_open_tickets(employee_id=500001)),
    ("servicedesk.add_comment", desk, lambda c: c.add_comment("REQ0010001", "Muistutus", reminder=True)),
    ("servicedesk.cancel_request", desk, lambda c: c.cancel_request("REQ0010001", "the hire fell through")),
]
CALL_IDS = [name for name, _, _ in CALLS]


class Connection:
    """One call's client against a :class:`Peer` (made once: an httpx client costs an SSL context)."""

    def __init__(self, call: tuple[str, Any, Any]) -> None:
        self.name, factory, self._invoke = call
        self.peer = Peer(refuse_categories=self.name == "koha.create_patron")
        self.client = factory(self.peer)

    def outcome(self, answer: Answer) -> Any:
        """The call's result, or the connector error it raised; anything else fails the test."""
        self.peer.answer = answer
        try:
            return self._invoke(self.client)
        except AutomationError as error:
            return error

    def close(self) -> None:
        self.client.close()


@pytest.fixture
def connection(request) -> Iterator[Connection]:
    made = Connection(request.param)
    yield made
    made.close()


def assert_clean(error: AutomationError) -> None:
    for text in (str(error), repr(error), error.body or "", json.dumps(error.business_ids, default=str)):
        assert HETU not in text and "131052" not in text, "a henkilötunnus in the error"


def body_of(status: int, content: bytes | str, content_type: str = "application/json") -> Answer:
    data = content.encode() if isinstance(content, str) else content
    return lambda request: httpx.Response(status, content=data, headers={"content-type": content_type})


# --------------------------------------------------------------------------- the classic malformed answers, on a 2xx

MALFORMED_2XX = {
    "invalid JSON": ('{"patron_id": 1,', "application/json"),
    "empty body": ("", "application/json"),
    "HTML error page": (f"<html><body><h1>Proxy error</h1><p>{HETU}</p><script>x()</script></body></html>", "text/html"),
    "an error body": (json.dumps({"error": f"Internal error for {HETU}", "error_code": "internal"}), "application/json"),
    "null": ("null", "application/json"),
    "a string": (json.dumps(f"ok {HETU}"), "application/json"),
    "wrong types": (
        json.dumps({"patron_id": "seven", "messageId": [], "employee_id": {}, "id": None, "endUsersWithActiveMailbox": "all", "events": 5}),
        "application/json",
    ),
    "a list of junk": (json.dumps([1, "x", None, {"surname": 5}]), "application/json"),
    "missing fields": ("{}", "application/json"),
}


@pytest.mark.parametrize("connection", CALLS, ids=CALL_IDS, indirect=True)
def test_a_2xx_answer_we_cannot_use_is_an_integration_error_without_personal_data(connection):
    call = (connection.name,)
    creates = call[0].endswith(("create_patron", "create_request", "create_employee", "create_employment", "upload_attachment"))
    for kind, (content, content_type) in MALFORMED_2XX.items():
        for status in [200, 201] if creates else [200]:
            result = connection.outcome(body_of(status, content, content_type))
            if call[0] == "koha.set_password":
                assert result is None  # any 2xx means done: there is no answer to read
                continue
            if kind in ("missing fields", "a list of junk", "null") and not isinstance(result, AutomationError):
                # An empty list or nothing is a meaningful answer to a few reads ("no such patron", "no events").
                assert result in ([], None, set()) or call[0] == "viestit.events", (kind, result)
                continue
            assert isinstance(result, IntegrationError), f"{call[0]} answered {status} {kind!r} gave {result!r}"
            assert result.code in ("INVALID_JSON", "UNEXPECTED_RESPONSE"), (kind, result.code)
            assert_clean(result)


# --------------------------------------------------------------------------- error statuses whose bodies are odd

ODD_ERROR_BODIES = [
    "null",
    "[]",
    '"text"',
    "5",
    "{}",
    '{"error": null}',
    '{"error": 5}',
    '{"error": ["a"]}',
    '{"error": {"code": 5, "message": null, "details": []}}',
    '{"error": {"code": "conflict", "details": {"employee_id": "x", "employment_ids": null}}}',
    '{"error": {"code": "conflict", "details": {"employee_id": 3, "employment_ids": 7}}}',
    '{"error": {"code": "conflict", "details": {"employment_id": 3.5}}}',
    '{"reason": null, "validationErrors": null}',
    '{"reason": 5, "validationErrors": 7}',
    '{"reason": "bad", "validationErrors": [null, 5, {"errorCode": null, "error": 5}]}',
    '{"validationErrors": {"errorCode": "MAILBOX_NOT_IN_USE"}}',
    '{"errors": null}',
    '{"errors": [5, null, {"path": null, "message": ["x"]}]}',
    '{"errors": "x", "error_code": 5, "conflict": 5}',
    '{"error": "x", "error_code": ["attribute_not_unique"]}',
    '{"messageId": null}',
    "<html>502 Bad Gateway</html>",
    "",
]


@pytest.mark.parametrize("connection", CALLS, ids=CALL_IDS, indirect=True)
def test_an_error_status_with_an_odd_body_is_a_typed_error(connection):
    call = (connection.name,)
    # The statuses whose bodies the connectors' error mappers read; the rest go by the status table.
    for status, content in itertools.product([400, 403, 404, 409, 422], ODD_ERROR_BODIES):
        result = connection.outcome(body_of(status, content.replace("x", HETU) if content.startswith("{") else content))
        if status in (404, 409) and not isinstance(result, AutomationError):
            assert result is None, result  # a lookup that may miss
            continue
        assert isinstance(result, AutomationError), f"{call[0]}: {status} {content!r} gave {result!r}"
        assert_clean(result)


# --------------------------------------------------------------------------- any answer at all

_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20) | st.just(HETU) | st.sampled_from(MARKUP),
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(
            st.sampled_from(
                [
                    "error",
                    "error_code",
                    "code",
                    "message",
                    "details",
                    "reason",
                    "validationErrors",
                    "errors",
                    "messageId",
                    "patron_id",
                    "employee_id",
                    "employment_id",
                    "employment_ids",
                    "conflict",
                    "id",
                    "events",
                    "continuationToken",
                    "endUsersWithActiveMailbox",
                    "attachmentId",
                    "path",
                ]
            )
            | st.text(max_size=8),
            inner,
            max_size=5,
        )
    ),
    max_leaves=15,
)
_bodies = st.one_of(_json.map(json.dumps), st.binary(max_size=40).map(lambda b: b.decode("latin-1")), st.sampled_from(["", "<html>x</html>", "{", "[1,"]))


@PROPERTY
@given(st.sampled_from(CALLS), st.sampled_from([200, 201, 202, 204, 400, 401, 403, 404, 409, 410, 413, 415, 422, 429, 500, 503]), _bodies)
@example(CALLS[CALL_IDS.index("viestit.send_electronic")], 400, '{"reason": "bad", "validationErrors": null}')
@example(
    CALLS[CALL_IDS.index("hr.create_employee")], 409, '{"error": {"code": "conflict", "message": "x", "details": {"employee_id": 3, "employment_ids": null}}}'
)
def test_any_answer_from_any_peer_is_a_result_or_a_connector_error(call, status, content):
    connection = Connection(call)
    try:
        result = connection.outcome(body_of(status, content))
    finally:
        connection.close()
    if isinstance(result, AutomationError):
        assert_clean(result)


# --------------------------------------------------------------------------- a peer that ignores paging


def test_a_koha_that_ignores_paging_is_an_integration_error_not_an_endless_loop():
    page = [{"patron_id": i, "surname": "Virtanen", "library_id": "JYVPK", "category_id": "HENKILO"} for i in range(1, 21)]
    requests: list[httpx.Request] = []

    def same_page_forever(request: httpx.Request) -> httpx.Response:
        requests.append(request)
        if len(requests) > 50:
            raise AssertionError("the client kept asking for pages")
        return httpx.Response(200, json=page)

    transport = Peer()
    transport.answer = same_page_forever
    client = KohaClient(KohaSettings(base_url="http://koha.test/api/v1", page_size=20), transport=transport, retry=ONCE)
    with pytest.raises(IntegrationError) as raised:
        client.find_patron_by_hetu_key(KEY)
    assert raised.value.code == "PAGING_IGNORED" and len(requests) == 2
