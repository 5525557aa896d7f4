"""EmploymentStartService without Robot Framework: HR and service-desk sandboxes in-process (ASGI
transports), a hand-written e-mail client at the boundary, checkpoints kept in a dict."""

from __future__ import annotations

from typing import Any

import openpyxl
import pytest
from case_data import EMPLOYEE_BORN, START, make_hetu, new_employee

from connectors.errors import BusinessRuleError
from connectors.hr import HrClient, HrSettings
from connectors.hr.sandbox import create_app as create_hr
from connectors.http import RetryPolicy
from connectors.sandbox_support import FaultSpec, SyncASGITransport
from connectors.servicedesk import ServiceDeskClient, ServiceDeskSettings
from connectors.servicedesk.sandbox import create_app as create_desk
from kuntaflow.settings import KuntaflowSettings
from processes.checkpoints import Checkpoints
from processes.employment_start.checkpoints import ConfirmationRequested, EmploymentCreated, RequestOpened, StartChecked
from processes.employment_start.service import EMPLOYEE_PURPOSE, EmploymentStartService
from schemas.employee import CONFIRMATION_PROCESS, PROCESS
from schemas.person_vault import PersonVault, Relation


class Systems:
    def __init__(self, email: Any, vault: PersonVault | None = None) -> None:
        self.hr_app = create_hr(faults=FaultSpec())
        self.desk_app = create_desk(faults=FaultSpec())
        self.email = email
        hr = HrClient(HrSettings(base_url="http://hr.test/api/v1"), transport=SyncASGITransport(self.hr_app), retry=RetryPolicy(attempts=1))
        desk = ServiceDeskClient(
            ServiceDeskSettings(base_url="http://servicedesk.test/api/v1"), transport=SyncASGITransport(self.desk_app), retry=RetryPolicy(attempts=1)
        )
        self.engine = KuntaflowSettings()
        self.service = EmploymentStartService(hr, desk, email, engine=self.engine, vault=vault)
        self.stored: dict[int, dict[str, dict[str, Any]]] = {}

    def enqueue(self, payload: dict[str, Any]) -> int:
        """The employment start as a work item: the confirmation is its child."""
        with self.engine.work_queue() as queue:
            return queue.add(PROCESS, reference=payload["last_name"], payload=payload).id

    def checkpoints(self, item_id: int) -> Checkpoints:
        stored = self.stored.setdefault(item_id, {})
        return Checkpoints(stored, lambda step, data: stored.__setitem__(step, data))

    def onboard(self, item_id: int, payload: dict[str, Any]) -> dict[str, Any]:
        """The robot's eight steps, as the keyword library calls them."""
        service = self.service
        case = service.check_start(item_id, payload, self.checkpoints(item_id))
        service.create_employment(case)
        service.open_service_requests(case)
        plan = service.build_orientation_plan(case)
        service.ask_supervisor_to_confirm(case)
        service.send_welcome(case)
        service.send_checklist(case, plan)
        return service.outcome(case)


@pytest.fixture
def systems(email, no_backoff) -> Systems:
    return Systems(email)


def test_a_new_nurse_is_registered_ordered_for_planned_and_both_people_are_told(systems):
    item_id = systems.enqueue(new_employee(901))
    output = systems.onboard(item_id, new_employee(901))
    stored = systems.stored[item_id]
    assert output["employment_id"] == EmploymentCreated.read(stored).employment_id
    assert set(output["tickets"]) == {"it_account", "access_card", "keys", "equipment"} and RequestOpened.read(stored, "request_keys").due_date < START
    assert StartChecked.read(stored).unit_name and all(data["version"] == 1 for data in stored.values())
    plan = openpyxl.load_workbook(output["orientation_plan"])
    assert plan.sheetnames == ["Perehdytys", "Tiedot"] and plan["Perehdytys"].max_row > 5
    with systems.engine.work_queue() as queue:
        confirmation = queue.get(output["confirmation_item_id"])
    assert confirmation.process == CONFIRMATION_PROCESS and confirmation.parent_id == item_id
    welcome, checklist = systems.email.sent
    assert welcome.to == ["aino.901@example.org"] and "Tervetuloa" in welcome.subject and "Valviran rekisteröintinumerosi" in welcome.text
    assert "Avaimet: pyyntö" in checklist.text and f"\n{systems.service.settings.staff_url}/" in checklist.text
    assert checklist.to == [StartChecked.read(stored).supervisor_email] and checklist.attachments[0].filename.endswith(".xlsx")
    assert make_hetu(EMPLOYEE_BORN, 901) not in checklist.text + welcome.text


def test_a_retry_does_nothing_twice(systems):
    item_id = systems.enqueue(new_employee(902))
    first = systems.onboard(item_id, new_employee(902))
    again = systems.onboard(item_id, new_employee(902))
    assert again == first and len(systems.email.sent) == 2


def test_a_start_date_in_the_past_goes_back_to_hr_before_anything_is_done(systems):
    with pytest.raises(BusinessRuleError) as refused:
        systems.onboard(3, new_employee(903, start_date="2020-01-01"))
    assert refused.value.code == "START_DATE_IN_PAST" and "work item 3" in str(refused.value) and systems.stored[3] == {}


def test_an_unknown_supervisor_is_for_hr_to_fix(systems):
    with pytest.raises(BusinessRuleError) as refused:
        systems.onboard(4, new_employee(904, supervisor_id=999999))
    assert refused.value.code == "UNKNOWN_SUPERVISOR" and "999999" in str(refused.value)


def test_an_item_checkpointed_before_the_upgrade_resumes_from_its_unversioned_checkpoints(systems):
    """The first steps as stored before the models (no version): the retry goes on from there."""
    item_id = systems.enqueue(new_employee(905))
    first = systems.onboard(item_id, new_employee(905))
    old = {
        step: {key: value for key, value in data.items() if key != "version"}
        for step, data in systems.stored[item_id].items()
        if step in ("start_checked", "employee_created", "employment_created", "request_it_account", "confirmation_requested")
    }
    systems.stored[item_id] = old
    systems.email.sent.clear()
    again = systems.onboard(item_id, new_employee(905))
    assert again == first
    assert ConfirmationRequested.read(old).confirmation_item_id == first["confirmation_item_id"]
    assert [email.subject.split()[0] for email in systems.email.sent] == ["Tervetuloa", "Uusi"]


def test_a_new_employee_is_kept_in_the_person_vault_once_hr_has_them(email, no_backoff):
    engine = KuntaflowSettings()
    with engine.person_vault() as vault:
        systems = Systems(email, vault)
        item_id = systems.enqueue(new_employee(931))
        systems.onboard(item_id, new_employee(931))
        kept = vault.read(vault.key_for(make_hetu(EMPLOYEE_BORN, 931)), purpose="testi", actor="pytest")
    employee_id = systems.stored[item_id]["employee_created"]["employee_id"]
    assert kept.hetu == make_hetu(EMPLOYEE_BORN, 931) and kept.language.value == "fi"
    assert set(kept.relations) == {
        Relation(kind="work_item", ref=str(item_id), process=PROCESS, purpose=EMPLOYEE_PURPOSE),
        Relation(kind="employee", ref=str(employee_id), process=PROCESS, purpose=EMPLOYEE_PURPOSE),
    }
