"""The employment-start process end to end: queue → Prefect flow → robot subprocess → HR, service desk and
SMTP sandboxes on real ports; the supervisor's confirmation through the Prefect form and the signed link;
reminders and escalation. Assertions are on the queue AND on what the sandboxes recorded."""

from __future__ import annotations

import io
import threading
import time
from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import openpyxl
import pytest
from case_data import START, SUPERVISOR, new_employee
from cryptography.fernet import Fernet
from fastapi.testclient import TestClient
from flow_harness import Gate, kill_robot_at
from prefect import get_client
from prefect.flow_runs import resume_flow_run
from prefect.input.run_input import read_flow_run_input

import flows.employment_start as employment_start_flow
from apps.staff import create_app as create_staff
from connectors.email.sandbox import SmtpSandbox
from connectors.hr.sandbox import create_app as create_hr
from connectors.hr.sandbox.seed import test_hetu as make_hetu
from connectors.servers import serve_in_thread
from connectors.servicedesk.sandbox import create_app as create_desk
from flows.employment_start import employment_start, employment_start_queue
from flows.onboarding_reminders import onboarding_reminders
from kuntaflow.settings import KuntaflowSettings
from kuntaflow.workitems import ItemState, WorkQueue
from processes.employment_start.confirmation import EmploymentStartSettings, confirmation_token
from schemas.employee import PROCESS, NewEmployee, employment_start_reference
from schemas.hetu import helsinki_today
from schemas.workdays import add_working_days

pytestmark = [pytest.mark.slow, pytest.mark.shared_queue]


@dataclass
class Systems:
    hr: Any
    desk: Any
    smtp: SmtpSandbox
    queue: WorkQueue
    hr_posts: list[str]

    def mail_to(self, address: str) -> list[Any]:
        return self.smtp.mailbox.to(address)

    def item_of(self, payload: dict[str, Any]) -> Any:
        employee = NewEmployee.model_validate(payload)
        return self.queue.find(PROCESS, employment_start_reference(employee, KuntaflowSettings().salt()))

    def enqueue(self, payload: dict[str, Any], parent_id: int | None = None) -> int:
        employee = NewEmployee.model_validate(payload)
        reference = employment_start_reference(employee, KuntaflowSettings().salt())
        return self.queue.add(PROCESS, reference=reference, payload=employee, parent_id=parent_id).id

    def tickets_of(self, item_id: int) -> dict[str, dict[str, Any]]:
        prefix = f"employment_start:{item_id}:"
        return {t["external_reference"].removeprefix(prefix): t for t in self.desk.state.store.tickets.values() if t["external_reference"].startswith(prefix)}


def counting(posts: list[str]) -> Any:
    def wrap(app: Any) -> Any:
        async def counted(scope: dict[str, Any], receive: Any, send: Any) -> None:
            if scope["type"] == "http" and scope["method"] == "POST":
                posts.append(scope["path"])
            await app(scope, receive, send)

        return counted

    return wrap


@contextmanager
def sandboxes_running(env: pytest.MonkeyPatch, data_dir: Any, *, hr_wrap: Any = None, desk_wrap: Any = None) -> Iterator[Systems]:
    env.setenv("KUNTAFLOW_DATA_DIR", str(data_dir))
    env.setenv("KUNTAFLOW_DATABASE_URL", f"sqlite:///{data_dir / 'queue.db'}")
    env.setenv("KUNTAFLOW_PAYLOAD_KEY", Fernet.generate_key().decode())
    env.setenv("KUNTAFLOW_RETRY_BACKOFF_SECONDS", "0")
    # Fixed, because every test gets its own data directory (where generated ones would live).
    env.setenv("KUNTAFLOW_HETU_SALT", "employment-start-flow-test-salt")
    env.setenv("KUNTAFLOW_EMPLOYMENT_START_LINK_SECRET", "employment-start-flow-test-link-secret")
    for name in ("HR", "SERVICEDESK", "EMAIL"):
        env.setenv(f"KUNTAFLOW_{name}_RETRY_ATTEMPTS", "1")
    env.setenv("KUNTAFLOW_EMPLOYMENT_START_CONFIRM_WITHIN_WORKING_DAYS", "0")
    env.setenv("KUNTAFLOW_EMPLOYMENT_START_ESCALATE_AFTER_WORKING_DAYS", "0")
    hr, desk, posts = create_hr(), create_desk(), []
    hr_app = counting(posts)(hr)
    with (
        serve_in_thread(hr_wrap(hr_app) if hr_wrap else hr_app) as hr_url,
        serve_in_thread(desk_wrap(desk) if desk_wrap else desk) as desk_url,
        SmtpSandbox() as smtp,
    ):
        env.setenv("KUNTAFLOW_HR_BASE_URL", f"{hr_url}/api/v1")
        env.setenv("KUNTAFLOW_SERVICEDESK_BASE_URL", f"{desk_url}/api/v1")
        env.setenv("KUNTAFLOW_EMAIL_HOST", smtp.host)
        env.setenv("KUNTAFLOW_EMAIL_PORT", str(smtp.port))
        with KuntaflowSettings().work_queue() as queue:
            yield Systems(hr, desk, smtp, queue, posts)


# --------------------------------------------------------------------------- one run: the HR form, the queue, business errors


@pytest.fixture(scope="module")
def systems(prefect_harness, tmp_path_factory) -> Iterator[Systems]:
    with pytest.MonkeyPatch.context() as env, sandboxes_running(env, tmp_path_factory.mktemp("employment-start")) as running:
        yield running


@pytest.fixture(scope="module")
def onboarded(systems) -> dict[str, Any]:
    """The HR form's nurse and, in the same robot batch, the queue's other cases."""
    hire_parent = systems.queue.add("mass_recruitment", reference="hire-1", payload={"job": "T-1"}).id
    cases = {
        "past": new_employee(931, start_date=(helsinki_today() - timedelta(days=1)).isoformat()),
        "unknown-supervisor": new_employee(933, supervisor_id=999999),
        "no-licence": new_employee(935, title="lähihoitaja", licence_number=""),
        "hire": new_employee(937, title="palvelusuunnittelija", licence_number="", keys_needed=[], work_clothes=False, name_badge=False, laptop_needed=True),
    }
    ids = {name: systems.enqueue(payload, parent_id=hire_parent if name == "hire" else None) for name, payload in cases.items()}
    nurse = new_employee(921)
    summary = employment_start(employee=nurse, wait_for_confirmation=False)
    return {"summary": summary, "nurse": nurse, "ids": ids, "cases": cases, "hire_parent": hire_parent}


def test_hr_gets_the_person_and_the_employment_and_the_item_is_done_with_their_ids(systems, onboarded):
    outcome = onboarded["summary"].employee
    item = systems.item_of(onboarded["nurse"])
    assert (outcome.item_id, outcome.state, outcome.duplicate) == (item.id, ItemState.DONE, False)
    employment = systems.hr.state.store.employments[outcome.employment_id]
    assert (employment["start_date"], employment["job_title"], employment["supervisor_id"]) == (START.isoformat(), "sairaanhoitaja", SUPERVISOR)
    assert item.output["employment_id"] == outcome.employment_id and outcome.confirmation == "odottaa"
    assert list(systems.queue.checkpoints(item.id)) == [
        "start_checked",
        "employee_created",
        "employment_created",
        "request_it_account",
        "request_access_card",
        "request_keys",
        "request_equipment",
        "orientation_plan",
        "confirmation_requested",
        "welcome_sent",
        "checklist_sent",
    ]


def test_the_robot_keeps_the_new_employee_in_the_person_vault_with_the_hr_employee_as_the_relationship(systems, onboarded):
    item = systems.item_of(onboarded["nurse"])
    employee_id = systems.queue.checkpoints(item.id)["employee_created"]["employee_id"]
    with closing(KuntaflowSettings().person_vault()) as vault:
        kept = vault.read(vault.key_for(onboarded["nurse"]["hetu"]), purpose="testi", actor="pytest")
        refused = vault.read(vault.key_for(onboarded["cases"]["past"]["hetu"]), purpose="testi", actor="pytest")
    assert kept.hetu == onboarded["nurse"]["hetu"] and refused is None  # a start HR must fix first never reached HR
    assert {(r.kind, r.ref) for r in kept.relations} == {("work_item", str(item.id)), ("employee", str(employee_id))}


def test_each_needed_request_is_a_ticket_due_before_the_start(systems, onboarded):
    item = systems.item_of(onboarded["nurse"])
    tickets = systems.tickets_of(item.id)
    assert set(tickets) == {"it_account", "access_card", "keys", "equipment"} == set(item.output["tickets"])
    assert tickets["it_account"]["details"]["access_profile"] == "APOTTI-HOITAJA"
    assert tickets["keys"]["details"]["keys"] == ["Osasto 7 lääkehuone"]
    assert [i["kind"] for i in tickets["equipment"]["details"]["items"]] == ["phone"]
    for ticket in tickets.values():
        assert date.fromisoformat(ticket["due_date"]) < START


def test_the_orientation_plan_is_an_excel_workbook_for_the_nurse_role(systems, onboarded):
    plan = openpyxl.load_workbook(systems.item_of(onboarded["nurse"]).output["orientation_plan"])
    assert plan.sheetnames == ["Perehdytys", "Tiedot"]
    rows = list(plan["Perehdytys"].iter_rows(values_only=True))
    assert rows[0] == ("Vaihe", "Tehtävä", "Vastuuhenkilö", "Määräpäivä", "Tehty")
    phases = [r[0] for r in rows[1:]]
    assert phases == sorted(phases, key=["Ensimmäinen päivä", "Ensimmäinen viikko", "Ensimmäinen kuukausi"].index)
    topics = " | ".join(r[1] for r in rows[1:])
    for expected in ("Työturvallisuus", "Tietosuoja- ja tietoturvakoulutus", "Järjestelmäkoulutus: Apotti", "JulkiTerhikki", "Rokotussuoja"):
        assert expected in topics
    assert rows[1][3].date() == START


def test_the_employee_is_welcomed_in_finnish_and_the_supervisor_gets_the_checklist_with_the_plan(systems, onboarded):
    nurse, item = onboarded["nurse"], systems.item_of(onboarded["nurse"])
    [welcome] = systems.mail_to(nurse["personal_email"])
    for expected in (f"{START:%d.%m.%Y}", "Lääkärinkatu 8", "Satu Lehtonen", "verokortti", "tilinumero", "todistukset"):
        assert expected in welcome.text
    [checklist] = [m for m in systems.mail_to("satu.lehtonen@hel.example") if f"työ {item.id}" in m.text]
    [attachment] = checklist.attachments
    assert attachment.filename == f"perehdytyssuunnitelma-{item.id}.xlsx"
    assert openpyxl.load_workbook(io.BytesIO(attachment.content)).sheetnames == ["Perehdytys", "Tiedot"]
    assert "/vahvistus/" in checklist.text and "Työvaatteet" in checklist.text
    assert nurse["hetu"] not in welcome.text + checklist.text


def test_business_errors_reach_hr_with_a_reason_and_nothing_is_created(systems, onboarded):
    states = {name: systems.queue.get(i) for name, i in onboarded["ids"].items()}
    assert {n: (i.state.value, i.error_code) for n, i in states.items() if n != "hire"} == {
        "past": ("BUSINESS_FAILED", "START_DATE_IN_PAST"),
        "unknown-supervisor": ("BUSINESS_FAILED", "UNKNOWN_SUPERVISOR"),
        "no-licence": ("BUSINESS_FAILED", "LICENCE_NUMBER_MISSING"),
    }
    assert "Aloituspäivä" in states["past"].error_message and "HR ei tunne esihenkilöä" in states["unknown-supervisor"].error_message
    assert "rekisteröintinumero puuttuu" in states["no-licence"].error_message
    for name in ("past", "unknown-supervisor", "no-licence"):
        assert systems.tickets_of(states[name].id) == {} and systems.mail_to(onboarded["cases"][name]["personal_email"]) == []
    assert all(onboarded["cases"][n]["hetu"] not in (states[n].error_message or "") for n in states)


def test_a_hire_from_mass_recruitment_is_onboarded_through_the_queue_with_its_parent_link(systems, onboarded):
    hire = systems.queue.get(onboarded["ids"]["hire"])
    assert hire.state is ItemState.DONE and hire.parent_id == onboarded["hire_parent"]
    assert set(systems.tickets_of(hire.id)) == {"it_account", "access_card", "equipment"}
    assert systems.tickets_of(hire.id)["it_account"]["details"]["access_profile"] == "PERUS"


def test_a_hire_as_the_recruitment_robot_queues_it_waits_for_hr_to_complete_it_then_is_onboarded(systems, onboarded):
    """The payload mass recruitment really queues (HiredCandidate: no hetu, unit or supervisor)."""
    from typer.testing import CliRunner

    from apps.cli.main import app
    from schemas.recruitment import HiredCandidate

    parent = systems.queue.add("mass_recruitment", reference="sote-03-2180-26:hire-test", payload={"job": "sote-03-2180-26"}).id
    hired = HiredCandidate(
        first_names="Eino Kalevi",
        last_name="Palkattu",
        date_of_birth=date(1990, 3, 4),
        personal_email="eino.palkattu@example.org",
        phone="040 111 2222",
        start_date=START,
        employment_type="vakinainen",
        title="palvelusuunnittelija",
        workplace_address="Kansakoulukatu 3, Helsinki",
        source={"system": "helbit", "job_key": "sote-03-2180-26", "application_id": 1},
    )
    item_id = systems.queue.add(PROCESS, reference="employment_start:hire:helbit:1", payload=hired, parent_id=parent, actor="mass_recruitment").id
    employments = len(systems.hr.state.store.employments)
    employment_start_queue()
    waiting = systems.queue.get(item_id)
    assert (waiting.state, waiting.error_code) == (ItemState.BUSINESS_FAILED, "HIRE_DETAILS_MISSING")
    assert "henkilötunnus, yksikkö, esihenkilön henkilönumero" in waiting.error_message
    assert f"kuntaflow queue edit-payload {item_id} --ask hetu --ask unit_id --ask supervisor_id" in waiting.error_message
    assert len(systems.hr.state.store.employments) == employments

    hetu = make_hetu(date(1990, 3, 4), 941)
    done = CliRunner().invoke(
        app,
        [
            "queue",
            "edit-payload",
            str(item_id),
            "--ask",
            "hetu",
            "--set",
            "unit_id=SOTE-LAAKSO-OS7",
            "--set",
            f"supervisor_id={SUPERVISOR}",
            "--retry",
            "--reason",
            "HR täydensi palkkauksen",
        ],
        input=f"{hetu}\n",
    )
    assert done.exit_code == 0, done.output
    assert hetu not in done.output and "hetu, supervisor_id, unit_id changed; NEW" in done.output
    assert systems.queue.get(item_id).payload["missing"] == []
    employment_start_queue()
    onboarded_hire = systems.queue.get(item_id)
    assert onboarded_hire.state is ItemState.DONE and onboarded_hire.parent_id == parent
    assert systems.hr.state.store.employments[onboarded_hire.output["employment_id"]]["job_title"] == "palvelusuunnittelija"
    assert [e.action for e in systems.queue.audit(item_id)].count("edit_payload") == 1
    # The supervisor confirms at once, so the reminder tests below see only the cases they count.
    token = confirmation_token(onboarded_hire.output["confirmation_item_id"], SUPERVISOR, EmploymentStartSettings())
    assert TestClient(create_staff()).post(f"/vahvistus/{token}", data={"confirmed_by": "Satu Lehtonen", "plan_confirmed": "true"}).status_code == 200


def test_the_same_person_and_start_date_again_is_the_same_item_and_nothing_is_done_twice(systems, onboarded):
    before = (len(systems.hr.state.store.employments), len(systems.desk.state.store.tickets), len(systems.smtp.mailbox.to("satu.lehtonen@hel.example")))
    again = employment_start(employee=onboarded["nurse"], wait_for_confirmation=False)
    assert again.employee.item_id == onboarded["summary"].employee.item_id and again.employee.duplicate and again.batches == 0
    after = (len(systems.hr.state.store.employments), len(systems.desk.state.store.tickets), len(systems.smtp.mailbox.to("satu.lehtonen@hel.example")))
    assert after == before


# --------------------------------------------------------------------------- the signed link, reminders, escalation


def test_the_signed_link_shows_a_form_reasks_an_incomplete_answer_and_records_who_confirmed_once(systems, onboarded):
    item = systems.item_of(onboarded["nurse"])
    confirmation_id = item.output["confirmation_item_id"]
    staff = TestClient(create_staff())
    token = confirmation_token(confirmation_id, SUPERVISOR, EmploymentStartSettings())
    page = staff.get(f"/vahvistus/{token}")
    assert page.status_code == 200 and "Aino Maria Testinen921" in page.text and onboarded["nurse"]["hetu"] not in page.text
    incomplete = staff.post(f"/vahvistus/{token}", data={"confirmed_by": "Satu Lehtonen"})
    assert incomplete.status_code == 422 and "rastita" in incomplete.text and 'role="alert"' in incomplete.text
    assert systems.queue.get(confirmation_id).state is ItemState.NEW
    done = staff.post(f"/vahvistus/{token}", data={"confirmed_by": "Satu Lehtonen", "plan_confirmed": "true", "note": "Perehdyttäjä Kaisa"})
    assert done.status_code == 200 and "Kiitos" in done.text
    again = staff.post(f"/vahvistus/{token}", data={"confirmed_by": "Joku Muu", "plan_confirmed": "true"})
    assert "jo vahvistettu" in again.text and "Satu Lehtonen" in again.text
    confirmed = [e for e in systems.queue.audit(item.id) if e.action == "supervisor_confirmed"]
    assert [e.actor for e in confirmed] == ["Satu Lehtonen (sähköpostilinkki)"] and "Perehdyttäjä Kaisa" in confirmed[0].reason
    assert systems.queue.get(confirmation_id).state is ItemState.DONE
    assert staff.get(f"/vahvistus/{token[:-2]}xx").status_code == 400
    other = confirmation_token(confirmation_id, SUPERVISOR + 1, EmploymentStartSettings())
    assert staff.post(f"/vahvistus/{other}", data={"confirmed_by": "X Y", "plan_confirmed": "true"}).status_code == 400


def test_no_answer_brings_a_reminder_then_an_escalation_to_hr_and_a_late_link_still_confirms(systems, onboarded):
    hire = systems.queue.get(onboarded["ids"]["hire"])
    confirmation_id = hire.output["confirmation_item_id"]
    day = add_working_days(helsinki_today(), 0)
    first = onboarding_reminders(day=day)
    assert confirmation_id in first.supervisors_reminded and first.escalated_to_hr == []
    [reminder] = [m for m in systems.mail_to("satu.lehtonen@hel.example") if m.subject.startswith("Muistutus")]
    assert "/vahvistus/" in reminder.text and systems.queue.get(confirmation_id).state is ItemState.NEW
    second = onboarding_reminders(day=day)
    assert confirmation_id in second.escalated_to_hr
    waiting = systems.queue.get(confirmation_id)
    assert (waiting.state, waiting.error_code) == (ItemState.BUSINESS_FAILED, "SUPERVISOR_DID_NOT_CONFIRM")
    [escalation] = systems.mail_to("henkilostopalvelut@hel.example")
    assert f"työ {hire.id}" in escalation.text
    assert [e.action for e in systems.queue.audit(hire.id) if e.action in ("reminder", "escalation")] == ["reminder", "escalation"]
    assert onboarding_reminders(day=day).escalated_to_hr == []  # nothing twice
    token = confirmation_token(confirmation_id, SUPERVISOR, EmploymentStartSettings())
    late = TestClient(create_staff()).post(f"/vahvistus/{token}", data={"confirmed_by": "Satu Lehtonen", "plan_confirmed": "true"})
    assert late.status_code == 200 and systems.queue.get(confirmation_id).state is ItemState.DONE


def test_reminders_skip_public_holidays_and_chase_open_requests_close_to_the_start(systems, onboarded):
    assert onboarding_reminders(day=date(2026, 12, 24)).skipped == "Jouluaatto"
    item = systems.item_of(onboarded["nurse"])
    tickets = systems.tickets_of(item.id)
    systems.desk.state.store.set_state(tickets["keys"]["ticket_id"], "done")
    chased = onboarding_reminders(day=add_working_days(START, -2)).tickets_reminded
    assert set(chased) >= {tickets[k]["ticket_id"] for k in ("it_account", "access_card", "equipment")}
    assert tickets["keys"]["ticket_id"] not in chased
    assert onboarding_reminders(day=add_working_days(START, -5)).tickets_reminded == []


# --------------------------------------------------------------------------- waiting in Prefect: the Resume form, the link resumes


def _paused_run(systems: Systems, confirmation_of_reference: str, prompt: int, timeout: float = 90) -> str:
    """Wait until the run waiting on this employee is paused at its ``prompt``-th form; its id."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        item = systems.queue.find(PROCESS, confirmation_of_reference)
        if item is not None and item.output:
            waiting = systems.queue.checkpoints(item.output["confirmation_item_id"]).get("waiting_run")
            if waiting:
                with get_client(sync_client=True) as client:
                    run = client.read_flow_run(waiting["flow_run_id"])
                keyset = (run.state.state_details.run_input_keyset or {}) if run.state else {}
                if run.state and run.state.is_paused() and keyset.get("response", "").endswith(f"-{prompt}-response"):
                    return waiting["flow_run_id"]
        time.sleep(0.2)
    raise AssertionError(f"the run never paused at prompt {prompt}")


def _start_waiting(payload: dict[str, Any]) -> tuple[threading.Thread, dict[str, Any]]:
    result: dict[str, Any] = {}
    worker = threading.Thread(target=lambda: result.setdefault("summary", employment_start(employee=payload, confirmation_timeout_seconds=120)))
    worker.start()
    return worker, result


def test_an_incomplete_resume_form_is_asked_again_with_the_reason_and_a_valid_one_confirms(systems, onboarded):
    payload = new_employee(941)
    reference = employment_start_reference(NewEmployee.model_validate(payload), KuntaflowSettings().salt())
    worker, result = _start_waiting(payload)
    run_id = _paused_run(systems, reference, 1)
    resume_flow_run(run_id, run_input={"confirmed_by": "Satu Lehtonen", "plan_confirmed": False})
    run_id = _paused_run(systems, reference, 2)
    with get_client(sync_client=True) as client:
        keyset = client.read_flow_run(run_id).state.state_details.run_input_keyset
    assert "Korjattavaa" in read_flow_run_input(keyset["description"], flow_run_id=run_id)
    resume_flow_run(run_id, run_input={"confirmed_by": "Satu Lehtonen", "plan_confirmed": True, "note": ""})
    worker.join(60)
    outcome = result["summary"].employee
    assert (outcome.state, outcome.confirmation, outcome.confirmed_by) == (ItemState.DONE, "vahvistettu", "Satu Lehtonen")
    assert [e.actor for e in systems.queue.audit(outcome.item_id) if e.action == "supervisor_confirmed"] == ["Satu Lehtonen (Prefect-lomake)"]


def test_the_e_mail_link_resumes_the_waiting_run(systems, onboarded):
    payload = new_employee(943)
    reference = employment_start_reference(NewEmployee.model_validate(payload), KuntaflowSettings().salt())
    worker, result = _start_waiting(payload)
    _paused_run(systems, reference, 1)
    confirmation_id = systems.queue.find(PROCESS, reference).output["confirmation_item_id"]
    token = confirmation_token(confirmation_id, SUPERVISOR, EmploymentStartSettings())
    assert TestClient(create_staff()).post(f"/vahvistus/{token}", data={"confirmed_by": "Satu Lehtonen", "plan_confirmed": "true"}).status_code == 200
    worker.join(60)
    assert not worker.is_alive()
    outcome = result["summary"].employee
    assert (outcome.confirmation, outcome.confirmed_by) == ("vahvistettu", "Satu Lehtonen")
    assert [e.actor for e in systems.queue.audit(outcome.item_id) if e.action == "supervisor_confirmed"] == ["Satu Lehtonen (sähköpostilinkki)"]


def test_a_link_answered_while_the_run_is_on_its_way_to_pausing_still_resumes_it(systems, onboarded, monkeypatch):
    """The run looked at the confirmation item, found it open, and is about to pause when the link records the answer."""
    about_to_pause = threading.Event()
    pause = employment_start_flow._wait

    def slow_to_pause(*args: Any, **kwargs: Any) -> Any:
        about_to_pause.set()
        time.sleep(2)
        return pause(*args, **kwargs)

    monkeypatch.setattr(employment_start_flow, "_wait", slow_to_pause)
    payload = new_employee(945)
    reference = employment_start_reference(NewEmployee.model_validate(payload), KuntaflowSettings().salt())
    worker, result = _start_waiting(payload)
    assert about_to_pause.wait(90)
    confirmation_id = systems.queue.find(PROCESS, reference).output["confirmation_item_id"]
    token = confirmation_token(confirmation_id, SUPERVISOR, EmploymentStartSettings())
    assert TestClient(create_staff()).post(f"/vahvistus/{token}", data={"confirmed_by": "Satu Lehtonen", "plan_confirmed": "true"}).status_code == 200
    worker.join(60)
    assert not worker.is_alive(), "the run paused after the answer was recorded and nobody resumed it"
    assert (result["summary"].employee.confirmation, result["summary"].employee.confirmed_by) == ("vahvistettu", "Satu Lehtonen")


# --------------------------------------------------------------------------- outages and a crash between two steps


def test_an_hr_outage_fails_the_start_for_a_retry_that_then_succeeds(systems, onboarded):
    item_id = systems.enqueue(new_employee(949))  # not 945: the pausing test before this one onboards that person
    systems.hr.state.faults.fail_next(1, kind="error", path_prefix="/api/v1/employees")
    employment_start_queue(max_batches=1)
    item = systems.queue.get(item_id)
    assert item.state is ItemState.APPLICATION_FAILED and item.error_message.startswith(f"TransientError: UNAVAILABLE: work item {item_id}")
    employment_start_queue()
    item = systems.queue.get(item_id)
    assert item.state is ItemState.DONE and item.attempts == 2


def test_a_robot_killed_between_hr_and_the_service_desk_resumes_without_registering_the_employment_again(prefect_harness, monkeypatch, tmp_path):
    gate = Gate("POST", "/api/v1/requests")
    with sandboxes_running(monkeypatch, tmp_path / "crash", desk_wrap=gate.wrap) as crash:
        item_id = crash.enqueue(new_employee(947))
        kill_robot_at(gate, PROCESS, lambda: employment_start_queue(max_batches=1))
        item = crash.queue.get(item_id)
        assert item.state is ItemState.NEW and "employment_created" in crash.queue.checkpoints(item_id)
        employment_posts = crash.hr_posts.count("/api/v1/employments")
        employment_start_queue()
        item = crash.queue.get(item_id)
        assert item.state is ItemState.DONE and item.attempts == 2
        assert crash.hr_posts.count("/api/v1/employments") == employment_posts == 1
        assert len(crash.hr.state.store.employments) == 1 and len(crash.tickets_of(item_id)) == 4
        assert [e.action for e in crash.queue.audit(item_id)] == ["add", "claim", "start", "release", "claim", "start", "complete"]
