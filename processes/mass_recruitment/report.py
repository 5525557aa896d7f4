"""The recruiter's Excel report of one job's night, and the night's counts (the work item's output).

The report names candidates: it is the recruiter's working list, kept in the robot's output directory
and e-mailed to the job's recruiters. Every text cell passes the redaction filter, so no identity
number can slip in.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.worksheet.worksheet import Worksheet

from processes.mass_recruitment.checkpoints import LETTER_NO_ADDRESS, LETTER_REFUSED, ApplicationProgress
from schemas.recruitment import RECRUITER_TEXT, Candidate, Outcome
from schemas.redaction import redact

if TYPE_CHECKING:
    from processes.mass_recruitment.service import JobRun

HELSINKI = ZoneInfo("Europe/Helsinki")
PEOPLE_COLUMNS = ("Hakemusnumero", "Nimi", "Sähköposti", "Puhelin", "Rekisteröintinumero")


def counts(run: JobRun) -> dict[str, Any]:
    """The night in numbers, without personal data."""
    records = [run.records[a] for a in run.to_process if a in run.records]
    outcomes = Counter(r.outcome for r in records)
    reasons = Counter(reason.value for r in records for reason in r.reasons)
    letters = Counter("refused" if r.letter_failed else ("sent" if r.letter else "none") for r in records)
    return {
        "exported": run.export_rows,
        "processed": len(records),
        "handled_earlier": run.earlier,
        "eligible": outcomes[Outcome.ELIGIBLE],
        "not_eligible": outcomes[Outcome.NOT_ELIGIBLE],
        "needs_review": outcomes[Outcome.NEEDS_REVIEW],
        "booked": sum(1 for r in records if r.interview),
        "letters_sent": letters["sent"],
        "letters_refused": letters["refused"],
        "hires_passed_on": len(run.hires_passed_on),
        "by_reason": dict(sorted(reasons.items())),
    }


def write_report(run: JobRun, path: Path) -> None:
    """Four sheets for the recruiter: summary, eligible, not eligible with reasons, to review."""
    book = Workbook()
    summary = book.active
    summary.title = "Yhteenveto"
    for row in _summary_rows(run):
        summary.append(list(row))
    sheets = {
        Outcome.ELIGIBLE: book.create_sheet("Soveltuvat"),
        Outcome.NOT_ELIGIBLE: book.create_sheet("Ei soveltuvat"),
        Outcome.NEEDS_REVIEW: book.create_sheet("Tarkistettavat"),
    }
    sheets[Outcome.ELIGIBLE].append([*PEOPLE_COLUMNS, "Ryhmähaastattelu", "Paikka", "Kutsu"])
    sheets[Outcome.NOT_ELIGIBLE].append([*PEOPLE_COLUMNS, "Syyt", "Syykoodit", "Kirje"])
    sheets[Outcome.NEEDS_REVIEW].append([*PEOPLE_COLUMNS, "Tarkistettavaa", "Syykoodit"])
    for application_id in run.to_process:
        record = run.records.get(application_id, ApplicationProgress())
        outcome = record.outcome or Outcome.NEEDS_REVIEW
        sheets[outcome].append(_candidate_row(application_id, run.candidates.get(application_id), record))
    for application_id in run.to_process:  # a letter that did not reach the candidate is the recruiter's to act on
        record = run.records.get(application_id, ApplicationProgress())
        if record.letter_failed and record.outcome is not Outcome.NEEDS_REVIEW:
            sheets[Outcome.NEEDS_REVIEW].append(
                [*_person(application_id, run.candidates.get(application_id), None), "Kirje ei mennyt perille: ota yhteyttä muuten", "LETTER_REFUSED"]
            )
    for sheet in book.worksheets:
        _finish(sheet)
    path.parent.mkdir(parents=True, exist_ok=True)
    book.save(path)


def _summary_rows(run: JobRun) -> list[tuple[Any, ...]]:
    night = counts(run)
    rows: list[tuple[Any, ...]] = [
        ("Työpaikka", f"{run.job.name} ({run.job_key})"),
        ("Esikarsinnan yö", run.night),
        ("Hakemuksia viennissä", night["exported"]),
        ("Käsitelty nyt", night["processed"]),
        ("Käsitelty aiemmin", night["handled_earlier"]),
        ("Soveltuvia", night["eligible"]),
        ("Ei soveltuvia", night["not_eligible"]),
        ("Tarkistettavia", night["needs_review"]),
        ("Ryhmähaastatteluun varattu", night["booked"]),
        ("Kirjeitä lähetetty", night["letters_sent"]),
        ("Kirje ei mennyt perille", night["letters_refused"]),
        ("Palkatut siirretty palvelussuhteen aloitukseen", night["hires_passed_on"]),
        (),
        ("Syy", "Hakijoita"),
    ]
    return rows + [(RECRUITER_TEXT[code], n) for code, n in night["by_reason"].items()]


def _person(application_id: int, candidate: Candidate | None, registration_number: str | None) -> list[Any]:
    """The columns every candidate sheet starts with."""
    return [
        application_id,
        candidate.full_name if candidate else None,
        candidate.email if candidate else None,
        candidate.phone if candidate else None,
        registration_number,
    ]


def _candidate_row(application_id: int, candidate: Candidate | None, record: ApplicationProgress) -> list[Any]:
    """One candidate on the sheet of their outcome."""
    base = _person(application_id, candidate, record.registration_number or (candidate.registration_number if candidate else None))
    if candidate is None:
        base[1] = "(ei luettavissa)"
    reasons = record.reasons
    if record.outcome is Outcome.ELIGIBLE:
        interview = record.interview
        start = datetime.fromisoformat(interview.start).astimezone(HELSINKI).strftime("%d.%m.%Y %H.%M") if interview else None
        return [*base, start, interview.location if interview else None, letter_state(record)]
    if record.outcome is Outcome.NOT_ELIGIBLE:
        return [*base, "; ".join(RECRUITER_TEXT[r] for r in reasons), " ".join(reasons), letter_state(record)]
    texts = [RECRUITER_TEXT[r] for r in reasons] + (["Kirje ei mennyt perille"] if record.letter_failed else [])
    return [*base, "; ".join(texts), " ".join(reasons)]


def _finish(sheet: Worksheet) -> None:
    """Redact every text cell, bold the header, freeze it, and size the columns to their text."""
    for row in sheet.iter_rows():
        for cell in row:
            if isinstance(cell.value, str):
                cell.value = redact(cell.value)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    sheet.freeze_panes = "A2"
    for column in sheet.columns:
        sheet.column_dimensions[column[0].column_letter].width = min(60, max(10, *(len(str(c.value or "")) for c in column[:200])))


def letter_state(record: ApplicationProgress) -> str:
    return {LETTER_REFUSED: "ei mennyt perille", LETTER_NO_ADDRESS: "ei sähköpostiosoitetta", None: "ei lähetetty"}.get(record.letter, "lähetetty")
