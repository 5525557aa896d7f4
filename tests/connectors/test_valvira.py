"""Register lookup against its sandbox, and the sandbox's agreement with the Helbit applicants' seed."""

from __future__ import annotations

from datetime import date

import pytest
import stamina

from connectors.helbit.sandbox.seed import recruitment_world
from connectors.sandbox_support import SyncASGITransport
from connectors.valvira import RightStatus, ValviraAuthenticationError, ValviraClient, ValviraSettings
from connectors.valvira.sandbox import create_app

TODAY = date(2026, 11, 25)


@pytest.fixture(autouse=True)
def _no_retry_waits():
    stamina.set_testing(True, attempts=3)
    yield
    stamina.set_testing(False)


@pytest.fixture(scope="module")
def app():
    return create_app(today=TODAY)


def register(app, **settings) -> ValviraClient:
    return ValviraClient(ValviraSettings(base_url="http://valvira.test/api/v1", **settings), transport=SyncASGITransport(app))


def applicants(profile: str):
    return [a for a in recruitment_world(TODAY).applicants if a.profile == profile]


def test_a_registration_number_finds_its_holder_with_every_right(app):
    fits = applicants("fits")[0]
    person = register(app).by_registration_number(fits.registration_number)
    assert (person.last_name, person.first_names, person.birth_date) == (fits.last_name, fits.first_names, fits.birth_date)
    assert person.rights and person.rights[0].status is RightStatus.VALID and person.rights[0].in_force_on(TODAY)


def test_an_unknown_number_is_none_and_a_malformed_one_is_never_sent(app):
    assert register(app).by_registration_number(applicants("number_unknown")[0].registration_number) is None
    with pytest.raises(ValueError, match="11 digits"):
        register(app).by_registration_number("1234-567")


def test_expired_and_limited_rights_are_shown_with_their_status(app):
    expired = register(app).by_registration_number(applicants("expired")[0].registration_number)
    assert expired.rights[0].status is RightStatus.EXPIRED and expired.rights[0].valid_until < TODAY and not expired.rights[0].in_force_on(TODAY)
    limited = register(app).by_registration_number(applicants("limited")[0].registration_number)
    assert limited.rights[0].status is RightStatus.LIMITED and limited.rights[0].limitation


def test_name_and_birth_date_together_tell_namesakes_apart(app):
    namesake = applicants("namesake")[0]
    first = namesake.first_names.split()[0]
    by_name = register(app).by_name_and_birth_date(namesake.last_name, first, namesake.birth_date)
    assert by_name == []  # the applicant is not registered ...
    everyone = app.state.register.values()
    assert any(e.last_name == namesake.last_name and e.first_names == namesake.first_names and e.birth_date != namesake.birth_date for e in everyone)
    no_number = applicants("no_number")[0]
    [found] = register(app).by_name_and_birth_date(no_number.last_name, no_number.first_names.split()[0], no_number.birth_date)
    assert found.birth_date == no_number.birth_date


def test_every_applicant_who_gave_their_own_number_is_registered_under_their_name(app):
    own = [a for a in recruitment_world(TODAY).applicants if a.profile not in ("namesake", "number_typo", "number_unknown", "no_number")]
    for applicant in own:
        entry = app.state.register[applicant.registration_number]
        assert (entry.last_name, entry.first_names, entry.birth_date) == (applicant.last_name, applicant.first_names, applicant.birth_date)
    typo = applicants("number_typo")[0]
    assert app.state.register[typo.registration_number].birth_date != typo.birth_date


def test_the_api_key_is_required_and_faults_are_retried(app):
    with pytest.raises(ValviraAuthenticationError):
        register(app, api_key="wrong").by_registration_number("10000000000")
    app.state.faults.fail_next(2, kind="error")
    assert register(app).by_registration_number(applicants("fits")[1].registration_number) is not None
