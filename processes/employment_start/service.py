"""The employment-start process in plain Python: check, register in HR, order, plan, ask, tell.

``EmploymentStartService`` takes its connector clients (HR REST API v1, service desk REST API v1,
SMTP) and the engine's settings (the work queue, the data directory) in the constructor, so the
keyword library (``robots/libraries/EmploymentStartKeywords.py``) hands it the configured ones and
unit tests hand it clients pointed at the in-process sandboxes. Each step reads its checkpoint first
and skips what an earlier attempt did; each side effect is checkpointed the moment it is done
(``processes.employment_start.checkpoints``). HR writes carry ``Idempotency-Key``, tickets an
``external_reference`` and e-mails a Message-ID derived from the act, so even a crash between a call
and its checkpoint does nothing twice.

Failures: ``BusinessRuleError`` when HR decides (start date in the past, unknown supervisor or unit,
licence number missing), connector errors as they come. Messages name the work item, never the person.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from connectors.email.client import EmailClient
from connectors.email.models import EmailAttachment, OutgoingEmail
from connectors.errors import BusinessRuleError
from connectors.hr import EmployeeCreate, EmploymentCreate, HrClient
from connectors.hr.errors import EmployeeNotFoundError, UnitNotFoundError
from connectors.servicedesk import (
    AccessCardDetails,
    EquipmentDetails,
    EquipmentItem,
    ItAccountDetails,
    KeysDetails,
    Person,
    ServiceDeskClient,
    ServiceRequestCreate,
    access_profile_for,
)
from connectors.servicedesk.catalog import LEAD_WORKING_DAYS, RequestType
from kuntaflow.settings import KuntaflowSettings
from processes.checkpoints import Checkpoints
from processes.employment_start.checkpoints import (
    ChecklistSent,
    ConfirmationRequested,
    EmployeeCreated,
    EmploymentCreated,
    OrientationPlanWritten,
    RequestOpened,
    StartChecked,
    WelcomeSent,
)
from processes.employment_start.confirmation import ConfirmationPayload, EmploymentStartSettings, confirmation_link, reminder_due
from processes.employment_start.documents import checklist_text, welcome_text, write_plan_workbook
from processes.employment_start.orientation import orientation_plan
from processes.validation import problems
from schemas.employee import CONFIRMATION_PROCESS, HIRE_FIELD_NAMES, PROCESS, NewEmployee, StartCheck, check_start, employee_from_payload, hire_fields_missing
from schemas.hetu import helsinki_today
from schemas.person_vault import PersonDetails, PersonVault, Relation, RelationKind
from schemas.workdays import add_working_days

log = logging.getLogger(__name__)

#: Why the person vault keeps a new employee (the access log shows it); who stores them.
EMPLOYEE_PURPOSE = "palvelussuhde: työsuhteen aloitus ja työnantajan ilmoitukset työntekijälle"
VAULT_ACTOR = f"robot:{PROCESS}"


class EmploymentStartCase:
    """One new employee on the way through the robot. Its repr names the work item only."""

    def __init__(self, item_id: int, employee: NewEmployee, checkpoints: Checkpoints) -> None:
        self.item_id = item_id
        self.reference = f"employment_start:{item_id}"  # idempotency keys and child references: per work item
        self.employee = employee
        self.checkpoints = checkpoints

    def __repr__(self) -> str:
        return f"EmploymentStartCase(work item {self.item_id})"

    @property
    def facts(self) -> StartChecked:
        facts = self.checkpoints.get(StartChecked)
        assert facts is not None  # every step after the first runs on a checked start
        return facts

    def employee_id(self) -> int:
        person = self.checkpoints.get(EmployeeCreated)
        assert person is not None  # recorded by create_employment, before any step that needs it
        return person.employee_id

    def requests(self) -> Iterator[RequestOpened]:
        """The service-desk requests opened so far, in the order they were opened."""
        return (RequestOpened.model_validate(data) for _, data in self.checkpoints.steps(RequestOpened.STEP))


class EmploymentStartService:
    """The steps of one employment start, over an HR, a service-desk and an e-mail client.

    ``vault``: the person vault the new employee is kept in once HR has them (by their hetu key); None
    keeps nobody (tests of other steps).
    """

    def __init__(
        self,
        hr: HrClient,
        desk: ServiceDeskClient,
        email: EmailClient,
        *,
        engine: KuntaflowSettings | None = None,
        settings: EmploymentStartSettings | None = None,
        vault: PersonVault | None = None,
    ) -> None:
        self.hr = hr
        self.vault = vault
        self.desk = desk
        self.email = email
        self.engine = engine or KuntaflowSettings()
        self.settings = settings or EmploymentStartSettings()

    def check_start(self, item_id: int, payload: dict[str, Any], checkpoints: Checkpoints) -> EmploymentStartCase:
        """Read the new employee and check what HR must fix before anything is done: details a hire
        from the recruitment system lacks, a start date in the past, a licensed title without its
        registration number, a supervisor or a unit HR does not know.

        Raises:
            BusinessRuleError: HR has something to fix; the message says what, in Finnish.
        """
        missing = hire_fields_missing(payload)
        if missing:
            names = ", ".join(HIRE_FIELD_NAMES.get(name, name) for name in missing)
            raise BusinessRuleError(
                f"work item {item_id}: rekrytointijärjestelmästä tullut palkkaus; HR täydentää puuttuvat tiedot ({names}): "
                f"kuntaflow queue edit-payload {item_id} " + " ".join(f"--ask {name}" for name in missing) + " --retry --reason …",
                code=StartCheck.HIRE_DETAILS_MISSING.value,
            )
        try:
            employee = employee_from_payload(payload)
        except ValidationError as error:
            raise BusinessRuleError(
                f"work item {item_id}: the new employee's data is not valid: {problems(error)}", code=StartCheck.INVALID_EMPLOYEE.value
            ) from None
        case = EmploymentStartCase(item_id, employee, checkpoints)
        if StartChecked.STEP in checkpoints:
            log.info("Checked on an earlier attempt (checkpoint start_checked).")
            return case
        today = helsinki_today()
        refused = check_start(employee, today=today)
        if refused is not None:
            code, message = refused
            raise BusinessRuleError(f"work item {item_id}: {message}", code=code.value)
        checkpoints.record(self._supervisor_and_unit(item_id, employee, today))
        log.info("Work item %s: the start may go ahead (unit %s, supervisor %s).", item_id, employee.unit_id, employee.supervisor_id)
        return case

    def _supervisor_and_unit(self, item_id: int, employee: NewEmployee, today: date) -> StartChecked:
        """The supervisor and the unit as HR knows them; either unknown is for HR to fix."""
        try:
            supervisor = self.hr.get_employee(employee.supervisor_id)
        except EmployeeNotFoundError:
            raise BusinessRuleError(
                f"work item {item_id}: HR ei tunne esihenkilöä numerolla {employee.supervisor_id}; tarkista esihenkilö.",
                code=StartCheck.UNKNOWN_SUPERVISOR.value,
            ) from None
        try:
            unit = self.hr.get_unit(employee.unit_id)
        except UnitNotFoundError:
            raise BusinessRuleError(f"work item {item_id}: HR ei tunne yksikköä {employee.unit_id}; tarkista yksikkö.", code="UNKNOWN_UNIT") from None
        if not supervisor.work_email:
            raise BusinessRuleError(
                f"work item {item_id}: esihenkilöllä {employee.supervisor_id} ei ole työsähköpostia HR:ssä.", code="SUPERVISOR_WITHOUT_EMAIL"
            )
        return StartChecked(checked_on=today, supervisor_name=supervisor.display_name, supervisor_email=supervisor.work_email, unit_name=unit.name)

    def create_employment(self, case: EmploymentStartCase) -> None:
        """Add the person to HR (HR keeps the henkilötunnus) and register the employment."""
        employee = case.employee
        if EmployeeCreated.STEP not in case.checkpoints:
            made = self.hr.create_employee(
                EmployeeCreate(
                    hetu=employee.hetu,
                    first_names=employee.first_names,
                    last_name=employee.last_name,
                    private_email=employee.personal_email,
                    phone=employee.phone,
                ),
                idempotency_key=f"{case.reference}:employee",
            )
            self.remember(case, made.employee.employee_id)
            case.checkpoints.record(EmployeeCreated(employee_id=made.employee.employee_id, created=made.created))
        done = case.checkpoints.get(EmploymentCreated)
        if done is not None:
            log.info("Employment %s was registered on an earlier attempt; skipped.", done.employment_id)
            return
        job = self.hr.create_employment(
            EmploymentCreate(
                employee_id=case.employee_id(),
                start_date=employee.start_date,
                end_date=employee.end_date,
                employment_type=employee.employment_type.hr_type,
                job_title=employee.title,
                unit_id=employee.unit_id,
                cost_centre=employee.cost_centre or None,
                supervisor_id=employee.supervisor_id,
            ),
            idempotency_key=f"{case.reference}:employment",
        )
        done = EmploymentCreated(employment_id=job.employment.employment_id, status=job.employment.status, created=job.created)
        case.checkpoints.record(done)
        log.info("Work item %s: employment %s registered in HR (%s).", case.item_id, done.employment_id, done.status)

    def remember(self, case: EmploymentStartCase, employee_id: int) -> None:
        """Keep the employee in the person vault (this start and the HR employee as the relationships), in
        Finnish, HR's language for them. Before the step's checkpoint, so a retry stores again rather than never."""
        if self.vault is None:
            return
        relations = [
            Relation(kind=RelationKind.WORK_ITEM, ref=str(case.item_id), process=PROCESS, purpose=EMPLOYEE_PURPOSE),
            Relation(kind=RelationKind.EMPLOYEE, ref=str(employee_id), process=PROCESS, purpose=EMPLOYEE_PURPOSE),
        ]
        self.vault.store(PersonDetails(hetu=case.employee.hetu), relations=relations, actor=VAULT_ACTOR)

    def open_service_requests(self, case: EmploymentStartCase) -> None:
        """Open one service-desk request per thing the person needs, each due before the start date."""
        for kind, details in requests_needed(case):
            step = RequestOpened.step_for(kind)
            done = case.checkpoints.get(RequestOpened, step)
            if done is not None:
                log.info("Request %s was opened on an earlier attempt (%s); skipped.", kind, done.ticket_id)
                continue
            ticket = self.desk.create_request(
                ServiceRequestCreate(
                    external_reference=f"{case.reference}:{kind}",
                    person=desk_person(case),
                    due_date=due_date(kind, case.employee.start_date),
                    details=details,
                    description=f"Uusi työntekijä aloittaa {case.employee.start_date:%d.%m.%Y}; Kuntaflow, työ {case.item_id}.",
                )
            ).ticket
            case.checkpoints.record(RequestOpened(ticket_id=ticket.ticket_id, due_date=ticket.due_date, kind=kind), step)
            log.info("Work item %s: request %s is ticket %s, due %s.", case.item_id, kind, ticket.ticket_id, ticket.due_date)

    def build_orientation_plan(self, case: EmploymentStartCase) -> Path:
        """Write the perehdytyssuunnitelma as an Excel workbook into the data directory."""
        path = self.plan_path(case.item_id)
        if OrientationPlanWritten.STEP in case.checkpoints and path.exists():
            log.info("The plan was written on an earlier attempt (%s); skipped.", path.name)
            return path
        tasks = orientation_plan(case.employee)
        write_plan_workbook(path, case, tasks)
        case.checkpoints.record(OrientationPlanWritten(path=str(path), tasks=len(tasks)))
        log.info("Work item %s: orientation plan with %s tasks written to %s.", case.item_id, len(tasks), path.name)
        return path

    def ask_supervisor_to_confirm(self, case: EmploymentStartCase) -> None:
        """Open the confirmation as a child work item that waits, without a robot, until its reminder is due."""
        if ConfirmationRequested.STEP in case.checkpoints:
            return
        employee, facts = case.employee, case.facts
        payload = ConfirmationPayload(
            employment_item_id=case.item_id,
            supervisor_id=employee.supervisor_id,
            supervisor_name=facts.supervisor_name,
            supervisor_email=facts.supervisor_email,
            employee_name=employee.full_name,
            title=employee.title,
            unit_name=facts.unit_name,
            start_date=employee.start_date,
            escalate_after_working_days=self.settings.escalate_after_working_days,
        )
        due = reminder_due(helsinki_today(), self.settings)
        with self.engine.work_queue() as queue:
            confirmation = queue.add(
                CONFIRMATION_PROCESS,
                reference=f"{case.reference}:confirmation",
                payload=payload,
                parent_id=case.item_id,
                not_before=due,
                actor=f"robot, work item {case.item_id}",
            )
        case.checkpoints.record(ConfirmationRequested(confirmation_item_id=confirmation.id, reminder_due=due))
        log.info("Work item %s: supervisor's confirmation waits as work item %s (reminder %s).", case.item_id, confirmation.id, f"{due:%Y-%m-%d}")

    def send_welcome(self, case: EmploymentStartCase) -> None:
        """A welcome in Finnish to the personal address: start date, place, contact person, what to bring."""
        if WelcomeSent.STEP in case.checkpoints:
            log.info("The welcome went out on an earlier attempt; skipped.")
            return
        result = self.email.send(
            OutgoingEmail(
                to=[case.employee.personal_email],
                subject=f"Tervetuloa töihin {case.facts.unit_name}",
                text=welcome_text(case),
                idempotency_key=f"{case.reference}:welcome",
            )
        )
        case.checkpoints.record(WelcomeSent(message_id=result.message_id))

    def send_checklist(self, case: EmploymentStartCase, plan: Path) -> None:
        """The supervisor's checklist with the plan attached and the signed one-time confirmation link."""
        if ChecklistSent.STEP in case.checkpoints:
            log.info("The checklist went out on an earlier attempt; skipped.")
            return
        requested = case.checkpoints.get(ConfirmationRequested)
        assert requested is not None  # the robot asks for the confirmation before the checklist
        link = confirmation_link(requested.confirmation_item_id, case.employee.supervisor_id, self.settings)
        result = self.email.send(
            OutgoingEmail(
                to=[case.facts.supervisor_email],
                subject=f"Uusi työntekijä aloittaa {case.employee.start_date:%d.%m.%Y}: tarkistuslista",
                text=checklist_text(case, link),
                attachments=[EmailAttachment.excel(plan.name, plan.read_bytes())],
                idempotency_key=f"{case.reference}:checklist",
            )
        )
        case.checkpoints.record(ChecklistSent(message_id=result.message_id, confirmation_item_id=requested.confirmation_item_id))

    def outcome(self, case: EmploymentStartCase) -> dict[str, Any]:
        """The ids each step produced, as the item's output (no personal data)."""
        employment = case.checkpoints.get(EmploymentCreated)
        plan = case.checkpoints.get(OrientationPlanWritten)
        requested = case.checkpoints.get(ConfirmationRequested)
        assert employment is not None and plan is not None and requested is not None  # the robot closes after every step
        return {
            "employee_id": case.employee_id(),
            "employment_id": employment.employment_id,
            "tickets": {request.kind: request.ticket_id for request in case.requests()},
            "orientation_plan": plan.path,
            "confirmation_item_id": requested.confirmation_item_id,
        }

    def plan_path(self, item_id: int) -> Path:
        return self.engine.resolved_data_dir / "employment-start" / str(item_id) / f"perehdytyssuunnitelma-{item_id}.xlsx"


def requests_needed(case: EmploymentStartCase) -> list[tuple[RequestType, Any]]:
    """What the service desk is asked for, by what HR ticked on the form and the title's access profile."""
    employee = case.employee
    needed: list[tuple[RequestType, Any]] = []
    if employee.it_account:
        profile = access_profile_for(employee.title)
        needed.append(("it_account", ItAccountDetails(access_profile=profile.code, systems=list(profile.systems))))
    if employee.access_card:
        needed.append(("access_card", AccessCardDetails(areas=[case.facts.unit_name])))
    if employee.keys_needed:
        needed.append(("keys", KeysDetails(keys=list(employee.keys_needed))))
    items = [EquipmentItem(kind=kind) for kind, wanted in (("laptop", employee.laptop_needed), ("phone", employee.phone_needed)) if wanted]
    if items:
        needed.append(("equipment", EquipmentDetails(items=items)))
    return needed


def desk_person(case: EmploymentStartCase) -> Person:
    employee = case.employee
    return Person(
        employee_id=case.employee_id(),
        first_names=employee.first_names,
        last_name=employee.last_name,
        job_title=employee.title,
        unit_id=employee.unit_id,
        start_date=employee.start_date,
    )


def due_date(kind: RequestType, start: date) -> date:
    """The catalogue's lead time in Finnish working days (holidays skipped), but never before today."""
    return max(add_working_days(start, -LEAD_WORKING_DAYS[kind]), helsinki_today())
