"""The daily digest: each role with recipients gets the cases waiting in its processes, with Desk links, once a day."""

from __future__ import annotations

import json
from datetime import date

import pytest

from connectors.email.sandbox import SmtpSandbox
from flows.staff_digest import staff_digest
from kuntaflow.settings import KuntaflowSettings
from schemas.citizen_reply import PROCESS as CITIZEN_REPLY
from schemas.library_card import PROCESS as LIBRARY_CARD

FRIDAY = date(2026, 12, 4)
INDEPENDENCE_DAY = date(2026, 12, 6)  # a Sunday; the run is skipped either way
CHRISTMAS_EVE = date(2026, 12, 24)


@pytest.fixture
def world(prefect_harness, tmp_path, monkeypatch):
    monkeypatch.setenv("KUNTAFLOW_DATABASE_URL", f"sqlite:///{tmp_path / 'queue.db'}")
    monkeypatch.setenv("KUNTAFLOW_STAFF_PUBLIC_URL", "https://desk.example.fi")
    monkeypatch.setenv("KUNTAFLOW_STAFF_DIGEST_RECIPIENTS", json.dumps({"librarian": ["kirjasto@kaupunki.example"], "hr": ["hr@kaupunki.example"]}))
    with SmtpSandbox() as smtp, KuntaflowSettings().work_queue() as queue:
        monkeypatch.setenv("KUNTAFLOW_EMAIL_HOST", smtp.host)
        monkeypatch.setenv("KUNTAFLOW_EMAIL_PORT", str(smtp.port))
        refused = queue.add(LIBRARY_CARD, reference="ref-1", payload={"x": 1})
        queue.claim(LIBRARY_CARD, owner="robot", limit=1)
        queue.start(refused.id, owner="robot")
        queue.fail_business(refused.id, code="APPLICANT_TOO_YOUNG", message="alle 15", owner="robot")
        queue.add(LIBRARY_CARD, reference="ref-2", payload={"x": 2})  # NEW: not waiting for a person
        reply = queue.add(CITIZEN_REPLY, reference="viestit-7", payload={"x": 3})  # NEW, and no robot takes it: waiting
        yield smtp, refused.id, reply.id


def test_the_librarians_get_their_waiting_cases_with_links_and_hr_with_nothing_waiting_gets_nothing(world):
    smtp, refused_id, reply_id = world
    summary = staff_digest(day=FRIDAY)
    assert summary.sent == {"librarian": 2}
    [mail] = smtp.mailbox.to("kirjasto@kaupunki.example")
    assert mail.subject == "Kuntaflow: 2 tapausta odottaa käsittelyä"
    assert f"https://desk.example.fi/tapaukset/{refused_id}" in mail.text
    assert f"https://desk.example.fi/tapaukset/{reply_id}" in mail.text
    assert "https://desk.example.fi/tapaukset?process=citizen_reply" in mail.text
    assert "https://desk.example.fi/tapaukset?process=library_card" in mail.text
    assert "APPLICANT_TOO_YOUNG" in mail.text and "4.12.2026" in mail.text
    assert not smtp.mailbox.to("hr@kaupunki.example")
    staff_digest(day=FRIDAY)  # a retried run: the same Message-ID, not delivered twice
    assert len(smtp.mailbox.to("kirjasto@kaupunki.example")) == 1


@pytest.mark.parametrize("day", [INDEPENDENCE_DAY, CHRISTMAS_EVE])
def test_nothing_is_sent_on_a_day_off(world, day):
    smtp, *_ = world
    assert staff_digest(day=day).skipped
    assert not smtp.mailbox.to("kirjasto@kaupunki.example")
