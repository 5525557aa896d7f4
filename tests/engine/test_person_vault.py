"""The person vault on SQLite and the real PostgreSQL: sealed at rest, keyed by the key Koha holds, every
read in the access log with its purpose, and the retention rule removing exactly the people whose every
relationship has ended (Koha and HR answering from their sandboxes in-process)."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta

import pytest
from cryptography.fernet import Fernet
from pydantic import SecretStr
from sqlalchemy import create_engine, inspect, select, text, update

from connectors.errors import IntegrationError
from connectors.hr import EmployeeCreate, EmploymentCreate, HrClient, HrSettings
from connectors.hr.sandbox import create_app as create_hr
from connectors.http import RetryPolicy
from connectors.koha import KohaClient, KohaSettings, PatronCreate
from connectors.koha.sandbox import create_app as create_koha
from connectors.sandbox_support import FaultSpec, SyncASGITransport
from flows.installation_check import sample_identity_code
from kuntaflow.person_vault import (
    REMOVAL_REASON,
    LiveWorkItems,
    PersonDetails,
    PersonVault,
    PurposeRequiredError,
    Relation,
    RelationKind,
    SealedPersonVault,
    VaultError,
    VaultHetuSource,
    apply_retention,
)
from kuntaflow.privacy_sweep import sweep
from kuntaflow.settings import KuntaflowSettings
from kuntaflow.workitems import AccessLog, SubjectKind, WorkQueue, engines
from kuntaflow.workitems.migrate import HEAD_REVISION
from kuntaflow.workitems.schema import person_relations, person_vault, work_items
from processes.employment_start.retention import OpenEmployment
from processes.library_card.retention import ActiveLibraryCard
from schemas.hetu import hetu_key

SALT = SecretStr("person-vault-test-salt")
KEY = SecretStr(Fernet.generate_key().decode())
ADULT = sample_identity_code(date(1980, 4, 2), 921)
CHILD = sample_identity_code(date(2018, 6, 9), 922)
GUARDIAN = sample_identity_code(date(1984, 1, 30), 923)
TODAY = datetime.now(UTC)
RETENTION = timedelta(days=90)


def relation(kind: str, ref: object, purpose: str = "kirjastokortin haltija") -> Relation:
    return Relation(kind=kind, ref=str(ref), process="library_card", purpose=purpose)


@pytest.fixture
def vault(queue_url) -> Iterator[SealedPersonVault]:
    with SealedPersonVault(queue_url, sealing_key=KEY, salt=SALT) as opened:
        yield opened


def test_the_vault_is_a_person_vault_and_keys_people_as_koha_does(vault):
    assert isinstance(vault, PersonVault)
    key = vault.store(PersonDetails(hetu=ADULT, language="sv"), relations=[relation(RelationKind.WORK_ITEM, 1)], actor="robot:library_card")
    assert key == vault.key_for(ADULT) == hetu_key(ADULT, SALT)
    person = vault.read(key, purpose="kirjastokortin vanhenemismuistutus", actor="robot:card_expiry")
    assert (person.hetu, person.language.value, person.guardian_key) == (ADULT, "sv", None)
    assert person.relations == (relation(RelationKind.WORK_ITEM, 1),)
    assert vault.read(hetu_key(ADULT, SecretStr("another city's salt")), purpose="p", actor="a") is None
    assert ADULT not in repr(person)


def test_at_rest_the_rows_hold_no_henkilotunnus(vault, queue_url, tmp_path):
    guardian_key = vault.store(PersonDetails(hetu=GUARDIAN), relations=[relation(RelationKind.LIBRARY_PATRON, 5)], actor="robot")
    vault.store(PersonDetails(hetu=CHILD, guardian_key=guardian_key), relations=[relation(RelationKind.LIBRARY_PATRON, 6)], actor="robot")
    engine = create_engine(queue_url)
    with engine.connect() as conn:
        rows = [*conn.execute(select(person_vault)), *conn.execute(select(person_relations))]
    engine.dispose()
    raw = repr([tuple(row) for row in rows])
    assert len(rows) == 4 and GUARDIAN not in raw and CHILD not in raw and "fi" not in [value for row in rows for value in row]
    if queue_url.startswith("sqlite"):  # the database file and its WAL, byte by byte
        assert sweep(tmp_path, known=[GUARDIAN, CHILD]) == []


def test_every_read_is_in_the_access_log_with_its_purpose_and_reader(vault, queue_url):
    key = vault.store(PersonDetails(hetu=ADULT), relations=[relation(RelationKind.WORK_ITEM, 1, "hakemus")], actor="robot:library_card")
    vault.read(key, purpose="kortin vanhenemismuistutus", actor="robot:card_expiry", process="card_expiry")
    vault.read(key, purpose="asiakas soitti", actor="liisa.kirjasto")
    with AccessLog(queue_url) as log:
        entries = log.entries(subject_kind=SubjectKind.PERSON, subject_id=key)
    assert [(e.action, e.actor, e.purpose, e.process) for e in reversed(entries)] == [
        ("vault_store", "robot:library_card", "hakemus", "library_card"),
        ("vault_read", "robot:card_expiry", "kortin vanhenemismuistutus", "card_expiry"),
        ("vault_read", "liisa.kirjasto", "asiakas soitti", None),
    ]


@pytest.mark.parametrize(("purpose", "actor"), [("", "robot"), ("   ", "robot"), ("muistutus", ""), ("muistutus", " ")])
def test_a_read_without_a_purpose_or_a_reader_is_refused_and_nothing_is_read_or_logged(vault, queue_url, purpose, actor):
    key = vault.store(PersonDetails(hetu=ADULT), relations=[relation(RelationKind.WORK_ITEM, 1)], actor="robot")
    with pytest.raises(PurposeRequiredError, match=r"purpose|acts"):
        vault.read(key, purpose=purpose, actor=actor)
    with AccessLog(queue_url) as log:
        assert [entry.action for entry in log.entries()] == ["vault_store"]


def test_a_henkilotunnus_in_place_of_a_key_is_refused_before_it_reaches_the_log(vault, queue_url):
    with pytest.raises(VaultError, match="never by their henkilötunnus") as refused:
        vault.read(ADULT, purpose="p", actor="a")
    assert ADULT not in str(refused.value)
    with pytest.raises(VaultError, match="by their key"):
        vault.store(PersonDetails(hetu=CHILD, guardian_key=GUARDIAN), relations=[relation(RelationKind.WORK_ITEM, 1)], actor="robot")
    with AccessLog(queue_url) as log:
        assert log.entries() == []


def test_storing_again_adds_relationships_replaces_details_and_never_duplicates(vault):
    key = vault.store(PersonDetails(hetu=ADULT), relations=[relation(RelationKind.WORK_ITEM, 1)], actor="robot")
    vault.store(PersonDetails(hetu=ADULT), relations=[relation(RelationKind.WORK_ITEM, 1)], actor="robot")
    vault.store(PersonDetails(hetu=ADULT, language="en"), relations=[relation(RelationKind.LIBRARY_PATRON, 44)], actor="robot")
    person = vault.read(key, purpose="p", actor="a")
    assert person.language.value == "en"
    assert {(r.kind, r.ref) for r in person.relations} == {("work_item", "1"), ("library_patron", "44")}
    [entry] = list(vault.entries())
    assert entry.key == key and len(entry.relations) == 2
    with pytest.raises(VaultError, match="at least one"):
        vault.store(PersonDetails(hetu=ADULT), relations=[], actor="robot")


def test_a_record_sealed_with_another_key_is_a_clear_error_without_the_code(vault, queue_url):
    key = vault.store(PersonDetails(hetu=ADULT), relations=[relation(RelationKind.WORK_ITEM, 1)], actor="robot")
    other_key = SecretStr(Fernet.generate_key().decode())
    with SealedPersonVault(queue_url, sealing_key=other_key, salt=SALT) as other, pytest.raises(VaultError, match="KUNTAFLOW_PAYLOAD_KEY") as refused:
        other.read(key, purpose="p", actor="a")
    assert ADULT not in str(refused.value)


def test_settings_give_kuntaflows_vault_or_refuse_a_factory_that_is_not_a_vault(tmp_path):
    settings = KuntaflowSettings(data_dir=tmp_path / "data")
    vault = settings.person_vault()
    try:
        assert isinstance(vault, SealedPersonVault) and vault.url == settings.queue_url
    finally:
        vault.close()
    with pytest.raises(VaultError, match="not a PersonVault"):
        KuntaflowSettings(data_dir=tmp_path / "data", person_vault_factory="builtins:dict").person_vault()
    with pytest.raises(VaultError, match="cannot be loaded"):
        KuntaflowSettings(data_dir=tmp_path / "data", person_vault_factory="no_such_module:vault").person_vault()


# ---------------------------------------------------------------------------------------- retention


class Systems:
    """Koha and HR in-process, with the people the retention test needs."""

    def __init__(self) -> None:
        self.koha_app = create_koha(salt=SALT, faults=FaultSpec())
        self.hr_app = create_hr(faults=FaultSpec())
        retry = RetryPolicy(attempts=1)
        self.koha = KohaClient(KohaSettings(base_url="http://koha.test/api/v1"), transport=SyncASGITransport(self.koha_app), retry=retry)
        self.hr = HrClient(HrSettings(base_url="http://hr.test/api/v1"), transport=SyncASGITransport(self.hr_app), retry=retry)
        self._writes = 0

    def _next(self) -> int:
        self._writes += 1
        return self._writes

    def patron(self, hetu: str, *, expires: date) -> int:
        patron = self.koha.create_patron(PatronCreate(surname="Testinen", library_id="JYVPK", category_id="HENKILO"), hetu_key=hetu_key(hetu, SALT))
        self.koha_app.state.store.patrons[patron.patron_id]["expiry_date"] = expires.isoformat()
        return patron.patron_id

    def employee(self, hetu: str, *, cancelled: bool) -> int:
        employee = self.hr.create_employee(EmployeeCreate(hetu=hetu, first_names="Testi", last_name="Testinen"), idempotency_key=f"e-{self._next()}").employee
        unit = self.hr.list_units()[0]
        job = self.hr.create_employment(
            EmploymentCreate(
                employee_id=employee.employee_id, start_date=date.today() + timedelta(days=30), job_title="kirjastovirkailija", unit_id=unit.unit_id
            ),
            idempotency_key=f"j-{self._next()}",
        ).employment
        if cancelled:
            self.hr.cancel_employment(job.employment_id, "rekrytointi peruttiin", idempotency_key=f"c-{self._next()}")
        return employee.employee_id


def _finished(queue: WorkQueue, reference: str, *, days_ago: int) -> int:
    """A DONE item last changed ``days_ago`` days ago."""
    item_id = queue.add("library_card", reference=reference, payload={"x": 1}).id
    queue.claim("library_card", owner="robot", limit=1)
    queue.complete(item_id, owner="robot")
    engine = create_engine(queue.url)
    with engine.begin() as conn:
        conn.execute(update(work_items).where(work_items.c.id == item_id).values(updated_at=TODAY - timedelta(days=days_ago)))
    engine.dispose()
    return item_id


def test_retention_removes_exactly_the_people_without_a_live_relationship(vault, queue_url, caplog):
    caplog.set_level(logging.DEBUG)
    systems = Systems()
    names = ["open item", "old item", "recent item", "card", "expired card", "employee", "cancelled", "guardian", "child", "city kind", "koha down"]
    people = {name: sample_identity_code(date(1970 + n, 3, 3), 930 + n) for n, name in enumerate(names)}
    with WorkQueue(queue_url, payload_key=KEY) as queue:
        open_item = queue.add("employment_start", reference="open", payload={"x": 1}).id
        old_item, recent_item = _finished(queue, "old", days_ago=91), _finished(queue, "recent", days_ago=89)
    future, past = date.today() + timedelta(days=200), date.today() - timedelta(days=1)

    def keep(name: str, *relations: Relation, guardian: str | None = None) -> str:
        details = PersonDetails(hetu=people[name], guardian_key=hetu_key(people[guardian], SALT) if guardian else None)
        return vault.store(details, relations=list(relations), actor="robot")

    keys = {
        "open item": keep("open item", relation(RelationKind.WORK_ITEM, open_item)),
        "old item": keep("old item", relation(RelationKind.WORK_ITEM, old_item), relation(RelationKind.WORK_ITEM, 99999)),
        "recent item": keep("recent item", relation(RelationKind.WORK_ITEM, recent_item)),
        "card": keep("card", relation(RelationKind.WORK_ITEM, old_item), relation(RelationKind.LIBRARY_PATRON, systems.patron(people["card"], expires=future))),
        "expired card": keep("expired card", relation(RelationKind.LIBRARY_PATRON, systems.patron(people["expired card"], expires=past))),
        "employee": keep("employee", relation(RelationKind.EMPLOYEE, systems.employee(people["employee"], cancelled=False))),
        "cancelled": keep("cancelled", relation(RelationKind.EMPLOYEE, systems.employee(people["cancelled"], cancelled=True))),
        "guardian": keep("guardian", relation(RelationKind.LIBRARY_PATRON, systems.patron(people["guardian"], expires=past))),
        "child": keep("child", relation(RelationKind.LIBRARY_PATRON, systems.patron(people["child"], expires=future)), guardian="guardian"),
        "city kind": keep("city kind", relation("city_register", "r-1")),
        "koha down": keep("koha down", relation(RelationKind.LIBRARY_PATRON, 777)),
    }

    def library_card(entry, rel):
        if entry.key == keys["koha down"]:
            raise IntegrationError("koha: 503 Service Unavailable")
        return ActiveLibraryCard(systems.koha, today=date.today())(entry, rel)

    with LiveWorkItems(queue_url, retention=RETENTION, now=TODAY) as work_items_live:
        checks = {RelationKind.WORK_ITEM: work_items_live, RelationKind.LIBRARY_PATRON: library_card, RelationKind.EMPLOYEE: OpenEmployment(systems.hr)}
        report = apply_retention(vault, checks, actor="personal-data-retention")
        again = apply_retention(vault, checks, actor="personal-data-retention")

    removed = {"old item", "expired card", "cancelled"}
    assert sorted(report.removed) == sorted(keys[name] for name in removed)
    assert {entry.key for entry in vault.entries()} == {keys[name] for name in keys.keys() - removed}
    assert (report.checked, report.kept, report.kept_as_guardian) == (11, 8, 1)
    assert report.unchecked_kinds == {"city_register": 1} and report.errors == ["library_patron 777: INTEGRATION_ERROR: koha: 503 Service Unavailable"]
    assert again.removed == [] and again.checked == 8
    with AccessLog(queue_url) as log:
        forgotten = [e for e in log.entries() if e.action == "vault_forget"]
    assert sorted(e.subject_id for e in forgotten) == sorted(report.removed) and {e.purpose for e in forgotten} == {REMOVAL_REASON}
    assert all(vault.read(keys[name], purpose="p", actor="a") is None for name in removed)
    assert not any(hetu in caplog.text for hetu in people.values())


def test_no_henkilotunnus_in_the_log_of_a_vault_at_work(vault, caplog):
    caplog.set_level(logging.DEBUG)
    key = vault.store(PersonDetails(hetu=ADULT), relations=[relation(RelationKind.WORK_ITEM, 1)], actor="robot")
    person = vault.read(key, purpose="p", actor="a")
    logging.getLogger("test").info("read %r for %s", person, key)
    vault.forget(key, reason="asiakas pyysi poistoa", actor="liisa.kirjasto")
    assert key in caplog.text and ADULT not in caplog.text


def test_the_vault_tables_are_created_by_the_migration(queue_url):
    with SealedPersonVault(queue_url, sealing_key=KEY, salt=SALT):
        engine = create_engine(queue_url)
        with engine.connect() as conn:
            assert conn.execute(text("SELECT version_num FROM alembic_version")).scalar() == HEAD_REVISION
            assert inspect(conn).has_table("kf_person_vault")
        engine.dispose()


def test_on_sqlite_a_forgotten_person_leaves_no_sealed_bytes_in_the_database_file(tmp_path):
    url = f"sqlite:///{tmp_path / 'queue.db'}"
    with SealedPersonVault(url, sealing_key=KEY, salt=SALT) as sqlite_vault:
        keys = [sqlite_vault.store(PersonDetails(hetu=hetu), relations=[relation(RelationKind.WORK_ITEM, 1)], actor="robot") for hetu in (ADULT, CHILD)]
        raw = engines.acquire(url).raw_connection()  # a connection of the queue's own engine, with its pragmas
        try:
            assert raw.execute("PRAGMA secure_delete").fetchone() == (1,)  # whatever the SQLite build's default
            sealed = dict(raw.execute("SELECT person_key, sealed FROM kf_person_vault").fetchall())
            sqlite_vault.forget(keys[0], reason="asiakas pyysi poistoa", actor="liisa.kirjasto")
            raw.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        finally:
            raw.close()
            engines.release(url)
    data = (tmp_path / "queue.db").read_bytes()
    assert sealed[keys[0]][:40].encode() not in data and sealed[keys[1]][:40].encode() in data


def test_a_process_that_knows_people_by_key_reads_their_code_through_the_vault_with_its_purpose(vault, queue_url):
    key = vault.store(PersonDetails(hetu=ADULT), relations=[relation(RelationKind.LIBRARY_PATRON, 7)], actor="robot:library_card")
    people = VaultHetuSource(vault, actor="robot:card_expiry", process="card_expiry")
    assert people.hetu_for(key, purpose="kirjastokortin vanhenemismuistutus") == ADULT
    assert people.hetu_for(hetu_key(CHILD, SALT), purpose="kirjastokortin vanhenemismuistutus") is None
    with pytest.raises(PurposeRequiredError):
        people.hetu_for(key, purpose="")
    with AccessLog(queue_url) as log:
        reads = [(e.actor, e.process, e.purpose) for e in log.entries(actor="robot:card_expiry")]
    assert reads == [("robot:card_expiry", "card_expiry", "kirjastokortin vanhenemismuistutus")] * 2
