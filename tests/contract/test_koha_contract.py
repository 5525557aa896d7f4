"""Every request KohaClient sends and every answer the Koha sandbox gives validate against Koha's spec.

Spec: shared/specs/koha/api/v1/swagger/swagger.yaml (Swagger 2.0, converted in memory by
conftest.py), with ``/patron_categories`` and the ``patron_category`` definition added in memory from
Koha's own paths/patron_categories.yaml and definitions/patron_category.yaml, which the kept root does
not list yet (shared/specs/koha/README.md). ``GET /libraries`` (paths/libraries.yaml,
definitions/library.yaml) and ``GET /patron_categories`` are checked like the patron operations; the
spec's other library operations (creating, changing and deleting libraries, the public OPAC paths) are
ones Kuntaflow never calls. No exchange is left uncovered.

``GET /patron_categories`` declares no query parameters. A client that pages it anyway gets what Koha
gives: the parameters are ignored (Koha reads reserved parameters from the validated, declared input
only) and the answer is page 1 of RESTdefaultPageSize (20) with X-Total-Count.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import httpx
import pytest
import stamina
from pydantic import SecretStr

from connectors.errors import AutomationError
from connectors.http import RetryPolicy
from connectors.koha import ExtendedAttributeIn, GuarantorLink, KohaClient, KohaSettings, PatronCreate
from connectors.koha.sandbox import create_app
from connectors.koha.sandbox.seed import SANDBOX_CLIENT_ID, SANDBOX_CLIENT_SECRET, SANDBOX_LIMITED_CLIENT_ID, SANDBOX_LIMITED_CLIENT_SECRET
from connectors.sandbox_support import FaultSpec, SyncASGITransport
from schemas import hetu_key

SPEC = "koha/api/v1/swagger/swagger.yaml"
BASE = "http://koha.test/api/v1"
SALT = SecretStr("contract-salt")
#: What the kept root does not list, loaded the way shared/specs/koha/README.md says.
ADDITIONS = {
    "paths": {"/patron_categories": {"$ref": "paths/patron_categories.yaml#/~1patron_categories"}},
    "definitions": {"patron_category": {"$ref": "definitions/patron_category.yaml"}},
}
#: Library administration and the public OPAC paths: in Koha's spec, never called by Kuntaflow.
LIBRARY_OPERATIONS_NOT_USED = {
    "POST /libraries",
    "GET /libraries/{library_id}",
    "PUT /libraries/{library_id}",
    "DELETE /libraries/{library_id}",
    "GET /public/libraries",
    "GET /public/libraries/{library_id}",
}


@pytest.fixture(autouse=True)
def _no_backoff() -> Iterator[None]:
    with stamina.set_testing(True, attempts=10, cap=True):
        yield


def _expect_error(call) -> None:
    with pytest.raises(AutomationError):
        call()


def _operation(contract, exchange) -> str | None:
    for route, item in contract.spec["paths"].items():
        pattern = "^/api/v1" + re.sub(r"\{[^}]+\}", "[^/]+", route) + "$"
        if re.match(pattern, exchange.request.url.path) and exchange.request.method.lower() in item:
            return f"{exchange.request.method} {route}"
    return None


def run_everything_the_client_and_sandbox_do(recorder) -> None:
    app = recorder.inner.app
    settings = KohaSettings(base_url=BASE, client_id=SANDBOX_CLIENT_ID, client_secret=SecretStr(SANDBOX_CLIENT_SECRET))
    koha = KohaClient(settings, transport=recorder, retry=RetryPolicy(attempts=2))
    key = hetu_key("210281-9988", SALT)

    # the client's own calls
    koha.get_patron(1)
    koha.find_patron_by_hetu_key(hetu_key("150385-9046", SALT))
    assert koha.find_patron_by_hetu_key(key) is None
    koha.find_patron_by_cardnumber("2400000001")
    koha.list_libraries()
    koha.list_patron_categories()
    adult = koha.create_patron(
        PatronCreate(surname="Testinen", firstname="Teppo", library_id="JYVPK", category_id="HENKILO", date_of_birth="1981-02-21", email="t@example.org"),
        hetu_key=key,
    )
    child = koha.create_patron(
        PatronCreate(surname="Testinen", firstname="Tiina", library_id="JYVPK", category_id="LAPSI", date_of_birth="2016-05-04"),
        guarantor=GuarantorLink(guarantor_id=adult.patron_id),
    )
    koha.add_guarantor(3, GuarantorLink(guarantor_id=adult.patron_id, relationship="isovanhempi"))  # a new relationship: a PUT
    koha.set_password(adult.patron_id, SecretStr("1234"))
    koha.add_extended_attribute(child.patron_id, ExtendedAttributeIn(type="TAKAAJA", value="1"))
    koha.list_extended_attributes(child.patron_id)
    koha.set_extended_attributes(child.patron_id, [ExtendedAttributeIn(type="TAKAAJA", value=str(adult.patron_id))])

    # the error answers the client meets
    _expect_error(lambda: koha.get_patron(999999))
    _expect_error(lambda: koha.create_patron(PatronCreate(surname="X", library_id="JYVPK", category_id="HENKILO", cardnumber="2400000001")))
    _expect_error(lambda: koha.create_patron(PatronCreate(surname="X", library_id="JYVPK", category_id="HENKILO"), hetu_key=key))
    _expect_error(lambda: koha.create_patron(PatronCreate(surname="X", library_id="NOWHERE", category_id="HENKILO")))
    _expect_error(lambda: koha.set_password(adult.patron_id, SecretStr("1")))
    _expect_error(lambda: koha.add_extended_attribute(1, ExtendedAttributeIn(type="NOPE", value="x")))
    app.state.store.revoke_tokens()
    koha.get_patron(1)  # a 401, a new token, the retry
    app.state.faults.fail_next(1, kind="error", path_prefix="/api/v1/patrons")
    koha.get_patron(1)  # an injected 503, then the answer
    limited = KohaClient(
        KohaSettings(base_url=BASE, client_id=SANDBOX_LIMITED_CLIENT_ID, client_secret=SecretStr(SANDBOX_LIMITED_CLIENT_SECRET)),
        transport=recorder,
    )
    _expect_error(lambda: limited.get_patron(1))
    wrong = KohaClient(KohaSettings(base_url=BASE, client_secret=SecretStr("wrong")), transport=recorder)
    _expect_error(lambda: wrong.get_patron(1))

    # spec operations the client does not use, so the sandbox's answers are checked too
    token = koha.auth._token
    with httpx.Client(base_url=BASE, transport=recorder, headers={"Authorization": f"Bearer {token}"}) as raw:
        assert (
            raw.get(
                "/patrons",
                params={"surname": "kor", "_match": "starts_with", "_order_by": "-firstname"},
                headers={"x-koha-embed": "extended_attributes,library"},
            ).status_code
            == 200
        )
        attribute_id = raw.get(f"/patrons/{child.patron_id}/extended_attributes").json()[0]["extended_attribute_id"]
        assert raw.patch(f"/patrons/{child.patron_id}/extended_attributes/{attribute_id}", json={"value": str(adult.patron_id)}).status_code == 200
        assert raw.delete(f"/patrons/{child.patron_id}/extended_attributes/{attribute_id}").status_code == 204
        assert raw.delete(f"/patrons/{adult.patron_id}").status_code == 409  # has_guarantees: Eetu still links to him
        assert raw.delete(f"/patrons/{child.patron_id}").status_code == 204
        assert raw.post("/patrons", json={"surname": "X", "library_id": "JYVPK", "category_id": "HENKILO", "shoe_size": 44}).status_code == 400
        assert raw.post("/oauth/token", data={"grant_type": "password", "client_id": "x", "client_secret": "y"}).status_code == 400
        # Undeclared paging on GET /patron_categories: ignored, as Koha does.
        paged = raw.get("/patron_categories", params={"_page": 2, "_per_page": 1, "_order_by": "-name"})
        assert paged.status_code == 200 and paged.headers["x-total-count"] == str(len(paged.json())) and len(paged.json()) > 1
        assert [c["patron_category_id"] for c in paged.json()] == sorted(c["patron_category_id"] for c in paged.json())


def test_client_requests_and_sandbox_answers_follow_kohas_spec(openapi_contract, recording_transport):
    contract = openapi_contract(SPEC, additions=ADDITIONS)
    recorder = recording_transport(SyncASGITransport(create_app(salt=SALT, faults=FaultSpec())))
    run_everything_the_client_and_sandbox_do(recorder)
    report = contract.check(recorder.exchanges)

    assert report.response_violations == [], "\n".join(report.response_violations)
    # The one request that breaks the spec on purpose, to see the sandbox answer like Koha's validator.
    assert len(report.request_violations) == 1 and "shoe_size" in report.request_violations[0], report.request_violations
    assert report.uncovered == []
    exercised = {_operation(contract, e) for e in recorder.exchanges} - {None}
    assert {"GET /libraries", "GET /patron_categories"} <= exercised
    assert contract.operations() >= LIBRARY_OPERATIONS_NOT_USED, "the kept spec changed: review the list"
    expected = contract.operations() - LIBRARY_OPERATIONS_NOT_USED
    assert exercised == expected, f"not exercised: {expected - exercised}"
    statuses = {e.response.status_code for e in recorder.exchanges}
    assert {200, 201, 204, 400, 401, 403, 404, 409, 503} <= statuses


def test_the_checker_catches_a_response_that_breaks_the_spec(openapi_contract, recording_transport):
    """A check that cannot fail proves nothing: a patron with an unknown field and no surname must fail."""
    contract = openapi_contract(SPEC)

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"patron_id": 1, "library_id": "JYVPK", "category_id": "HENKILO", "shoe_size": 44})

    recorder = recording_transport(httpx.MockTransport(handler))
    with httpx.Client(base_url=BASE, transport=recorder) as raw:
        raw.get("/patrons/1")
    report = contract.check(recorder.exchanges)
    assert report.request_violations == [] and len(report.response_violations) == 1
    violation = report.response_violations[0]
    assert violation.startswith("response GET /api/v1/patrons/1 -> 200") and "shoe_size" in violation and "surname" in violation


def test_the_checker_catches_a_request_that_breaks_the_spec(openapi_contract, recording_transport):
    contract = openapi_contract(SPEC)
    recorder = recording_transport(httpx.MockTransport(lambda request: httpx.Response(201, json={})))
    with httpx.Client(base_url=BASE, transport=recorder) as raw:
        raw.post("/patrons", json={"surname": "X", "library_id": "A-CODE-LONGER-THAN-TEN", "category_id": "C", "check_previous_checkout": "maybe"})
        raw.post("/patrons/1/password", json={"password": "1234"})
    report = contract.check(recorder.exchanges)
    assert len(report.request_violations) == 2, report.request_violations
    assert "library_id" in report.request_violations[0] and "check_previous_checkout" in report.request_violations[0]
    assert "password_2" in report.request_violations[1]
