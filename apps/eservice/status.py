"""An application's progress in plain language, from its work item.

The queue state says where the case is (NEW → received; IN_PROGRESS or APPLICATION_FAILED
waiting for a retry → in processing); a finished case says what was decided: DONE is a granted
card, BUSINESS_FAILED carries the reason code whose citizen text lives in
``schemas.library_card.decision_text`` (the same words the decision message uses). The facts the
text mentions come from the robot's checkpoints and output (library, expiry, an existing card's
library), never from anything the citizen could not see anyway.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from pydantic import ValidationError

from apps.eservice.i18n import Translator
from apps.eservice.libraries import LibraryDirectory
from kuntaflow.workitems import ItemState, WorkItem
from schemas.hetu import HELSINKI
from schemas.library_card import DecisionFacts, LibraryCardApplication, ReasonCode, decision_text


class Phase(StrEnum):
    """What the citizen needs to know, in five steps."""

    RECEIVED = "received"
    PROCESSING = "processing"
    READY = "ready"  # a card waits at the library (granted, or registered for staff to finish)
    REVIEW = "review"  # library staff handle the case
    DECLINED = "declined"  # no card this way; the text says what to do
    PROBLEM = "problem"  # the case could not be handled automatically at all


@dataclass(frozen=True)
class StatusView:
    item_id: int
    phase: Phase
    title: str
    paragraphs: tuple[str, ...]
    library_name: str
    submitted_at: str
    child_first_names: str | None = None

    @property
    def in_progress(self) -> bool:
        return self.phase in (Phase.RECEIVED, Phase.PROCESSING)


def _phase_of(reason: ReasonCode) -> Phase:
    if reason.registers_patron:
        return Phase.READY
    if reason.staff_review:
        return Phase.REVIEW
    return Phase.DECLINED


def _reason(item: WorkItem) -> ReasonCode | None:
    if item.state is ItemState.DONE:
        return ReasonCode.CARD_GRANTED
    if item.state is ItemState.BUSINESS_FAILED and item.error_code in ReasonCode.__members__:
        return ReasonCode(item.error_code)
    return None


def _date(value: Any) -> date | None:
    try:
        return date.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        return None


def _format_moment(moment: datetime, t: Translator) -> str:
    local = moment.astimezone(HELSINKI)
    return t("datetime_format", day=local.day, month=local.month, year=local.year, time=local.strftime("%H.%M"))


def describe(item: WorkItem, checkpoints: dict[str, dict[str, Any]], libraries: LibraryDirectory, t: Translator) -> StatusView:
    """The status page's view of one application."""
    try:
        application: LibraryCardApplication | None = LibraryCardApplication.model_validate(item.payload)
    except ValidationError:
        application = None
    home_library = application.home_library if application else None
    rules = checkpoints.get("rules_checked", {})
    library_name = rules.get("library_name") or libraries.name(home_library) or home_library or ""
    child = application.applicant.first_names if application and application.guardian else None
    submitted = _format_moment(application.submitted_at if application else item.created_at, t)
    common = {"item_id": item.id, "library_name": library_name, "submitted_at": submitted, "child_first_names": child}

    reason = _reason(item)
    if reason is not None:
        output = item.output or {}
        created = checkpoints.get("patron_created", {})
        lookup = checkpoints.get("patron_lookup", {})
        existing_id = output.get("existing_library_id") or lookup.get("existing_library_id")
        facts = DecisionFacts(
            library_name=library_name,
            existing_library_name=libraries.name(existing_id) or existing_id,
            expiry_date=_date(output.get("expiry_date")) or _date(created.get("expiry_date")),
            child_first_name=child,
        )
        text = decision_text(reason, t.language, facts)
        return StatusView(phase=_phase_of(reason), title=text.title, paragraphs=tuple(text.paragraphs), **common)

    if item.state is ItemState.NEW:
        phase, key = Phase.RECEIVED, "status_received"
    elif item.state in (ItemState.IN_PROGRESS, ItemState.APPLICATION_FAILED):
        phase, key = Phase.PROCESSING, "status_processing"
    else:  # BUSINESS_FAILED without a decision code (e.g. an unreadable application), or ABANDONED
        phase, key = Phase.PROBLEM, "status_problem"
    paragraphs = (t(f"{key}_text", library=library_name), t(f"{key}_next", library=library_name))
    return StatusView(phase=phase, title=t(f"{key}_title"), paragraphs=paragraphs, **common)
