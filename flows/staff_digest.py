"""The daily digest: each role's staff get an e-mail of the cases waiting for a person, with links into the Desk.

Deployment ``staff-digest`` runs at 07:30 Monday to Friday (Europe/Helsinki); on a Finnish public
holiday the run ends at once. A case waits for a person when it is BUSINESS_FAILED or ABANDONED.
For each role with recipients (``KUNTAFLOW_STAFF_DIGEST_RECIPIENTS``) and a case waiting in one of
its processes (``KUNTAFLOW_STAFF_ROLE_PROCESSES``), one e-mail lists per process how many wait,
the oldest ones with their error explained, a link to each case (``{public_url}/tapaukset/{id}``)
and to the process's list (``{public_url}/tapaukset?process=…``). The text holds item ids, states,
error codes and dates only: never a payload, so never a henkilötunnus. The Message-ID names the
role and the day, so a retried run sends nothing twice.
"""

# No `from __future__ import annotations`: Prefect resolves a flow's parameter types when a worker loads it.

from datetime import date
from typing import Annotated
from urllib.parse import urlencode

from prefect import flow, get_run_logger
from pydantic import BaseModel, Field

from connectors.email.client import EmailClient
from connectors.email.models import OutgoingEmail
from connectors.email.settings import EmailSettings
from flows.parameters import form_field
from kuntaflow.settings import KuntaflowSettings
from kuntaflow.workitems import WorkItem, WorkQueue, waiting_states
from schemas.hetu import helsinki_today
from schemas.reason_meanings import meaning
from schemas.staff_roles import Role, StaffRoleSettings
from schemas.workdays import day_off_reason

#: Cases listed one by one per process; the rest are counted and behind the list link.
LISTED = 20


class DigestSummary(BaseModel):
    day: date
    skipped: str | None = Field(default=None, description="Why nothing was sent (a weekend or a public holiday).")
    sent: dict[str, int] = Field(default_factory=dict, description="Role -> cases waiting in the digest sent to it.")


def waiting_cases(queue: WorkQueue, process: str) -> list[WorkItem]:
    """The cases of ``process`` waiting for a person, oldest first."""
    found = [item for state in waiting_states(process) for item in queue.list(process=process, state=state, limit=10_000)]
    return sorted(found, key=lambda item: item.updated_at)


def digest_text(role: Role, waiting: dict[str, list[WorkItem]], public_url: str, today: date) -> str:
    """The e-mail's text (Finnish, as staff e-mails are): per process a count, the oldest cases and the links."""
    total = sum(len(items) for items in waiting.values())
    lines = [f"Hei,\n\nKuntaflow'ssa odottaa {total} tapausta käsittelyä ({today.day}.{today.month}.{today.year}).\n"]
    for process, items in waiting.items():
        lines.append(f"{process}: {len(items)} odottaa – {public_url}/tapaukset?{urlencode({'process': process})}")
        for item in items[:LISTED]:
            since = item.updated_at
            explained = f"{item.error_code}: {meaning(item.error_code)}" if item.error_code else item.state.value
            lines.append(f"  • tapaus {item.id}, {item.state.value} {since.day}.{since.month}.{since.year} – {explained}\n    {public_url}/tapaukset/{item.id}")
        if len(items) > LISTED:
            lines.append(f"  … ja {len(items) - LISTED} muuta listassa.")
        lines.append("")
    lines.append(f"Tämä on roolin {role.value} päivittäinen kooste. Kirjaudu Kuntaflow Deskiin: {public_url}/")
    return "\n".join(lines)


@flow(name="staff-digest")
def staff_digest(
    day: Annotated[date | None, form_field("Päivä", "Päivä, jonka kooste lähetetään; tyhjä: tänään Helsingin aikaa.")] = None,
) -> DigestSummary:
    """Send each role's digest of the cases waiting for a person, on working days only."""
    logger = get_run_logger()
    today = day or helsinki_today()
    if reason := day_off_reason(today):
        logger.info("%s is not a working day (%s): no digest.", today, reason)
        return DigestSummary(day=today, skipped=reason)
    staff = StaffRoleSettings()
    summary = DigestSummary(day=today)
    with KuntaflowSettings().work_queue() as queue:
        email = EmailClient(EmailSettings())
        for role, recipients in staff.digest_recipients.items():
            waiting = {process: cases for process in staff.role_processes.get(role, []) if (cases := waiting_cases(queue, process))}
            if not recipients or not waiting:
                continue
            total = sum(len(cases) for cases in waiting.values())
            email.send(
                OutgoingEmail(
                    to=recipients,
                    subject=f"Kuntaflow: {total} tapausta odottaa käsittelyä",
                    text=digest_text(role, waiting, staff.public_url, today),
                    idempotency_key=f"staff-digest:{role.value}:{today.isoformat()}",
                )
            )
            summary.sent[role.value] = total
    logger.info("Digests on %s: %s", today, summary.sent or "nothing waiting")
    return summary
