"""Onboarding reminders: chase what is late for an employment start, on Finnish working days.

Deployment ``onboarding-reminders`` runs at 07:00 Monday to Friday (Europe/Helsinki); on a
public holiday (``schemas.workdays``, the ``holidays`` package) the run ends at once, so nobody
is chased on Midsummer Eve. Each run

- comments a reminder on every service-desk request of an employment start that is still open
  when the start is at most ``ticket_lead_working_days`` (3) working days away, once per ticket per
  day (the comment's external reference carries the date);
- claims the supervisor confirmations whose time has come (``employment_start_confirmation``
  items): the first time, a reminder e-mail with the same signed link, and the item waits again
  (``postpone``) until the escalation is due; the second time, an e-mail to HR and
  BUSINESS_FAILED ``SUPERVISOR_DID_NOT_CONFIRM`` in the manual-handling view, where a late
  confirmation through the link still closes it.

E-mails carry idempotency keys (Message-ID), so a run retried after a crash sends nothing twice.
"""

# No `from __future__ import annotations`: Prefect resolves the flow's parameter types (NewEmployee) when a
# worker loads the flow from its entrypoint, and string annotations are not resolvable there.

import uuid
from datetime import date
from typing import Annotated

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_table_artifact
from pydantic import BaseModel, Field

from connectors.email.client import EmailClient
from connectors.email.models import OutgoingEmail
from connectors.email.settings import EmailSettings
from connectors.errors import BusinessRuleError
from connectors.servicedesk import ServiceDeskClient
from flows.parameters import form_field
from kuntaflow.settings import KuntaflowSettings
from kuntaflow.workitems import ItemState, WorkQueue
from processes.employment_start.checkpoints import ReminderSent
from processes.employment_start.confirmation import ConfirmationPayload, EmploymentStartSettings, confirmation_link, due_after
from schemas.employee import CONFIRMATION_PROCESS, PROCESS
from schemas.hetu import helsinki_today
from schemas.workdays import day_off_reason, working_days_between


class RemindersSummary(BaseModel):
    day: date
    skipped: str | None = Field(default=None, description="Why nothing was chased (a weekend or a public holiday).")
    tickets_reminded: list[str] = Field(default_factory=list)
    supervisors_reminded: list[int] = Field(default_factory=list, description="Confirmation work items.")
    escalated_to_hr: list[int] = Field(default_factory=list, description="Confirmation work items.")


@flow(name="onboarding-reminders")
def onboarding_reminders(
    day: Annotated[date | None, form_field("Päivä", "Päivä, jonka muistutukset lähetetään; tyhjä: tänään Helsingin aikaa.")] = None,
) -> RemindersSummary:
    """Chase late service-desk requests and unanswered confirmations, on working days only."""
    logger = get_run_logger()
    today = day or helsinki_today()
    if reason := day_off_reason(today):
        logger.info("%s is not a working day (%s): nothing is chased.", today, reason)
        return RemindersSummary(day=today, skipped=reason)
    summary = RemindersSummary(day=today, tickets_reminded=chase_service_requests(today))
    summary.supervisors_reminded, summary.escalated_to_hr = chase_confirmations(today)
    rows = [{"what": "request reminded", "id": t} for t in summary.tickets_reminded]
    rows += [{"what": "supervisor reminded (work item)", "id": str(i)} for i in summary.supervisors_reminded]
    rows += [{"what": "escalated to HR (work item)", "id": str(i)} for i in summary.escalated_to_hr]
    if rows:
        create_table_artifact(key="onboarding-reminders", table=rows, description=f"**Perehdytyksen muistutukset** {today:%d.%m.%Y}")
    logger.info(
        "Reminders on %s: %s requests, %s supervisors, %s escalations.",
        today,
        len(summary.tickets_reminded),
        len(summary.supervisors_reminded),
        len(summary.escalated_to_hr),
    )
    return summary


@task(task_run_name="chase service-desk requests")
def chase_service_requests(today: date, limit: int = 1000) -> list[str]:
    """A reminder comment on each open request of a start at most N working days away."""
    settings = EmploymentStartSettings()
    with KuntaflowSettings().work_queue() as queue:
        reminded: list[str] = []
        starts = queue.list(process=PROCESS, state=ItemState.DONE, limit=limit)
        with ServiceDeskClient() as desk:
            for item in starts:
                start = date.fromisoformat(item.payload["start_date"])
                if not 0 <= working_days_between(today, start) <= settings.ticket_lead_working_days:
                    continue
                for ticket_id in (item.output or {}).get("tickets", {}).values():
                    ticket = desk.get_ticket(ticket_id)
                    if not ticket.is_open:
                        continue
                    desk.add_comment(
                        ticket_id,
                        f"Muistutus: uusi työntekijä aloittaa {start:%d.%m.%Y} ja pyyntö on yhä kesken "
                        f"(määräpäivä {ticket.due_date:%d.%m.%Y}). Kuntaflow, työ {item.id}.",
                        reminder=True,
                        external_reference=f"{ticket.external_reference}:reminder:{today.isoformat()}",
                    )
                    reminded.append(ticket_id)
    return reminded


@task(task_run_name="chase supervisor confirmations")
def chase_confirmations(today: date) -> tuple[list[int], list[int]]:
    """Remind the supervisor once; then tell HR. Each confirmation is claimed, so two runs never both act."""
    settings = EmploymentStartSettings()
    with KuntaflowSettings().work_queue() as queue:
        owner = f"onboarding-reminders-{uuid.uuid4().hex[:8]}"
        reminded: list[int] = []
        escalated: list[int] = []
        email = EmailClient(EmailSettings())
        for item in queue.claim(CONFIRMATION_PROCESS, owner=owner, limit=200):
            queue.start(item.id, owner=owner)  # a confirmation this fails on uses an attempt; the rest do not
            try:
                _chase_one(queue, email, settings, item.id, ConfirmationPayload.model_validate(item.payload), owner, today, reminded, escalated)
            except BusinessRuleError as error:  # e.g. the supervisor's address is refused: HR must see it
                queue.fail_business(item.id, code=error.code, message=error.message, owner=owner)
            except Exception:
                queue.release(item.id, owner=owner, reason="onboarding-reminders failed on this confirmation; tried again next run")
                raise
    return reminded, escalated


def _chase_one(
    queue: WorkQueue,
    email: EmailClient,
    settings: EmploymentStartSettings,
    item_id: int,
    payload: ConfirmationPayload,
    owner: str,
    today: date,
    reminded: list[int],
    escalated: list[int],
) -> None:
    link = confirmation_link(item_id, payload.supervisor_id, settings)
    if ReminderSent.read(queue.checkpoints(item_id)) is None:
        email.send(
            OutgoingEmail(
                to=[payload.supervisor_email],
                subject=f"Muistutus: vahvista {payload.employee_name} perehdytys",
                text=(
                    f"Hei {payload.supervisor_name},\n\n{payload.employee_name} aloittaa {payload.start_date:%d.%m.%Y} "
                    f"({payload.title}, {payload.unit_name}). Perehdytyssuunnitelman vahvistus puuttuu vielä.\n\n"
                    f"Vahvista tästä (kertakäyttöinen linkki):\n{link}\n\nKuntaflow, työ {payload.employment_item_id}"
                ),
                idempotency_key=f"employment_start:{payload.employment_item_id}:confirmation-reminder",
            )
        )
        sent = ReminderSent(on=today)
        queue.checkpoint(item_id, sent.STEP, sent.stored())
        queue.record(payload.employment_item_id, actor=owner, action="reminder", reason="Esihenkilölle lähetettiin muistutus vahvistuksesta.")
        escalate = due_after(today, payload.escalate_after_working_days)
        queue.postpone(item_id, owner=owner, until=escalate, reason="supervisor reminded; HR is told if there is still no answer")
        reminded.append(item_id)
        return
    email.send(
        OutgoingEmail(
            to=[settings.hr_email],
            subject=f"Esihenkilö ei ole vahvistanut perehdytystä (työ {payload.employment_item_id})",
            text=(
                f"Esihenkilö {payload.supervisor_name} ei ole vahvistanut uuden työntekijän perehdytystä muistutuksesta huolimatta.\n\n"
                f"Työntekijä: {payload.employee_name}, {payload.title}, {payload.unit_name}, aloittaa {payload.start_date:%d.%m.%Y}.\n"
                f"Kuntaflow: työ {payload.employment_item_id}, vahvistus {item_id} (kuntaflow queue show {item_id}).\n"
                "Esihenkilön vahvistuslinkki toimii edelleen."
            ),
            idempotency_key=f"employment_start:{payload.employment_item_id}:confirmation-escalation",
        )
    )
    message = f"Esihenkilö ei vahvistanut perehdytystä muistutuksen jälkeen; HR:lle ilmoitettu {today:%d.%m.%Y}."
    queue.record(payload.employment_item_id, actor=owner, action="escalation", reason=message)
    queue.fail_business(item_id, code="SUPERVISOR_DID_NOT_CONFIRM", message=message, owner=owner)
    escalated.append(item_id)
