"""Helbit-like recruitment system: public open-jobs API, applications API (Greenhouse Harvest shapes), recruiter UI export."""

from connectors.helbit.client import HelbitClient
from connectors.helbit.errors import (
    ApplicationNotFoundError,
    HelbitAuthenticationError,
    HelbitUnavailableError,
    HelbitValidationError,
    JobNotFoundError,
    OpenJobsError,
    SlotFullError,
)
from connectors.helbit.export import EXPORT_COLUMNS, EXPORT_SHEET, ExportedApplicant
from connectors.helbit.models import (
    Application,
    InterviewBooked,
    InterviewSlot,
    Job,
    JobStage,
    OpenJob,
    ScheduledInterview,
    check_job_key,
)
from connectors.helbit.settings import HelbitSettings

__all__ = [
    "EXPORT_COLUMNS",
    "EXPORT_SHEET",
    "Application",
    "ApplicationNotFoundError",
    "ExportedApplicant",
    "HelbitAuthenticationError",
    "HelbitClient",
    "HelbitSettings",
    "HelbitUnavailableError",
    "HelbitValidationError",
    "InterviewBooked",
    "InterviewSlot",
    "Job",
    "JobNotFoundError",
    "JobStage",
    "OpenJob",
    "OpenJobsError",
    "ScheduledInterview",
    "SlotFullError",
    "check_job_key",
]
