"""Personal-data retention: what Kuntaflow keeps about people, kept no longer than it is needed.

Deployment ``personal-data-retention`` runs nightly at 03:00 (Europe/Helsinki), in two steps:

1. **clear finished payloads**: every work item finished (DONE, BUSINESS_FAILED, ABANDONED) and
   unchanged for ``KUNTAFLOW_PAYLOAD_RETENTION_DAYS`` loses its payload's personal data; ids, codes, the
   outcome, checkpoints and the audit trail stay, and the fields ``processes.payload_retention``
   names, which hold none (``kuntaflow.privacy_sweep.clear_finished_payloads``);
2. **remove people without a live relationship** from the person vault: no unfinished or recently
   finished work item, no library card in force in Koha, no open employment in HR
   (``kuntaflow.person_vault.apply_retention``; the rule is in docs/person-vault.md).

Both are idempotent and leave a trace: the queue's audit trail, the access log. The run's table
artifact gives the counts, never a person. A relationship whose system did not answer keeps the
person and fails the run after both steps, so someone looks.
"""

from contextlib import closing
from datetime import UTC, date, datetime, timedelta

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_table_artifact
from pydantic import BaseModel, Field

from connectors.hr import HrClient, HrSettings
from connectors.koha import KohaClient, KohaSettings
from kuntaflow.person_vault import LiveWorkItems, RetentionReport, apply_retention
from kuntaflow.privacy_sweep import PayloadRetentionReport, clear_finished_payloads
from kuntaflow.settings import KuntaflowSettings
from processes.employment_start.retention import OpenEmployment
from processes.library_card.retention import ActiveLibraryCard
from processes.payload_retention import KEPT_PAYLOAD_FIELDS
from schemas.hetu import HELSINKI
from schemas.person_vault import RelationKind

ACTOR = "personal-data-retention"


class RetentionIncompleteError(RuntimeError):
    """Some people were kept because a system could not say whether their relationship is live."""


class RetentionSummary(BaseModel):
    payloads_finished_before: datetime = Field(description="Items finished before this had their payload's personal data cleared.")
    payloads_cleared: int
    people_checked: int
    people_kept: int
    people_kept_as_guardian: int
    people_removed: int
    not_decided: list[str] = Field(default_factory=list, description="Relationships whose system did not answer (their people were kept).")
    unchecked: dict[str, int] = Field(default_factory=dict, description="Relationship kinds without a retention check (their people were kept).")

    def lines(self) -> list[str]:
        return [
            f"payloads cleared: {self.payloads_cleared} (finished before {self.payloads_finished_before:%Y-%m-%d %H:%M} UTC)",
            f"person vault: {self.people_checked} checked, {self.people_kept} kept ({self.people_kept_as_guardian} as a guardian), "
            f"{self.people_removed} removed",
            *(f"not decided: {problem}" for problem in self.not_decided),
            *(f"no retention check for {kind!r}: {count} kept" for kind, count in sorted(self.unchecked.items())),
        ]


@flow(name="personal-data-retention")
def personal_data_retention() -> RetentionSummary:
    """Clear finished payloads past the retention period, then remove people without a live relationship."""
    logger = get_run_logger()
    now = datetime.now(UTC)
    payloads = clear_finished_payloads_step(now)
    people = remove_people_without_relationship(now)
    summary = RetentionSummary(
        payloads_finished_before=payloads.finished_before,
        payloads_cleared=len(payloads.cleared),
        people_checked=people.checked,
        people_kept=people.kept,
        people_kept_as_guardian=people.kept_as_guardian,
        people_removed=len(people.removed),
        not_decided=people.errors,
        unchecked=dict(people.unchecked_kinds),
    )
    create_table_artifact(
        key="personal-data-retention",
        table=[{"what": line} for line in summary.lines()],
        description=f"**Henkilötietojen säilytys** {now.astimezone(HELSINKI):%d.%m.%Y}",
    )
    for line in summary.lines():
        logger.info(line)
    if people.errors:
        raise RetentionIncompleteError(f"{len(people.errors)} relationships could not be checked; their people were kept: " + "; ".join(people.errors))
    return summary


@task(task_run_name="clear finished payloads")
def clear_finished_payloads_step(now: datetime) -> PayloadRetentionReport:
    """The queue's payload retention (kuntaflow/privacy_sweep.py)."""
    settings = KuntaflowSettings()
    with settings.work_queue() as queue:
        return clear_finished_payloads(queue, retention=timedelta(days=settings.payload_retention_days), keep=KEPT_PAYLOAD_FIELDS, actor=ACTOR, now=now)


@task(task_run_name="remove people without a live relationship")
def remove_people_without_relationship(now: datetime) -> RetentionReport:
    """The vault's retention rule, each relationship checked against its own system's records."""
    settings = KuntaflowSettings()
    today: date = now.astimezone(HELSINKI).date()
    retention = timedelta(days=settings.payload_retention_days)
    with (
        closing(settings.person_vault()) as vault,
        LiveWorkItems(settings.queue_url, retention=retention, now=now) as work_items,
        KohaClient(KohaSettings()) as koha,
        HrClient(HrSettings()) as hr,
    ):
        checks = {
            RelationKind.WORK_ITEM: work_items,
            RelationKind.LIBRARY_PATRON: ActiveLibraryCard(koha, today=today),
            RelationKind.EMPLOYEE: OpenEmployment(hr),
        }
        return apply_retention(vault, checks, actor=ACTOR)
