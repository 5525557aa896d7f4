"""The library-card robot's own layer: its keyword library's error naming and privacy, its letters, and
the suite run as a subprocess on cases that need no sandbox (a bad payload, an unreachable library system)."""

from __future__ import annotations

import importlib.util
import io
from datetime import date

import pypdf
import pytest
from case_data import LIBRARY_APPLICANT_HETU, library_application
from pydantic import SecretStr

from connectors.errors import BusinessRuleError, IntegrationError, TransientError
from connectors.koha.errors import DuplicatePatronError, KohaRejectedError, KohaUnavailableError
from connectors.letters import Letter, LetterError, LetterSettings, PostalAddress, render_letter
from connectors.servers import free_port
from kuntaflow.batches import process_batch
from kuntaflow.robot_runner import LIBRARIES_DIR
from kuntaflow.settings import KuntaflowSettings
from kuntaflow.workitems import ItemState
from schemas.library_card import PROCESS, LibraryCardApplication


def _keyword_library():
    """robots/libraries/LibraryCardKeywords.py, loaded as Robot Framework loads it (a top-level module)."""
    spec = importlib.util.spec_from_file_location("LibraryCardKeywords", LIBRARIES_DIR / "LibraryCardKeywords.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


_library = _keyword_library()
LibraryCardCase, as_robot_error = _library.LibraryCardCase, _library.as_robot_error

HETU = LIBRARY_APPLICANT_HETU
APPLICATION = library_application()


# --------------------------------------------------------------------------- the keyword library


@pytest.mark.parametrize(
    ("error", "named"),
    [
        (KohaUnavailableError("koha: GET /patrons answered 503", code="UNAVAILABLE", status_code=503, retry_after=7.0), TransientError),
        (DuplicatePatronError("koha: a patron with this cardnumber already exists", existing_patron_id=3, conflict="cardnumber"), BusinessRuleError),
        (KohaRejectedError("koha: POST /patrons rejected: Given library_id does not exist"), IntegrationError),
    ],
)
def test_connector_errors_leave_the_library_under_the_three_names_with_the_case_named(error, named):
    robot_error = as_robot_error(error, 42)
    assert type(robot_error) is named
    assert str(robot_error) == f"{error.code}: work item 42: {error.message}"
    assert robot_error.business_ids["work_item_id"] == 42 and robot_error.status_code == error.status_code
    if named is TransientError:
        assert robot_error.retry_after == 7.0


def test_a_case_shows_only_its_work_item_and_reason_in_the_robot_log():
    case = LibraryCardCase(42, LibraryCardApplication.model_validate(APPLICATION), {})
    assert repr(case) == "LibraryCardCase(work item 42: CARD_GRANTED)"
    assert case.decided_on == date(2026, 11, 24)
    resumed = LibraryCardCase(42, case.application, {"rules_checked": {"reason": "UNDER_15_NO_GUARDIAN", "decided_on": "2026-11-20", "library_name": "X"}})
    assert (resumed.reason.value, resumed.decided_on, resumed.library_name) == ("UNDER_15_NO_GUARDIAN", date(2026, 11, 20), "X")


# --------------------------------------------------------------------------- letters


def letter(**changes) -> Letter:
    fields = {
        "sender": PostalAddress(name="Jyväskylän kaupunginkirjasto – pääkirjasto", street_address="Vapaudenkatu 39–41", zip_code="40100", city="Jyväskylä"),
        "recipient": PostalAddress(name="Meikäläinen Åsa", street_address="Kauppakatu 1 A 2", zip_code="40100", city="Jyväskylä"),
        "dated": date(2026, 11, 5),
        "title": "Kirjastokorttisi on valmis",
        "paragraphs": ["Sinulla on jo kirjastokortti. Se on rekisteröity kirjastoon Jyväskylän pääkirjasto.", "Toinen kappale."],
        "reference": "Kirjastokorttihakemus 12",
    }
    return Letter(**(fields | changes))


def test_a_letter_is_an_a4_pdf_with_its_fonts_embedded_and_its_text_intact():
    reader = pypdf.PdfReader(io.BytesIO(render_letter(letter())))
    [page] = reader.pages
    assert (round(float(page.mediabox.width)), round(float(page.mediabox.height))) == (595, 842)
    fonts = [font.get_object() for font in page["/Resources"]["/Font"].values()]
    assert fonts and all("/FontFile2" in f["/DescendantFonts"][0].get_object()["/FontDescriptor"] for f in fonts)
    text = page.extract_text()
    for expected in ("5.11.2026", "Kirjastokorttihakemus 12", "Meikäläinen Åsa", "40100 JYVÄSKYLÄ", "pääkirjasto", "Vapaudenkatu 39–41", "Toinen kappale."):
        assert expected in text
    assert text.index("Meikäläinen Åsa") < text.index("Kirjastokorttisi on valmis") < text.index("Toinen kappale.")


def test_a_long_letter_flows_onto_more_pages():
    pages = pypdf.PdfReader(io.BytesIO(render_letter(letter(paragraphs=["Pitkä kappale. " * 80] * 8)))).pages
    assert len(pages) >= 2


def test_without_a_truetype_font_no_letter_is_made(tmp_path):
    missing = LetterSettings(font_regular=tmp_path / "none.ttf", font_bold=tmp_path / "none-bold.ttf")
    with pytest.raises(LetterError, match="FONT_REGULAR"):
        render_letter(letter(), missing)


# --------------------------------------------------------------------------- the suite, no sandbox needed


def run_one(payload: dict) -> object:
    with KuntaflowSettings().work_queue() as queue:
        item = queue.add(PROCESS, reference="robot-layer", payload=payload)
        report = process_batch(PROCESS)
        result = queue.get(item.id)
        output = (report.robot_log.parent / "output.xml").read_text(encoding="utf-8")
    return result, output


@pytest.mark.slow
def test_an_invalid_payload_goes_to_staff_naming_fields_and_codes_but_no_values():
    bad = {
        **APPLICATION,
        "email": "not-an-address",
        "applicant": {**APPLICATION["applicant"], "permanent_address": {"street_address": "Kauppakatu 1", "postal_code": "4010", "post_office": "Jyväskylä"}},
    }
    item, output = run_one(bad)
    assert item.state is ItemState.BUSINESS_FAILED and item.error_code == "INVALID_APPLICATION"
    assert "applicant.permanent_address.postal_code (postal_code_invalid)" in item.error_message
    assert "email (email_invalid)" in item.error_message
    for value in ("not-an-address", "4010", HETU, "Meikäläinen"):
        assert value not in item.error_message and value not in output


@pytest.mark.slow
def test_an_unreachable_library_system_is_an_application_failure_retried_later(monkeypatch):
    monkeypatch.setenv("KUNTAFLOW_KOHA_BASE_URL", f"http://127.0.0.1:{free_port()}/api/v1")
    monkeypatch.setenv("KUNTAFLOW_KOHA_RETRY_ATTEMPTS", "1")
    monkeypatch.setenv("KUNTAFLOW_HETU_SALT", SecretStr("robot-layer-salt").get_secret_value())
    item, output = run_one(APPLICATION)
    assert item.state is ItemState.APPLICATION_FAILED and item.not_before is not None
    assert item.error_message.startswith("TransientError: ") and f"work item {item.id}: koha:" in item.error_message
    assert HETU not in output and "Meikäläinen" not in output
