"""connectors.http (the shared REST base) and connectors.sandbox_support (faults, in-process transport)."""

from __future__ import annotations

import email.utils
import logging
import re
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest
import stamina
import tenacity.nap
from fastapi import FastAPI
from pydantic import BaseModel

from connectors.errors import (
    AutomationError,
    BusinessRuleError,
    ConflictError,
    IntegrationError,
    NotFoundError,
    TransientError,
)
from connectors.http import NO_RETRY, ApiClient, RetryPolicy, parse_retry_after
from connectors.sandbox_support import FaultInjector, FaultSettings, FaultSpec, SyncASGITransport, install_faults

HETU = "210281-9988"


class Thing(BaseModel):
    id: int
    name: str


class Script:
    """A MockTransport handler that answers from a list and records what it was sent."""

    def __init__(self, *answers: httpx.Response | Exception | Callable[[httpx.Request], httpx.Response]) -> None:
        self.answers = list(answers)
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        answer = self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]
        if isinstance(answer, Exception):
            raise answer
        if callable(answer):
            return answer(request)
        return answer


def ok(payload=None) -> httpx.Response:
    return httpx.Response(200, json=payload if payload is not None else {"id": 1, "name": "Kirjasto"})


def client_for(script: Script, **kwargs) -> ApiClient:
    kwargs.setdefault("retry", RetryPolicy(attempts=4))
    return ApiClient("http://peer.test/api", system="peer", transport=httpx.MockTransport(script), **kwargs)


@pytest.fixture
def no_waits() -> Iterator[None]:
    """Retries happen as configured, but backoffs are zero (stamina's test mode)."""
    with stamina.set_testing(True, attempts=10, cap=True):
        yield


@pytest.fixture
def waits(monkeypatch) -> list[float]:
    """Real stamina backoff, but tenacity's sleep records the wait instead of sleeping."""
    recorded: list[float] = []
    monkeypatch.setattr(tenacity.nap.time, "sleep", recorded.append)
    return recorded


# ------------------------------------------------------------------------------- retries


def test_transient_failures_are_retried_until_success(no_waits):
    script = Script(httpx.Response(503), httpx.ConnectError("refused"), httpx.ReadTimeout("slow"), ok())
    thing = client_for(script).request_model(Thing, "GET", "/things/1")
    assert thing == Thing(id=1, name="Kirjasto")
    assert len(script.requests) == 4


def test_gives_up_after_the_attempt_cap_with_a_transient_error(no_waits):
    script = Script(httpx.Response(502, text="upstream down"))
    with pytest.raises(TransientError) as raised:
        client_for(script, retry=RetryPolicy(attempts=3)).request("GET", "/things")
    assert len(script.requests) == 3
    assert raised.value.code == "BAD_GATEWAY" and raised.value.status_code == 502
    assert raised.value.body == "upstream down"


def test_backoff_is_exponential_with_jitter_and_capped(waits):
    script = Script(httpx.Response(500))
    policy = RetryPolicy(attempts=6, timeout=600, wait_initial=1.0, wait_max=5.0, wait_jitter=0.5)
    with pytest.raises(TransientError):
        client_for(script, retry=policy).request("GET", "/things")
    assert len(waits) == 5
    for number, waited in enumerate(waits, start=1):
        floor = min(1.0 * 2 ** (number - 1), 5.0)
        assert floor <= waited <= min(floor + 0.5, 5.0)
    assert waits[-1] == 5.0


def test_retry_after_seconds_is_waited_out(waits):
    script = Script(httpx.Response(429, headers={"Retry-After": "7"}), ok())
    client_for(script, retry=RetryPolicy(wait_initial=0.1, retry_after_cap=10)).request("GET", "/things")
    assert waits == [7.0]


def test_retry_after_as_http_date_is_waited_out(waits):
    when = email.utils.format_datetime(datetime.now(UTC) + timedelta(seconds=20), usegmt=True)
    script = Script(httpx.Response(503, headers={"Retry-After": when}), ok())
    client_for(script, retry=RetryPolicy(retry_after_cap=30)).request("GET", "/things")
    assert len(waits) == 1 and 17 <= waits[0] <= 20


def test_retry_after_beyond_the_cap_is_raised_at_once_for_the_queue_to_back_off(waits):
    script = Script(httpx.Response(429, headers={"Retry-After": "120"}), ok())
    with pytest.raises(TransientError) as raised:
        client_for(script, retry=RetryPolicy(retry_after_cap=30)).request("GET", "/things")
    assert waits == [] and len(script.requests) == 1
    assert raised.value.retry_after == 120.0 and raised.value.code == "RATE_LIMITED"


def test_parse_retry_after_reads_both_forms_and_ignores_garbage():
    now = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
    assert parse_retry_after("3") == 3.0
    assert parse_retry_after("Thu, 01 Jan 2026 12:00:30 GMT", now=now) == 30.0
    assert parse_retry_after("Thu, 01 Jan 2026 11:00:00 GMT", now=now) == 0.0
    assert parse_retry_after("soon") is None and parse_retry_after(None) is None and parse_retry_after("-1") is None


def test_a_post_is_not_resent_after_the_peer_may_have_acted(no_waits):
    script = Script(httpx.Response(500), ok())
    with pytest.raises(TransientError):
        client_for(script).request("POST", "/things", json={"name": "x"})
    assert len(script.requests) == 1


@pytest.mark.parametrize(
    "first",
    [httpx.ConnectError("refused"), httpx.Response(503), httpx.Response(429, headers={"Retry-After": "0"})],
    ids=["connect-error", "503", "429"],
)
def test_a_post_is_resent_when_the_peer_certainly_did_not_act(no_waits, first):
    script = Script(first, ok())
    client_for(script).request("POST", "/things", json={"name": "x"})
    assert len(script.requests) == 2


def test_a_post_with_an_idempotency_guarantee_may_be_resent_after_a_timeout(no_waits):
    script = Script(httpx.ReadTimeout("slow"), ok())
    client_for(script).request("POST", "/things", json={"name": "x"}, resend=True)
    assert len(script.requests) == 2


def test_permanent_errors_are_not_retried(no_waits):
    script = Script(httpx.Response(400, json={"error": "bad"}), ok())
    with pytest.raises(IntegrationError):
        client_for(script).request("GET", "/things")
    assert len(script.requests) == 1


# ------------------------------------------------------------------------------- status table


@pytest.mark.parametrize(
    ("status", "error_class", "code"),
    [
        (400, IntegrationError, "BAD_REQUEST"),
        (401, IntegrationError, "UNAUTHORIZED"),
        (403, IntegrationError, "FORBIDDEN"),
        (404, NotFoundError, "NOT_FOUND"),
        (409, ConflictError, "CONFLICT"),
        (410, NotFoundError, "GONE"),
        (418, IntegrationError, "CLIENT_ERROR"),
        (422, IntegrationError, "UNPROCESSABLE"),
        (429, TransientError, "RATE_LIMITED"),
        (500, TransientError, "SERVER_ERROR"),
        (502, TransientError, "BAD_GATEWAY"),
        (503, TransientError, "UNAVAILABLE"),
        (504, TransientError, "GATEWAY_TIMEOUT"),
        (599, TransientError, "SERVER_ERROR"),
        (302, IntegrationError, "UNEXPECTED_STATUS"),
    ],
)
def test_every_status_maps_to_one_error_class(status, error_class, code):
    script = Script(httpx.Response(status, json={"error": "x"}, headers={"X-Request-ID": "peer-123"}))
    with pytest.raises(error_class) as raised:
        client_for(script, retry=NO_RETRY).request("GET", "/things/9", business_ids={"work_item": 42})
    error = raised.value
    assert type(error) is error_class
    assert (error.code, error.status_code, error.request_id, error.business_ids) == (code, status, "peer-123", {"work_item": 42})
    assert str(error) == f"{code}: peer: GET /api/things/9 answered {status}"


def test_accepted_statuses_are_handed_back_to_the_caller():
    script = Script(httpx.Response(404, json={"error": "Patron not found"}))
    response = client_for(script).request("GET", "/things/9", accept={404})
    assert response.status_code == 404


def test_a_connector_maps_its_business_cases_before_the_table():
    class AlreadyDoneError(BusinessRuleError):
        pass

    def mapper(response, details):
        if response.status_code == 409:
            return AlreadyDoneError("already done", **details)
        return None

    script = Script(httpx.Response(409, json={"error": "dup"}))
    with pytest.raises(AlreadyDoneError) as raised:
        client_for(script, error_mapper=mapper).request("POST", "/things", json={})
    assert raised.value.status_code == 409
    script = Script(httpx.Response(400, json={"error": "bad"}))
    with pytest.raises(IntegrationError):
        client_for(script, error_mapper=mapper).request("POST", "/things", json={})


def test_the_client_sends_a_request_id_and_uses_it_when_the_peer_echoes_none():
    script = Script(httpx.Response(400))
    with pytest.raises(IntegrationError) as raised:
        client_for(script).request("GET", "/things")
    assert raised.value.request_id == script.requests[0].headers["X-Request-ID"]


# ------------------------------------------------------------------------------- decoding


def test_invalid_json_is_an_integration_error():
    script = Script(httpx.Response(200, text="<html>maintenance</html>"))
    with pytest.raises(IntegrationError) as raised:
        client_for(script).request_model(Thing, "GET", "/things/1")
    assert raised.value.code == "INVALID_JSON"
    assert raised.value.body == "<html>maintenance</html>"


def test_a_wrong_shape_is_an_integration_error_naming_fields_not_values():
    script = Script(ok({"id": "not-a-number-" + HETU}))
    with pytest.raises(IntegrationError) as raised:
        client_for(script).request_model(Thing, "GET", "/things/1")
    message = str(raised.value)
    assert raised.value.code == "UNEXPECTED_RESPONSE"
    assert "id:" in message and "name: Field required" in message
    assert HETU not in message and HETU not in (raised.value.body or "")


def test_any_type_decodes_through_a_type_adapter():
    script = Script(ok([{"id": 1, "name": "a"}, {"id": 2, "name": "b"}]), ok({"id": 3}))
    client = client_for(script)
    assert [t.id for t in client.request_model(list[Thing], "GET", "/things")] == [1, 2]
    with pytest.raises(IntegrationError, match=r"0: Input should be a valid list|\(root\)"):
        client.request_model(list[Thing], "GET", "/things")


# ------------------------------------------------------------------------------- privacy


def test_no_hetu_in_logs_or_error_strings(caplog, no_waits):
    script = Script(httpx.Response(500, json={"error": f"person {HETU} broke us"}))
    caplog.set_level(logging.DEBUG, logger="connectors.http")
    with pytest.raises(TransientError) as raised:
        client_for(script, retry=RetryPolicy(attempts=2)).request("GET", f"/persons/{HETU}", params={"q": HETU}, business_ids={"ref": HETU})
    error = raised.value
    texts = [str(error), repr(error), error.body or "", str(error.business_ids), caplog.text]
    assert all(HETU not in text for text in texts), texts
    assert "******-****" in (error.body or "")
    lines = [r.getMessage() for r in caplog.records if r.name == "connectors.http"]
    assert len(lines) == 2 and "q=" not in caplog.text
    assert all(re.fullmatch(r"peer GET /api/persons/\*{6}-\*{4} -> 500 in \d+ ms", line) for line in lines), lines


def test_error_bodies_are_truncated_after_masking():
    error = AutomationError("x", body="a" * 1995 + HETU + "b" * 100)
    assert error.body is not None and len(error.body) == 2000 and "210281" not in error.body


# ------------------------------------------------------------------------------- sandbox support


def sandbox(spec: FaultSpec | None = None) -> tuple[FastAPI, FaultInjector]:
    app = FastAPI()

    @app.get("/things/{thing_id}")
    def get_thing(thing_id: int) -> Thing:
        return Thing(id=thing_id, name="Kirjasto")

    return app, install_faults(app, spec or FaultSpec())


def sandbox_client(app: FastAPI, **kwargs) -> ApiClient:
    return ApiClient("http://sandbox", system="sandbox", transport=SyncASGITransport(app), **kwargs)


def test_a_sandbox_is_served_in_process_to_a_sync_client():
    app, _ = sandbox()
    with sandbox_client(app) as client:
        assert client.request_model(Thing, "GET", "/things/5") == Thing(id=5, name="Kirjasto")


def test_forced_faults_drive_a_retry_then_success(no_waits):
    app, faults = sandbox()
    faults.fail_next(1, kind="error")
    faults.fail_next(1, kind="rate_limit")
    faults.fail_next(1, kind="drop")
    client = sandbox_client(app)
    assert client.request_model(Thing, "GET", "/things/5").id == 5
    assert [fault.kind for fault in faults.injected] == ["error", "rate_limit", "drop"]


def test_a_hanging_sandbox_times_the_client_out(no_waits):
    app, faults = sandbox(FaultSpec(hang_seconds=5))
    faults.fail_next(2, kind="timeout")
    client = sandbox_client(app, timeout=0.05, retry=RetryPolicy(attempts=2))
    started = time.perf_counter()
    with pytest.raises(TransientError) as raised:
        client.request("GET", "/things/1")
    assert raised.value.code == "READ_TIMEOUT"
    assert time.perf_counter() - started < 2


def test_a_dropped_connection_is_transient(no_waits):
    app, faults = sandbox()
    faults.fail_next(1, kind="drop")
    with pytest.raises(TransientError) as raised:
        sandbox_client(app, retry=NO_RETRY).request("GET", "/things/1")
    assert raised.value.code == "CONNECTION_DROPPED"


def test_forced_faults_can_target_a_path():
    app, faults = sandbox()
    app.get("/other")(lambda: {"ok": True})
    faults.fail_next(1, kind="error", path_prefix="/things")
    client = sandbox_client(app, retry=NO_RETRY)
    assert client.request("GET", "/other").status_code == 200
    with pytest.raises(TransientError):
        client.request("GET", "/things/1")


def statuses(app: FastAPI, count: int, header: str | None = None) -> list[int]:
    transport = SyncASGITransport(app)
    with httpx.Client(transport=transport, base_url="http://sandbox") as client:
        return [client.get("/things/1", headers={"X-Sandbox-Faults": header} if header else None).status_code for _ in range(count)]


def test_per_request_header_sets_faults_and_a_seed_makes_them_reproducible():
    header = "error_rate=0.4;rate_limit=0.2;error_status=502;seed=7"
    first = statuses(sandbox()[0], 40, header)
    second = statuses(sandbox()[0], 40, header)
    assert first == second
    assert {200, 429, 502} == set(first)
    assert statuses(sandbox()[0], 10) == [200] * 10


def test_sandbox_wide_rates_come_from_the_environment(monkeypatch):
    monkeypatch.setenv("KUNTAFLOW_SANDBOX_FAULT_ERROR_RATE", "1")
    monkeypatch.setenv("KUNTAFLOW_SANDBOX_FAULT_ERROR_STATUS", "500")
    assert FaultSettings().error_rate == 1.0
    app = FastAPI()
    app.get("/things/{thing_id}")(lambda thing_id: {"id": thing_id})
    install_faults(app)
    assert statuses(app, 3) == [500, 500, 500]


def test_an_invalid_fault_header_is_a_clear_400():
    app, _ = sandbox()
    with httpx.Client(transport=SyncASGITransport(app), base_url="http://sandbox") as client:
        response = client.get("/things/1", headers={"X-Sandbox-Faults": "error_rate=2;bogus=1"})
    assert response.status_code == 400
    assert "error_rate" in response.json()["error"] and "bogus" in response.json()["error"]


def test_docs_and_sandbox_admin_paths_are_never_faulted():
    app, faults = sandbox()
    faults.configure(error_rate=1.0)
    with httpx.Client(transport=SyncASGITransport(app), base_url="http://sandbox") as client:
        assert client.get("/openapi.json").status_code == 200
        assert client.get("/things/1").status_code == 503


def test_latency_is_added(no_waits):
    app, _ = sandbox()
    with httpx.Client(transport=SyncASGITransport(app), base_url="http://sandbox") as client:
        started = time.perf_counter()
        client.get("/things/1", headers={"X-Sandbox-Faults": "latency_ms=60"})
        assert time.perf_counter() - started >= 0.06


def test_reset_makes_the_sandbox_well_behaved_again():
    app, faults = sandbox()
    faults.configure(error_rate=1.0, seed=3)
    faults.fail_next(3)
    faults.reset()
    assert statuses(app, 3) == [200, 200, 200] and faults.injected == []
