"""The employment-start process's sample cases: HR starts five onboardings, supervisors confirm by e-mail link.

Each sample new employee goes the way HR's form sends one: a run of the deployment
``employment-start`` with the employee as its parameter (what *Custom run* submits). The worker
runs it: the robot registers the employment in the HR sandbox, opens the service-desk requests,
writes the orientation plan, e-mails the welcome and the supervisor's checklist; then the run
suspends. The demo then does what the supervisor does: opens the checklist e-mail in the SMTP
sandbox, follows its signed one-time link to the staff page and confirms. The page records the
confirmation and resumes the run, which finishes. Everything is checked against the sandboxes'
records, not the flow's word.

The link is followed as the e-mail has it: the local stack serves the staff app and points the
links at it (``KUNTAFLOW_STAFF_PUBLIC_URL``).
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

import httpx
from prefect import get_client
from prefect.deployments import run_deployment

from apps.demo import DemoResult
from apps.local_stack import Stack
from connectors.hr.sandbox.seed import test_hetu
from kuntaflow.workitems import ItemState
from schemas.employee import NewEmployee, employment_start_reference
from schemas.hetu import helsinki_today
from schemas.reason_meanings import with_meaning
from schemas.workdays import add_working_days

DEPLOYMENTS = ("employment-start",)
DEPLOYMENT = "employment-start/employment-start"
DEFAULT_COUNT = 5
TIMEOUT_SECONDS = 420
_LINK = re.compile(r"https?://\S+/vahvistus/\S+")


@dataclass(frozen=True)
class Hire:
    first_names: str
    last_name: str
    title: str
    unit_id: str
    supervisor_id: int
    supervisor_email: str
    licence_number: str = ""
    laptop: bool = False


#: New employees at the HR sandbox's units, with their supervisors (connectors/hr/sandbox/seed.py).
HIRES = (
    Hire("Aino Maria", "Virtanen", "sairaanhoitaja", "SOTE-LAAKSO-OS7", 100101, "satu.lehtonen@hel.example", "10034567891"),
    Hire("Mikko Juhani", "Korhonen", "lähihoitaja", "SOTE-KOTIHOITO-ITA", 100103, "paivi.nieminen@hel.example", "10045678912"),
    Hire("Sanna", "Mäkinen", "erikoislääkäri", "SOTE-MALMI-TA", 100106, "mikko.heinonen@hel.example", "10056789123", laptop=True),
    Hire("Jukka Pekka", "Laine", "suuhygienisti", "SOTE-KALLIO-SUU", 100105, "anna-maija.koskinen@hel.example", "10067891234"),
    Hire("Elina", "Heikkinen", "palvelusuunnittelija", "SOTE-KONTULA-PK", 100104, "jari.makela@hel.example", laptop=True),
)


def employee_parameters(hire: Hire, number: int, start: date) -> dict[str, Any]:
    """The form's values for one hire (a sandbox test hetu, individual numbers 970+)."""
    born = date(1985 + number % 15, 3 + number % 10, 10 + number % 18)
    care = hire.licence_number != ""
    return {
        "first_names": hire.first_names,
        "last_name": hire.last_name,
        "hetu": test_hetu(born, 970 + 2 * (number % 15)),
        "date_of_birth": born.isoformat(),
        "personal_email": f"{hire.last_name.lower().replace('ä', 'a')}.{number}@example.org",
        "phone": f"+358 40 555 {1000 + number}",
        "start_date": start.isoformat(),
        "title": hire.title,
        "unit_id": hire.unit_id,
        "supervisor_id": hire.supervisor_id,
        "workplace_address": "Helsinki",
        "licence_number": hire.licence_number,
        "laptop_needed": hire.laptop,
        "work_clothes": care,
        "name_badge": care,
    }


def run(stack: Stack, *, count: int = DEFAULT_COUNT) -> DemoResult:
    """Start ``count`` onboardings as HR's form does, confirm each through its e-mail link, check the outcome."""
    result = DemoResult(title="Employment start (HR's form → robot → supervisor's link)")
    start = add_working_days(helsinki_today(), 10)
    hires = [HIRES[n % len(HIRES)] for n in range(count)]
    with stack.settings.work_queue() as queue:
        salt = stack.settings.salt()
        clock, started = time.monotonic(), datetime.now(UTC)
        runs: list[tuple[Hire, str, str]] = []
        for number, hire in enumerate(hires):
            parameters = employee_parameters(hire, number, start)
            flow_run = run_deployment(DEPLOYMENT, parameters={"employee": parameters}, timeout=0)
            reference = employment_start_reference(NewEmployee.model_validate(parameters), salt)
            runs.append((hire, str(flow_run.id), reference))
        mailbox = stack.sandbox("email").state.store  # what the SMTP sandbox delivered
        with httpx.Client(timeout=30) as staff:
            for hire, run_id, reference in runs:
                line, ok = _confirm_and_check(stack, queue, staff, mailbox, hire, run_id, reference, clock)
                result.lines.append(line)
                result.ok &= ok
        result.lines.append(f"{len(runs)} employment starts, started {started:%H:%M} UTC, all settled in {time.monotonic() - clock:.0f} s.")
    return result


def _confirm_and_check(stack: Stack, queue: Any, staff: httpx.Client, mailbox: Any, hire: Hire, run_id: str, reference: str, clock: float) -> tuple[str, bool]:
    who = f"{hire.first_names.split()[0]} {hire.last_name} ({hire.title})"
    item = _wait(lambda: (i := queue.find("employment_start", reference)) is not None and i.state.is_final and i, clock)
    if item is None or item.state is not ItemState.DONE:
        # Say what there is: the item's state (or that the run never queued it) and the run's.
        item = item or queue.find("employment_start", reference)
        state = f"{item.state.value} {with_meaning(item.error_code) if item.error_code else ''}".strip() if item else "not queued"
        run_state = _run_state(run_id)
        return f"{who}: {state}, run {run_state.name if run_state else '?'} – not onboarded", False
    checklist = _wait(lambda: _checklist(mailbox, hire, item.id), clock)
    if checklist is None:
        return f"{who}: DONE but no checklist e-mail with a confirmation link reached {hire.supervisor_email}", False
    link = _LINK.search(checklist).group(0)
    if not link.startswith(f"{stack.staff_url}/"):
        return f"{who}: the checklist's link does not point at the staff pages ({stack.staff_url})", False
    page = staff.get(link)
    answer = staff.post(link, data={"confirmed_by": _supervisor_name(page.text, hire), "plan_confirmed": "true"})
    state = _wait(lambda: (s := _run_state(run_id)) is not None and s.is_final() and s, clock)
    confirmation = queue.get(item.output["confirmation_item_id"])
    hr_ok = item.output["employment_id"] in stack.sandbox("hr").state.store.employments
    desk = stack.sandbox("servicedesk").state.store.tickets
    tickets = [t for t in item.output["tickets"].values() if t in desk]
    ok = bool(
        answer.status_code == 200
        and confirmation.state is ItemState.DONE
        and state
        and state.is_completed()
        and hr_ok
        and len(tickets) == len(item.output["tickets"])
    )
    return (
        f"{who}: DONE – HR employment {item.output['employment_id']}, {len(tickets)} service-desk requests, "
        f"orientation plan {item.output['orientation_plan'].rsplit('/', 1)[-1]}, confirmed through the e-mail link "
        f"({'recorded' if confirmation.state is ItemState.DONE else 'NOT recorded'}), run {state.name if state else 'still waiting'}",
        ok,
    )


def _checklist(mailbox: Any, hire: Hire, item_id: int) -> str | None:
    """The checklist e-mail's text, read from the e-mail sandbox's mailbox as the supervisor's mail client would."""
    texts = [m.text for m in mailbox.to(hire.supervisor_email) if m.text and f"työ {item_id}" in m.text and "/vahvistus/" in m.text]
    return texts[0] if texts else None


def _supervisor_name(page: str, hire: Hire) -> str:
    found = re.search(r'name="confirmed_by" value="([^"]*)"', page)
    return found.group(1) if found and found.group(1) else hire.supervisor_email.split("@")[0].replace(".", " ").title()


def _run_state(run_id: str) -> Any:
    with get_client(sync_client=True) as client:
        return client.read_flow_run(run_id).state


def _wait(check: Any, clock: float, poll: float = 1.0) -> Any:
    """``check()``'s first truthy answer before ``TIMEOUT_SECONDS`` from ``clock``; asked at least once,
    so one slow case does not make the cases after it look unsettled."""
    while True:
        found = check()
        if found or time.monotonic() - clock >= TIMEOUT_SECONDS:
            return found or None
        time.sleep(poll)
