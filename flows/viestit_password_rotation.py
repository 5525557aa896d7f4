"""Rotating the Suomi.fi Messages API password before it is due (deployment ``viestit-password-rotation``).

Runs daily at 03:00 (Europe/Helsinki). Each run first settles what an interrupted run left (a
pending password the service took is promoted, one it never took is dropped), then rotates when the
current password is ``max_age_days`` old, or at once with ``force``. DVV asks for a rotation at
least yearly and recommends every six months; the default 90 days leaves room for an outage. The
password lives in the engine's secret store (``KUNTAFLOW_SECRET_STORE``); workers pick up the new
one at their next token fetch. The password is never logged, returned or stored with the run.
"""

# No `from __future__ import annotations`: Prefect resolves the flow's parameter types from the entrypoint.

from datetime import datetime, timedelta
from typing import Annotated

from prefect import flow, get_run_logger
from pydantic import BaseModel, Field

from connectors.suomifi_viestit import ViestitSettings
from flows.parameters import form_field
from kuntaflow.settings import KuntaflowSettings
from processes.viestit_password import PasswordRotation, ViestitPasswords, viestit_client


class RotationSummary(BaseModel):
    outcome: str = Field(description="NOT_DUE, ROTATED or RECOVERED (an interrupted run's new password was made current).")
    discarded_pending: bool = Field(description="An interrupted run's new password, never taken by the service, was dropped.")
    current_since: datetime | None = Field(description="When the current password was set; None: the settings' password, never rotated.")


@flow(name="viestit-password-rotation")
def viestit_password_rotation(
    max_age_days: Annotated[
        int, form_field("Salasanan enimmäisikä (päivää)", "Salasana vaihdetaan, kun se on näin monta päivää vanha (1–365).", ge=1, le=365)
    ] = 90,
    force: Annotated[bool, form_field("Vaihda nyt", "Vaihda salasana heti iästä riippumatta.")] = False,
) -> RotationSummary:
    """Settle an interrupted rotation, then rotate the Messages API password when it is ``max_age_days`` old (1-365)."""
    if not 1 <= max_age_days <= 365:
        raise ValueError("max_age_days is from 1 to 365 (DVV asks for a rotation at least yearly)")
    logger = get_run_logger()
    settings = ViestitSettings()
    store = KuntaflowSettings().secrets()
    with viestit_client(settings, store=store) as client:
        rotation = PasswordRotation(ViestitPasswords(store, settings), client, max_age=timedelta(days=max_age_days), on_step=_progress(logger))
        result = rotation.run(force=force)
    logger.info("Suomi.fi Messages password: %s%s", result.outcome, " (an unused pending password was dropped)" if result.discarded_pending else "")
    return RotationSummary(
        outcome=result.outcome, discarded_pending=result.discarded_pending, current_since=None if result.current_since == datetime.min else result.current_since
    )


def _progress(logger):
    return lambda step: logger.info("password rotation step done: %s", step)
