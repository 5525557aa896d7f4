"""The card-expiry process's sample: the 07:00 working-day run of the ``card-expiry`` deployment.

The Koha sandbox's population has cards that run out soon (Eetu's, 12 days, whose guarantor is Mikko;
Laura's, 20 days; every fourth generated patron's). As the schedule would, this starts a run of the
deployment for today (the next working day on a weekend or holiday, which the flow would skip); the
worker's flow queues one item per expiring card and the robot reminds each patron, a child's guarantor
for a child. Then it checks the outcome against the sandboxes' own records: one item per card Koha
lists as expiring, every item DONE, each ``REMINDED`` by e-mail found once in the SMTP sandbox at the
address Koha has for the recipient, each ``NO_CHANNEL`` a patron Koha has no address for, and each
reminder sent to a Suomi.fi mailbox found there once: only people the person vault holds (those who
applied on the e-service earlier in the run) are reached that way.
"""

from __future__ import annotations

from collections import Counter
from datetime import date, timedelta
from typing import Any

from prefect.deployments import run_deployment

from apps.demo import DemoResult
from apps.local_stack import Stack
from processes.card_expiry.service import CardExpirySettings
from schemas.card_expiry import PROCESS
from schemas.hetu import helsinki_today
from schemas.reason_meanings import meaning
from schemas.workdays import add_working_days

DEPLOYMENTS = ("card-expiry",)
DEPLOYMENT = "card-expiry/card-expiry"
#: The sample is every expiring card in the Koha sandbox (``count`` is not used).
DEFAULT_COUNT = 0
RUN_TIMEOUT_SECONDS = 600


def run(stack: Stack, *, count: int = DEFAULT_COUNT) -> DemoResult:
    """Run the deployment for today and check each reminder against the Koha and e-mail sandboxes."""
    day = add_working_days(helsinki_today(), 0)
    result = DemoResult(title=f"Card-expiry reminders: the run of {day:%d.%m.%Y}")
    flow_run = run_deployment(DEPLOYMENT, parameters={"day": day.isoformat()}, timeout=RUN_TIMEOUT_SECONDS)
    state = flow_run.state.name if flow_run.state else "unknown"
    with stack.settings.work_queue() as queue:
        items = [item for item in queue.list(process=PROCESS, limit=10_000) if item.reference.endswith(_window_suffixes(day))]
    reasons = Counter((item.output or {}).get("reason", item.error_code or item.state.value) for item in items)
    channels = Counter((item.output or {}).get("channel", "-") for item in items)
    result.lines.append(f"  {len(items)} expiring cards, flow run {flow_run.name}: {state}")
    result.lines += [f"  {code}: {n} ({meaning(code)})" for code, n in sorted(reasons.items())]
    result.lines.append("  sent by: " + ", ".join(f"{channel} {n}" for channel, n in sorted(channels.items())))
    problems = _check(stack, day, items)
    result.lines += [f"  PROBLEM: {p}" for p in problems] or ["  checked against the Koha and e-mail sandboxes: one reminder per card, none twice"]
    result.ok = state == "Completed" and bool(items) and not problems
    return result


def _window_suffixes(day: date) -> tuple[str, ...]:
    """References end with the expiry date: the dates this run reminds of."""
    within = CardExpirySettings().remind_within_days
    return tuple(f":{(day + timedelta(days=n)).isoformat()}" for n in range(within + 1))


def _check(stack: Stack, day: date, items: list[Any]) -> list[str]:
    koha = stack.sandbox("koha").state.store
    mailbox = stack.sandbox("email").state.store
    last = day + timedelta(days=CardExpirySettings().remind_within_days)
    expiring = {p["patron_id"] for p in koha.patrons.values() if p["expiry_date"] and day.isoformat() <= p["expiry_date"] <= last.isoformat()}
    problems = []
    by_patron = {item.payload["patron_id"]: item for item in items}
    if set(by_patron) != expiring:
        problems.append(f"{len(expiring)} cards expire in Koha, {len(by_patron)} items were queued")
    prefix = CardExpirySettings().external_id_prefix
    # Suomi.fi Messages reaches only people the person vault holds (those who applied on the e-service).
    to_mailboxes = {m.message_id: m for m in stack.sandbox("suomifi_viestit").state.store.messages.values() if m.external_id.startswith(prefix)}
    by_mailbox = [item for item in items if (item.output or {}).get("channel") == "suomifi"]
    if len(to_mailboxes) != len(by_mailbox):
        problems.append(f"{len(to_mailboxes)} reminders in Suomi.fi mailboxes, {len(by_mailbox)} items say they went there")
    for patron_id, item in by_patron.items():
        output = item.output or {}
        if item.state.value != "DONE":
            problems.append(f"item {item.id} ended {item.state.value} {item.error_code or ''}")
            continue
        recipient = _recipient(koha, patron_id)
        if output.get("reason") == "REMINDED" and output.get("channel") == "suomifi":
            if str(output.get("message_id")) not in {str(message_id) for message_id in to_mailboxes}:
                problems.append(f"item {item.id}: its reminder is not in the Suomi.fi mailbox")
        elif output.get("reason") == "REMINDED":
            got = [m for m in mailbox.to(recipient.get("email") or "") if m.message_id == output.get("message_id")]
            if len(got) != 1:
                problems.append(f"item {item.id}: {len(got)} reminders in the mailbox, not one")
        elif output.get("reason") == "NO_CHANNEL" and recipient.get("email"):
            problems.append(f"item {item.id}: NO_CHANNEL, but Koha has an e-mail address")
    return problems


def _recipient(koha: Any, patron_id: int) -> dict[str, Any]:
    """Who Koha says hears of the card: the guarantor (the attribute's patron id) for a child, else the patron."""
    guarantors = [a["value"] for a in koha.patron_attributes(patron_id) if a["type"] == koha.guarantor_attribute]
    return koha.patrons[int(guarantors[0])] if guarantors else koha.patrons[patron_id]
