"""Card-expiry reminders: every working day at 07:00, remind the patrons whose card runs out within 30 days.

Process ``card_expiry`` (schemas/card_expiry.py, processes/card_expiry/service.py). Deployment
``card-expiry`` runs Monday to Friday at 07:00 Europe/Helsinki; on a public holiday
(``schemas.workdays.day_off_reason``) the run ends at once. Each run

1. asks Koha for the cards that expire from today to ``KUNTAFLOW_CARD_EXPIRY_REMIND_WITHIN_DAYS`` (30)
   days ahead and queues one work item per patron and expiry date (the same card tomorrow is the same
   item, so nobody is reminded twice; a renewed card is a new date);
2. runs ``robots/card_expiry/tasks.robot`` on them in batches tagged ``koha``;
3. publishes the outcomes (``card-expiry-summary``: reasons and channels, never personal data).
"""

# No `from __future__ import annotations`: Prefect resolves the flow's parameter types when a worker
# loads the flow from its entrypoint, and string annotations are not resolvable there.

from datetime import date
from typing import Annotated

from prefect import flow, get_run_logger, task

from connectors.koha import KohaClient, KohaSettings
from flows.parameters import form_field
from flows.robot_task import batch_reports
from flows.run_summary import RunSummary, summarise_run
from kuntaflow.settings import KuntaflowSettings
from processes.card_expiry.checkpoints import ReminderSent
from processes.card_expiry.service import CardExpirySettings, cards_to_remind
from schemas.card_expiry import PROCESS, ReminderOutcome
from schemas.hetu import helsinki_today
from schemas.workdays import day_off_reason

#: The robot reads Koha; the tag's concurrency limit protects the library system.
KOHA_TAG = "koha"


class CardExpirySummary(RunSummary):
    """What one run did: the day, why nothing was done (a weekend or holiday), cards queued, outcomes."""

    day: date | None = None
    skipped: str | None = None
    queued: int = 0


@flow(name="card-expiry")
def card_expiry(
    day: Annotated[date | None, form_field("Päivä", "Päivä, jolta vanhenevat kortit haetaan; tyhjä: tänään Helsingin aikaa.")] = None,
    batch_size: Annotated[int, form_field("Kortteja erässä", "Montako muistutusta yksi robottiajo käsittelee (1–500).", ge=1, le=500)] = 50,
    max_batches: Annotated[int | None, form_field("Eriä enintään", "Tyhjä: kunnes jonossa ei ole käsiteltävää.", ge=1)] = None,
) -> CardExpirySummary:
    """Queue today's expiring cards and remind their patrons, on working days only."""
    logger = get_run_logger()
    today = day or helsinki_today()
    if reason := day_off_reason(today):
        logger.info("%s is not a working day (%s): nobody is reminded.", today, reason)
        return CardExpirySummary(day=today, skipped=reason)
    queued = queue_expiring_cards(today)
    summary = summarise_run(  # each batch counted as it finishes, not kept (flows.run_summary.RunTally)
        batch_reports(PROCESS, batch_size=batch_size, max_batches=max_batches, tags=[KOHA_TAG]),
        done_reason=ReminderOutcome.REMINDED.value,
        title="Kirjastokorttien vanhenemismuistutukset",
        artifact_key="card-expiry-summary",
        sent=ReminderSent,
        summary_type=CardExpirySummary,
    )
    summary = summary.model_copy(update={"day": today, "queued": queued})
    logger.info("Card expiry on %s: %s new cards queued, %s reminders: %s; sent by %s", today, queued, summary.items, summary.by_reason, summary.by_channel)
    assert isinstance(summary, CardExpirySummary)
    return summary


@task(task_run_name="queue the cards expiring from {today}")
def queue_expiring_cards(today: date) -> int:
    """One work item per patron and expiry date; returns how many are new."""
    with KohaClient(KohaSettings()) as koha:
        cards = cards_to_remind(koha, today, CardExpirySettings().remind_within_days)
    with KuntaflowSettings().work_queue() as queue:
        return sum(queue.add(PROCESS, reference=card.reference, payload=card, actor="card-expiry flow").created for card in cards)
