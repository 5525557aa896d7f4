"""Which payload fields of each process are not personal data, and so outlive the payload retention.

When a finished work item's payload is cleared (``WorkQueue.clear_personal_data``, run nightly by the
``personal-data-retention`` deployment and by ``kuntaflow privacy-sweep --clear-finished-payloads``),
only these fields stay. A process that reads a finished item's payload later names what it reads here.
"""

from __future__ import annotations

from schemas.employee import PROCESS as EMPLOYMENT_START
from schemas.recruitment import PROCESS as MASS_RECRUITMENT

#: An employment start's date and place (the onboarding reminders read the start date of DONE starts) and
#: a screening night's job. Every other process keeps nothing of its payload.
KEPT_PAYLOAD_FIELDS: dict[str, tuple[str, ...]] = {
    EMPLOYMENT_START: ("start_date", "end_date", "employment_type", "title", "unit_id"),
    MASS_RECRUITMENT: ("job_key", "night"),
}
