"""Citizens' replies through Suomi.fi Messages become work items for staff (deployment ``citizen-replies``).

Every 10 minutes: reads Suomi.fi Messages' events from the saved continuation token, fetches each
citizen's reply and queues it as a ``citizen_reply`` item linked to the case it answers
(``processes/citizen_reply``). The run's summary and logs carry ids and counts only. This flow is
the one reader of the events: the continuation token is shared by every run.
"""

# No `from __future__ import annotations`: Prefect resolves the flow's parameter types from the entrypoint.

from prefect import flow, get_run_logger
from pydantic import BaseModel

from kuntaflow.settings import KuntaflowSettings
from processes.citizen_reply import ReplyIntake
from processes.viestit_password import viestit_client
from schemas.redaction import install as install_redaction


class RepliesSummary(BaseModel):
    events_read: int
    replies: int
    created: list[int]
    already_queued: list[int]


@flow(name="citizen-replies")
def citizen_replies() -> RepliesSummary:
    """Queue every citizen's reply that has arrived since the last run, once."""
    install_redaction()
    settings = KuntaflowSettings()
    with viestit_client() as viestit, settings.work_queue() as queue:
        result = ReplyIntake(viestit, queue, settings.secrets()).poll()
    get_run_logger().info(
        "%d events read, %d citizen replies: work items %s new, %s already queued", result.events_read, result.replies, result.created, result.already_queued
    )
    return RepliesSummary(events_read=result.events_read, replies=result.replies, created=result.created, already_queued=result.already_queued)
