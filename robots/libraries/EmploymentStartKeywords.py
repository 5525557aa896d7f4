"""Keywords of the employment-start robot (robots/employment_start/tasks.robot): one per onboarding step.

Each keyword takes the case, does one step through a connector (HR REST API v1, service desk
REST API v1, SMTP) and checkpoints it on the work item the moment it is done:
``start_checked``, ``employee_created``, ``employment_created``, ``request_<kind>`` per
service-desk request, ``orientation_plan``, ``confirmation_requested``, ``welcome_sent``,
``checklist_sent``. A retry skips what is done; HR writes carry ``Idempotency-Key``, tickets an
``external_reference`` and e-mails a Message-ID derived from the act, so even a crash between
a call and its checkpoint does nothing twice.

Failures leave as ``BusinessRuleError`` (HR decides: start date in the past, unknown
supervisor or unit, licence number missing), ``TransientError`` (an outage: retried) or
``IntegrationError``; messages name the work item, never the person.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from robot.api import logger
from robot.api.deco import keyword, library

from connectors.email.client import EmailClient
from connectors.email.models import EmailAttachment, OutgoingEmail
from connectors.email.settings import EmailSettings
from connectors.errors import BusinessRuleError
from connectors.hr import EmployeeCreate, EmploymentCreate, HrClient, HrSettings
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
from processes.employment_start.confirmation import (
    ConfirmationPayload,
    EmploymentStartSettings,
    confirmation_link,
    reminder_due,
)
from processes.employment_start.orientation import OrientationTask, orientation_plan
from robots.libraries.keyword_support import WorkItemSteps, problems, re_raise_for_robot
from schemas.employee import CONFIRMATION_PROCESS, HIRE_FIELD_NAMES, NewEmployee, StartCheck, check_start, employee_from_payload, hire_fields_missing
from schemas.hetu import helsinki_today
from schemas.workdays import add_working_days

#: Finnish names of the requests, for the supervisor's checklist.
REQUEST_NAMES: dict[str, str] = {
    "it_account": "Käyttäjätunnus, sähköposti ja käyttöoikeudet",
    "access_card": "Kulkukortti",
    "keys": "Avaimet",
    "equipment": "Laitteet",
}
EQUIPMENT_NAMES = {"laptop": "kannettava tietokone", "phone": "työpuhelin"}


class EmploymentStartCase:
    """One new employee on the way through the robot. Its repr names the work item only."""

    def __init__(self, item_id: int, employee: NewEmployee, checkpoints: dict[str, dict[str, Any]]) -> None:
        self.item_id = item_id
        self.reference = f"employment_start:{item_id}"  # idempotency keys and child references: per work item
        self.employee = employee
        self.checkpoints = checkpoints

    def __repr__(self) -> str:
        return f"EmploymentStartCase(work item {self.item_id})"

    @property
    def facts(self) -> dict[str, Any]:
        return self.checkpoints["start_checked"]


def _current_item(self: EmploymentStartKeywords) -> int | None:
    return self._work_item_id()


@library(scope="GLOBAL", auto_keywords=False)
class EmploymentStartKeywords(WorkItemSteps):
    """Steps of the employment-start process. One HR, service-desk and e-mail client per robot run."""

    def __init__(self) -> None:
        self.settings = EmploymentStartSettings()
        self._engine = KuntaflowSettings()
        self._hr: HrClient | None = None
        self._desk: ServiceDeskClient | None = None
        self._email: EmailClient | None = None

    # ------------------------------------------------------------------ the steps

    @keyword("Check Employment Start")
    @re_raise_for_robot(_current_item)
    def check_employment_start(self) -> EmploymentStartCase:
        """Read the new employee from the work item and check what HR must fix before anything is done:
        a start date in the past, a licensed title without its registration number, a supervisor
        or a unit HR does not know. The payload is read here so the person stays out of the robot log."""
        item_id = self._work_item_id()
        work_items = self._work_items()
        payload = work_items.get_work_item_payload()
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
        case = EmploymentStartCase(item_id, employee, self._checkpoints())
        if "start_checked" in case.checkpoints:
            logger.info("Checked on an earlier attempt (checkpoint start_checked).")
            return case
        today = helsinki_today()
        refused = check_start(employee, today=today)
        if refused is not None:
            code, message = refused
            raise BusinessRuleError(f"work item {item_id}: {message}", code=code.value)
        hr = self._hr_client()
        try:
            supervisor = hr.get_employee(employee.supervisor_id)
        except EmployeeNotFoundError:
            raise BusinessRuleError(
                f"work item {item_id}: HR ei tunne esihenkilöä numerolla {employee.supervisor_id}; tarkista esihenkilö.",
                code=StartCheck.UNKNOWN_SUPERVISOR.value,
            ) from None
        try:
            unit = hr.get_unit(employee.unit_id)
        except UnitNotFoundError:
            raise BusinessRuleError(f"work item {item_id}: HR ei tunne yksikköä {employee.unit_id}; tarkista yksikkö.", code="UNKNOWN_UNIT") from None
        if not supervisor.work_email:
            raise BusinessRuleError(
                f"work item {item_id}: esihenkilöllä {employee.supervisor_id} ei ole työsähköpostia HR:ssä.", code="SUPERVISOR_WITHOUT_EMAIL"
            )
        facts = {
            "checked_on": today.isoformat(),
            "supervisor_name": supervisor.display_name,
            "supervisor_email": supervisor.work_email,
            "unit_name": unit.name,
        }
        self._save_checkpoint("start_checked", facts, case)
        logger.info(f"Work item {item_id}: the start may go ahead (unit {unit.unit_id}, supervisor {supervisor.employee_id}).")
        return case

    @keyword("Create Employment In HR")
    @re_raise_for_robot(_current_item)
    def create_employment_in_hr(self, case: EmploymentStartCase) -> None:
        """Add the person to HR (HR keeps the henkilötunnus) and register the employment."""
        employee = case.employee
        hr = self._hr_client()
        person = case.checkpoints.get("employee_created")
        if person is None:
            made = hr.create_employee(
                EmployeeCreate(
                    hetu=employee.hetu,
                    first_names=employee.first_names,
                    last_name=employee.last_name,
                    private_email=employee.personal_email,
                    phone=employee.phone,
                ),
                idempotency_key=f"{case.reference}:employee",
            )
            person = {"employee_id": made.employee.employee_id, "created": made.created}
            self._save_checkpoint("employee_created", person, case)
        if "employment_created" in case.checkpoints:
            logger.info(f"Employment {case.checkpoints['employment_created']['employment_id']} was registered on an earlier attempt; skipped.")
            return
        job = hr.create_employment(
            EmploymentCreate(
                employee_id=person["employee_id"],
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
        done = {"employment_id": job.employment.employment_id, "status": job.employment.status, "created": job.created}
        self._save_checkpoint("employment_created", done, case)
        logger.info(f"Work item {case.item_id}: employment {done['employment_id']} registered in HR ({done['status']}).")

    @keyword("Open Service Requests")
    @re_raise_for_robot(_current_item)
    def open_service_requests(self, case: EmploymentStartCase) -> None:
        """Open one service-desk request per thing the person needs, each due before the start date."""
        for kind, details in self._requests_needed(case):
            step = f"request_{kind}"
            if step in case.checkpoints:
                logger.info(f"Request {kind} was opened on an earlier attempt ({case.checkpoints[step]['ticket_id']}); skipped.")
                continue
            made = self._desk_client().create_request(
                ServiceRequestCreate(
                    external_reference=f"{case.reference}:{kind}",
                    person=self._desk_person(case),
                    due_date=self._due_date(kind, case.employee.start_date),
                    details=details,
                    description=f"Uusi työntekijä aloittaa {case.employee.start_date:%d.%m.%Y}; Kuntaflow, työ {case.item_id}.",
                )
            )
            ticket = made.ticket
            self._save_checkpoint(step, {"ticket_id": ticket.ticket_id, "due_date": ticket.due_date.isoformat(), "kind": kind}, case)
            logger.info(f"Work item {case.item_id}: request {kind} is ticket {ticket.ticket_id}, due {ticket.due_date}.")

    @keyword("Build Orientation Plan")
    @re_raise_for_robot(_current_item)
    def build_orientation_plan(self, case: EmploymentStartCase) -> str:
        """Write the perehdytyssuunnitelma as an Excel workbook (RPA.Excel.Files) into the run's files."""
        done = case.checkpoints.get("orientation_plan")
        path = self.plan_path(case.item_id)
        if done is not None and path.exists():
            logger.info(f"The plan was written on an earlier attempt ({path.name}); skipped.")
            return str(path)
        tasks = orientation_plan(case.employee)
        write_plan_workbook(path, case, tasks)
        self._save_checkpoint("orientation_plan", {"path": str(path), "tasks": len(tasks)}, case)
        logger.info(f"Work item {case.item_id}: orientation plan with {len(tasks)} tasks written to {path.name}.")
        return str(path)

    @keyword("Ask Supervisor To Confirm")
    @re_raise_for_robot(_current_item)
    def ask_supervisor_to_confirm(self, case: EmploymentStartCase) -> None:
        """Open the confirmation as a child work item that waits, without a robot, until its reminder is due."""
        if "confirmation_requested" in case.checkpoints:
            return
        employee, facts = case.employee, case.facts
        payload = ConfirmationPayload(
            employment_item_id=case.item_id,
            supervisor_id=employee.supervisor_id,
            supervisor_name=facts["supervisor_name"],
            supervisor_email=facts["supervisor_email"],
            employee_name=employee.full_name,
            title=employee.title,
            unit_name=facts["unit_name"],
            start_date=employee.start_date,
            escalate_after_working_days=self.settings.escalate_after_working_days,
        )
        due = reminder_due(helsinki_today(), self.settings)
        queue = self._engine.work_queue()
        try:
            confirmation = queue.add(
                CONFIRMATION_PROCESS,
                reference=f"{case.reference}:confirmation",
                payload=payload,
                parent_id=case.item_id,
                not_before=due,
                actor=f"robot, work item {case.item_id}",
            )
        finally:
            queue.dispose()
        self._save_checkpoint("confirmation_requested", {"confirmation_item_id": confirmation.id, "reminder_due": due.isoformat()}, case)
        logger.info(f"Work item {case.item_id}: supervisor's confirmation waits as work item {confirmation.id} (reminder {due:%Y-%m-%d}).")

    @keyword("Send Welcome To Employee")
    @re_raise_for_robot(_current_item)
    def send_welcome_to_employee(self, case: EmploymentStartCase) -> None:
        """A welcome in Finnish to the personal address: start date, place, contact person, what to bring."""
        if "welcome_sent" in case.checkpoints:
            logger.info("The welcome went out on an earlier attempt; skipped.")
            return
        result = self._email_client().send(
            OutgoingEmail(
                to=[case.employee.personal_email],
                subject=f"Tervetuloa töihin {case.facts['unit_name']}",
                text=welcome_text(case),
                idempotency_key=f"{case.reference}:welcome",
            )
        )
        self._save_checkpoint("welcome_sent", {"message_id": result.message_id}, case)

    @keyword("Send Checklist To Supervisor")
    @re_raise_for_robot(_current_item)
    def send_checklist_to_supervisor(self, case: EmploymentStartCase, plan_path: str) -> None:
        """The supervisor's checklist with the plan attached and the signed one-time confirmation link."""
        if "checklist_sent" in case.checkpoints:
            logger.info("The checklist went out on an earlier attempt; skipped.")
            return
        confirmation_id = int(case.checkpoints["confirmation_requested"]["confirmation_item_id"])
        link = confirmation_link(confirmation_id, case.employee.supervisor_id, self.settings)
        plan = Path(plan_path)
        result = self._email_client().send(
            OutgoingEmail(
                to=[case.facts["supervisor_email"]],
                subject=f"Uusi työntekijä aloittaa {case.employee.start_date:%d.%m.%Y}: tarkistuslista",
                text=checklist_text(case, link),
                attachments=[EmailAttachment.excel(plan.name, plan.read_bytes())],
                idempotency_key=f"{case.reference}:checklist",
            )
        )
        self._save_checkpoint("checklist_sent", {"message_id": result.message_id, "confirmation_item_id": confirmation_id}, case)

    @keyword("Close Employment Start")
    @re_raise_for_robot(_current_item)
    def close_employment_start(self, case: EmploymentStartCase) -> dict[str, Any]:
        """DONE, with the ids each step produced as the item's output (no personal data)."""
        cp = case.checkpoints
        output = {
            "employee_id": cp["employee_created"]["employee_id"],
            "employment_id": cp["employment_created"]["employment_id"],
            "tickets": {data["kind"]: data["ticket_id"] for step, data in cp.items() if step.startswith("request_")},
            "orientation_plan": cp["orientation_plan"]["path"],
            "confirmation_item_id": cp["confirmation_requested"]["confirmation_item_id"],
        }
        self._work_items().complete_work_item(output)
        return output

    # ------------------------------------------------------------------ helpers

    def plan_path(self, item_id: int) -> Path:
        return self._engine.resolved_data_dir / "employment-start" / str(item_id) / f"perehdytyssuunnitelma-{item_id}.xlsx"

    def _requests_needed(self, case: EmploymentStartCase) -> list[tuple[RequestType, Any]]:
        employee = case.employee
        needed: list[tuple[RequestType, Any]] = []
        if employee.it_account:
            profile = access_profile_for(employee.title)
            needed.append(("it_account", ItAccountDetails(access_profile=profile.code, systems=list(profile.systems))))
        if employee.access_card:
            needed.append(("access_card", AccessCardDetails(areas=[case.facts["unit_name"]])))
        if employee.keys_needed:
            needed.append(("keys", KeysDetails(keys=list(employee.keys_needed))))
        items = [EquipmentItem(kind=kind) for kind, wanted in (("laptop", employee.laptop_needed), ("phone", employee.phone_needed)) if wanted]
        if items:
            needed.append(("equipment", EquipmentDetails(items=items)))
        return needed

    def _desk_person(self, case: EmploymentStartCase) -> Person:
        employee = case.employee
        return Person(
            employee_id=case.checkpoints["employee_created"]["employee_id"],
            first_names=employee.first_names,
            last_name=employee.last_name,
            job_title=employee.title,
            unit_id=employee.unit_id,
            start_date=employee.start_date,
        )

    @staticmethod
    def _due_date(kind: RequestType, start: date) -> date:
        """The catalogue's lead time in Finnish working days (holidays skipped), but never before today."""
        return max(add_working_days(start, -LEAD_WORKING_DAYS[kind]), helsinki_today())

    def _hr_client(self) -> HrClient:
        if self._hr is None:
            self._hr = HrClient(HrSettings())
        return self._hr

    def _desk_client(self) -> ServiceDeskClient:
        if self._desk is None:
            self._desk = ServiceDeskClient()
        return self._desk

    def _email_client(self) -> EmailClient:
        if self._email is None:
            self._email = EmailClient(EmailSettings())
        return self._email


# --------------------------------------------------------------------------- the plan workbook and the e-mails


def write_plan_workbook(path: Path, case: EmploymentStartCase, tasks: list[OrientationTask]) -> None:
    """The plan as an .xlsx through rpaframework's ``RPA.Excel.Files``: a task sheet and a facts sheet."""
    from RPA.Excel.Files import Files

    employee, facts = case.employee, case.facts
    path.parent.mkdir(parents=True, exist_ok=True)
    excel = Files()
    excel.create_workbook(str(path), fmt="xlsx", sheet_name="Perehdytys")
    rows = [{"Vaihe": t.phase.value, "Tehtävä": t.topic, "Vastuuhenkilö": t.owner.value, "Määräpäivä": t.due, "Tehty": ""} for t in tasks]
    excel.append_rows_to_worksheet(rows, name="Perehdytys", header=True)
    excel.set_styles("A1:E1", bold=True, cell_fill="DDEBF7")
    excel.set_styles(f"D2:D{len(rows) + 1}", number_format="d.m.yyyy")
    excel.auto_size_columns("A", "E")
    excel.create_worksheet(
        "Tiedot",
        content=[
            {"Tieto": "Työntekijä", "Arvo": employee.full_name},
            {"Tieto": "Tehtävänimike", "Arvo": employee.title},
            {"Tieto": "Yksikkö", "Arvo": facts["unit_name"]},
            {"Tieto": "Aloituspäivä", "Arvo": employee.start_date},
            {"Tieto": "Esihenkilö", "Arvo": facts["supervisor_name"]},
            {"Tieto": "Työpaikan osoite", "Arvo": employee.workplace_address},
            {"Tieto": "Kuntaflow-työ", "Arvo": case.item_id},
        ],
        header=True,
    )
    excel.save_workbook()
    excel.close_workbook()


def welcome_text(case: EmploymentStartCase) -> str:
    employee, facts = case.employee, case.facts
    bring = ["verokortti (palkanlaskentaan)", "tilinumerosi perustietoilmoitusta varten", "työ- ja tutkintotodistukset"]
    if employee.profession is not None:
        bring.append("Valviran rekisteröintinumerosi ja rokotustodistukset")
    lines = [
        f"Hei {employee.calling_name},",
        "",
        f"tervetuloa töihin: {employee.title}, {facts['unit_name']}.",
        "",
        f"Aloituspäiväsi on {employee.start_date:%d.%m.%Y}.",
        f"Tule paikalle osoitteeseen {employee.workplace_address}.",
        f"Yhteyshenkilösi on esihenkilösi {facts['supervisor_name']} ({facts['supervisor_email']}).",
        "",
        "Ota mukaan ensimmäisenä päivänä:",
        *[f"- {thing}" for thing in bring],
        "",
        "Käyttäjätunnukset, kulkukortti ja työvälineet ovat valmiina, kun tulet.",
        "",
        "Ystävällisin terveisin",
        "Henkilöstöpalvelut",
    ]
    return "\n".join(lines)


def checklist_text(case: EmploymentStartCase, link: str) -> str:
    employee, cp = case.employee, case.checkpoints
    requests = [
        f"- {REQUEST_NAMES[data['kind']]}: pyyntö {data['ticket_id']}, valmis viimeistään {date.fromisoformat(data['due_date']):%d.%m.%Y}"
        for step, data in cp.items()
        if step.startswith("request_")
    ]
    clothes = [f"- {name}: tilaa yksikön kautta" for wanted, name in ((employee.work_clothes, "Työvaatteet"), (employee.name_badge, "Nimikyltti")) if wanted]
    lines = [
        f"Hei {case.facts['supervisor_name']},",
        "",
        f"{employee.full_name} aloittaa {employee.start_date:%d.%m.%Y} tehtävässä {employee.title}.",
        f"Palvelussuhde on kirjattu HR:ään (numero {cp['employment_created']['employment_id']}).",
        "",
        "Tilaukset palvelupisteeseen:",
        *(requests or ["- ei tilauksia"]),
        *clothes,
        "",
        "Esihenkilön tarkistuslista:",
        "- nimeä perehdyttäjä ja tarkista liitteenä oleva perehdytyssuunnitelma",
        "- suunnittele ensimmäinen päivä ja varaa aikaa vastaanottoon",
        "- työturvallisuus- ja tietosuojaperehdytys ensimmäisen viikon aikana",
        "",
        "Vahvista, että suunnitelma ja tilaukset on tarkistettu (kertakäyttöinen linkki):",
        link,
        "",
        f"Kuntaflow, työ {case.item_id}",
    ]
    return "\n".join(lines)
