"""The sandbox's Excel export: a real .xlsx written with openpyxl, in the columns of connectors/helbit/export.py."""

from __future__ import annotations

import io
from collections.abc import Iterable

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font
from openpyxl.worksheet._write_only import WriteOnlyWorksheet

from connectors.helbit.export import EXPORT_COLUMNS, EXPORT_SHEET, STATUS_LABELS
from connectors.helbit.sandbox.seed import LANGUAGE_NAMES
from connectors.helbit.sandbox.store import Application, HelbitStore


def export_applicants(store: HelbitStore, applications: Iterable[Application]) -> bytes:
    """The workbook a recruiter gets from "Vie hakijat Exceliin"."""
    book = Workbook(write_only=True)  # streams rows: a 1,000-applicant export in a fraction of the time
    sheet = book.create_sheet(EXPORT_SHEET)
    sheet.freeze_panes = "A2"
    sheet.append([_bold(sheet, header) for header in EXPORT_COLUMNS])
    for application in applications:
        seed = application.seed
        stage = store.stage(application.stage_id)
        sheet.append(
            [
                seed.application_id,
                seed.candidate_id,
                seed.first_names,
                seed.last_name,
                seed.birth_date,
                seed.email,
                seed.phone,
                seed.registration_number or "",
                "; ".join(seed.qualifications),
                "; ".join(f"{LANGUAGE_NAMES[s.language]}: {s.level}" for s in seed.languages),
                seed.available_from,
                seed.available_until,
                "Kyllä" if seed.reference_consent else "Ei",
                stage["name"] if stage else "",
                STATUS_LABELS[application.status],
                seed.applied_at.replace(tzinfo=None),
            ]
        )
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _bold(sheet: WriteOnlyWorksheet, value: str) -> WriteOnlyCell:
    cell = WriteOnlyCell(sheet, value=value)
    cell.font = Font(bold=True)
    return cell
