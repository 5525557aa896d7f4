"""Every code a process can end a case with has a plain-language meaning."""

from __future__ import annotations

import pytest

from schemas.card_expiry import ReminderOutcome
from schemas.employee import StartCheck
from schemas.library_card import ReasonCode as LibraryCardReason
from schemas.reason_meanings import MEANINGS, TRANSLATED, meaning, with_meaning
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


@pytest.mark.parametrize("language", ["fi", "sv"])
def test_every_meaning_is_written_in_finnish_and_swedish_too(language):
    assert set(TRANSLATED[language]) == set(MEANINGS)
    assert all(TRANSLATED[language][code] != MEANINGS[code] for code in MEANINGS)


def test_a_meaning_in_finnish_and_swedish_names_the_system_in_that_language():
    assert meaning("KOHA_UNAVAILABLE", "fi") == "Kirjastojärjestelmä ei vastannut tai oli ylikuormittunut; asia yritetään myöhemmin uudelleen"
    assert meaning("KOHA_UNAVAILABLE", "sv").startswith("Bibliotekssystemet svarade inte")
    assert meaning("UNKNOWN_HOME_LIBRARY", "fi").startswith("valittua kotikirjastoa ei ole")
    assert meaning(None, "sv") == "ingen orsak registrerades"
    with pytest.raises(ValueError, match="fi, sv, en"):
        meaning("KOHA_UNAVAILABLE", "de")
