"""The employment-start steps' checkpoints, and the confirmation item's.

Each is written the moment its side effect is done and read back on a retry, so the retry skips it
(``processes.checkpoints``). The keys are the ones stored before the models existed; an item
checkpointed then reads the same.
"""

from __future__ import annotations

from datetime import date, datetime

from processes.checkpoints import Checkpoint


class StartChecked(Checkpoint):
    """What HR told the robot about the supervisor and the unit, on the day the start was checked."""

    STEP = "start_checked"
    checked_on: date
    supervisor_name: str
    supervisor_email: str
    unit_name: str


class EmployeeCreated(Checkpoint):
    """The person in HR (``created`` False: HR had them already)."""

    STEP = "employee_created"
    employee_id: int
    created: bool


class EmploymentCreated(Checkpoint):
    """The employment registered in HR."""

    STEP = "employment_created"
    employment_id: int
    status: str
    created: bool


class RequestOpened(Checkpoint):
    """One service-desk request; stored under ``request_<kind>`` (:meth:`step_for`)."""

    STEP = "request_"
    ticket_id: str
    due_date: date
    kind: str

    @classmethod
    def step_for(cls, kind: str) -> str:
        return f"{cls.STEP}{kind}"


class OrientationPlanWritten(Checkpoint):
    """The orientation plan workbook and how many tasks it lists."""

    STEP = "orientation_plan"
    path: str
    tasks: int


class ConfirmationRequested(Checkpoint):
    """The supervisor's confirmation, waiting as a child work item until its reminder is due."""

    STEP = "confirmation_requested"
    confirmation_item_id: int
    reminder_due: datetime


class WelcomeSent(Checkpoint):
    STEP = "welcome_sent"
    message_id: str


class ChecklistSent(Checkpoint):
    STEP = "checklist_sent"
    message_id: str
    confirmation_item_id: int


class Confirmed(Checkpoint):
    """On the confirmation item: who confirmed, through which channel, when."""

    STEP = "confirmed"
    by: str
    via: str
    at: datetime


class WaitingRun(Checkpoint):
    """On the confirmation item: the Prefect run paused for the answer, to resume when the link answers first."""

    STEP = "waiting_run"
    flow_run_id: str


class ReminderSent(Checkpoint):
    """On the confirmation item: the day the supervisor was reminded (the next time due, HR is told)."""

    STEP = "reminder_sent"
    on: date
