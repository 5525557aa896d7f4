"""A malformed answer from a peer, at the robot level: the library-card robot (a real subprocess, through
``kuntaflow.batches.process_batch``) meets a Koha that answers one applicant's patron search with a
200 HTML page. That item ends APPLICATION_FAILED with the ``IntegrationError`` code and the case named,
and no personal data; the other item in the same batch is processed to its decision as usual.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest
from pydantic import SecretStr

from connectors.email.sandbox import SmtpSandbox
from connectors.koha.sandbox import create_app as create_koha
from connectors.servers import serve_in_thread
from connectors.suomifi_viestit.sandbox import create_app as create_viestit
from flows.installation_check import sample_identity_code
from kuntaflow.batches import process_batch
from kuntaflow.settings import KuntaflowSettings
from kuntaflow.workitems import ItemState
from schemas.hetu import hetu_key
from schemas.library_card import PROCESS

SALT = "hostile-robot-salt"
ADDRESS = {"street_address": "Kauppakatu 1 A 2", "postal_code": "40100", "post_office": "Jyväskylä"}


class HtmlForOnePerson:
    """Koha as usual, except that a patron search for ``key`` gets a proxy's HTML error page with a 200."""

    def __init__(self, app: Any, key: str) -> None:
        self.app, self.key = app, key

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "http" and scope["path"].endswith("/patrons") and self.key in scope["query_string"].decode():
            body = b"<html><body><h1>Welcome</h1><p>Your session has expired.</p></body></html>"
            await send(
                {"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/html"), (b"content-length", str(len(body)).encode())]}
            )
            await send({"type": "http.response.body", "body": body})
            return
        await self.app(scope, receive, send)


def application(hetu: str, surname: str) -> dict[str, Any]:
    return {
        "applicant": {"hetu": hetu, "first_names": "Testi", "surname": surname, "home_municipality_code": "179", "permanent_address": dict(ADDRESS)},
        "home_library": "JYVVAA",
        "rules_accepted": True,
        "submitted_at": datetime.now(UTC).isoformat(),
    }


@pytest.mark.slow
def test_a_malformed_koha_answer_fails_only_its_item_as_an_integration_error_and_the_batch_goes_on(monkeypatch):
    broken, fine = sample_identity_code(date(1990, 5, 17), 941), sample_identity_code(date(1988, 2, 3), 943)
    koha = create_koha(salt=SecretStr(SALT))
    viestit = create_viestit()
    viestit.state.store.set_mailbox(fine, True)
    monkeypatch.setenv("KUNTAFLOW_HETU_SALT", SALT)
    monkeypatch.setenv("KUNTAFLOW_KOHA_RETRY_ATTEMPTS", "1")
    with (
        serve_in_thread(HtmlForOnePerson(koha, hetu_key(broken, SecretStr(SALT)))) as koha_url,
        serve_in_thread(viestit) as viestit_url,
        SmtpSandbox() as smtp,
    ):
        monkeypatch.setenv("KUNTAFLOW_KOHA_BASE_URL", f"{koha_url}/api/v1")
        monkeypatch.setenv("KUNTAFLOW_VIESTIT_BASE_URL", viestit_url)
        monkeypatch.setenv("KUNTAFLOW_EMAIL_HOST", smtp.host)
        monkeypatch.setenv("KUNTAFLOW_EMAIL_PORT", str(smtp.port))
        with KuntaflowSettings().work_queue() as queue:
            first = queue.add(PROCESS, reference="hostile-broken", payload=application(broken, "Rikkinäinen"))
            second = queue.add(PROCESS, reference="hostile-fine", payload=application(fine, "Ehjä"))
            report = process_batch(PROCESS)
            failed, done = queue.get(first.id), queue.get(second.id)
        output = (report.robot_log.parent / "output.xml").read_text(encoding="utf-8")

    assert failed.state is ItemState.APPLICATION_FAILED and failed.error_type == "APPLICATION"
    assert failed.error_code == "INVALID_JSON"
    assert failed.error_message.startswith(f"IntegrationError: INVALID_JSON: work item {first.id}: koha:"), failed.error_message
    assert done.state is ItemState.DONE and done.output["reason"] == "CARD_GRANTED"
    assert [m.external_id for m in viestit.state.store.messages.values()] == [f"kuntaflow-library-card-{second.id}-decision"]
    for secret in (broken, fine, "Rikkinäinen", "Ehjä"):
        assert secret not in failed.error_message and secret not in output
