"""Every code a process can end a case with has a plain-language meaning."""

from __future__ import annotations

import pytest

from schemas.card_expiry import ReminderOutcome
from schemas.employee import StartCheck
from schemas.library_card import ReasonCode as LibraryCardReason
from schemas.reason_meanings import MEANINGS, meaning, with_meaning
from schemas.recruitment import ReasonCode as RecruitmentReason


@pytest.mark.parametrize("code", [*LibraryCardReason, *RecruitmentReason, *StartCheck, *ReminderOutcome], ids=str)
def test_every_business_reason_has_its_own_meaning(code):
    assert code.value in MEANINGS, f"{code.value} has no plain-language meaning in schemas/reason_meanings.py"


def test_a_connector_code_is_explained_by_its_system_and_its_kind():
    assert meaning("KOHA_UNAVAILABLE") == "the library system did not answer or was overloaded; the case is retried later"
    assert meaning("VIESTIT_AUTHENTICATION").startswith("Suomi.fi Messages refused Kuntaflow's credentials")
    assert meaning("SAML_REPLAY") == "the Suomi.fi login answer was refused as unsafe or invalid"


def test_an_unknown_or_missing_code_still_reads_as_a_sentence():
    assert meaning("SOMETHING_NEW") == "see the case's error message"
    assert with_meaning(None) == "-: no reason was recorded"
    assert with_meaning("ALREADY_A_PATRON") == "ALREADY_A_PATRON: the applicant already has a library card; no second one was made"
