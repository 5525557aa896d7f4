"""The personal-data-retention flow under Prefect's test harness, with Koha and HR on real ports: it
clears old finished payloads and removes the people whose relationships have ended, and a system that
does not answer keeps its people and fails the run."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import closing
from datetime import UTC, date, datetime, timedelta

import pytest
from pydantic import SecretStr
from sqlalchemy import create_engine, update

from connectors.hr.sandbox import create_app as create_hr
from connectors.koha import KohaClient, KohaSettings, PatronCreate
from connectors.koha.sandbox import create_app as create_koha
from connectors.servers import serve_in_thread
from flows.installation_check import sample_identity_code
from flows.personal_data_retention import RetentionIncompleteError, personal_data_retention
from kuntaflow.settings import KuntaflowSettings
from kuntaflow.workitems import AccessLog
from kuntaflow.workitems.queue import CLEARED_FIELD
from kuntaflow.workitems.schema import work_items
from schemas.hetu import hetu_key
from schemas.person_vault import PersonDetails, Relation

SALT = "personal-data-retention-flow-salt"
FORMER = sample_identity_code(date(1979, 9, 9), 951)  # applied long ago; no card now
PATRON = sample_identity_code(date(1981, 8, 8), 952)  # holds a card
EMPLOYEE = sample_identity_code(date(1990, 7, 7), 953)  # HR does not answer for them


@pytest.fixture
def systems(prefect_harness, monkeypatch, tmp_path) -> Iterator[KuntaflowSettings]:
    monkeypatch.setenv("KUNTAFLOW_HETU_SALT", SALT)
    monkeypatch.setenv("KUNTAFLOW_KOHA_RETRY_ATTEMPTS", "1")
    monkeypatch.setenv("KUNTAFLOW_HR_RETRY_ATTEMPTS", "1")
    with serve_in_thread(create_koha(salt=SecretStr(SALT))) as koha_url, serve_in_thread(create_hr()) as hr_url:
        monkeypatch.setenv("KUNTAFLOW_KOHA_BASE_URL", f"{koha_url}/api/v1")
        monkeypatch.setenv("KUNTAFLOW_HR_BASE_URL", f"{hr_url}/api/v1")
        yield KuntaflowSettings()


def _people(settings: KuntaflowSettings) -> tuple[int, str, str]:
    """An old finished application (its person has nothing else), a card holder; returns (item, former, patron)."""
    with settings.work_queue() as queue:
        item_id = queue.add("library_card", reference="old", payload={"applicant": {"hetu": FORMER}}).id
        queue.mark_done(item_id, reason="handled at the desk", actor="liisa")
    engine = create_engine(settings.queue_url)
    with engine.begin() as conn:
        conn.execute(update(work_items).where(work_items.c.id == item_id).values(updated_at=datetime.now(UTC) - timedelta(days=120)))
    engine.dispose()
    with KohaClient(KohaSettings()) as koha:
        patron = koha.create_patron(PatronCreate(surname="Testinen", library_id="JYVPK", category_id="HENKILO"), hetu_key=hetu_key(PATRON, SecretStr(SALT)))

    def relation(kind: str, ref: int) -> Relation:
        return Relation(kind=kind, ref=str(ref), process="library_card", purpose="kirjastokortin haltija")

    with closing(settings.person_vault()) as vault:
        former = vault.store(PersonDetails(hetu=FORMER), relations=[relation("work_item", item_id)], actor="t")
        holder = vault.store(PersonDetails(hetu=PATRON), relations=[relation("library_patron", patron.patron_id)], actor="t")
    return item_id, former, holder


def test_the_nightly_run_clears_old_payloads_and_removes_people_without_a_relationship(systems, caplog):
    caplog.set_level(logging.INFO)
    item_id, former, holder = _people(systems)
    summary = personal_data_retention()
    assert (summary.payloads_cleared, summary.people_checked, summary.people_kept, summary.people_removed) == (1, 2, 1, 1)
    with systems.work_queue() as queue:
        assert set(queue.get(item_id).payload) == {CLEARED_FIELD}
    with closing(systems.person_vault()) as vault:
        assert [entry.key for entry in vault.entries()] == [holder]
    with AccessLog(systems.queue_url) as log:
        newest = log.entries(subject_id=former, subject_kind="person")[0]
    assert (newest.action, newest.actor) == ("vault_forget", "personal-data-retention")
    assert FORMER not in caplog.text and PATRON not in caplog.text
    assert "person vault: 2 checked, 1 kept (0 as a guardian), 1 removed" in caplog.text


def test_a_system_that_does_not_answer_keeps_its_people_and_fails_the_run(systems, monkeypatch):
    _people(systems)
    with closing(systems.person_vault()) as vault:
        employee = vault.store(
            PersonDetails(hetu=EMPLOYEE), relations=[Relation(kind="employee", ref="4711", process="employment_start", purpose="palvelussuhde")], actor="t"
        )
    monkeypatch.setenv("KUNTAFLOW_HR_BASE_URL", "http://127.0.0.1:9/api/v1")  # nothing listens on the discard port
    with pytest.raises(RetentionIncompleteError, match="1 relationships could not be checked") as failed:
        personal_data_retention()
    assert EMPLOYEE not in str(failed.value)
    with closing(systems.person_vault()) as vault:
        assert employee in {entry.key for entry in vault.entries()}
