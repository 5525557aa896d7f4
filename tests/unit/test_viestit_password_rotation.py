"""The Suomi.fi Messages password rotation: a crash after each step, a lost answer and a refused change all settle
on the next run, no worker is ever locked out, and the password is never logged."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from pydantic import SecretStr

from connectors.sandbox_support import SyncASGITransport
from connectors.suomifi_viestit import ViestitAuthenticationError, ViestitSettings, ViestitUnavailableError
from connectors.suomifi_viestit.sandbox.store import password_policy_problem
from connectors.suomifi_viestit.settings import SANDBOX_PASSWORD, SANDBOX_USERNAME
from kuntaflow.secret_store import FileSecretStore
from processes.viestit_password import PasswordRotation, RotationOutcome, ViestitPasswords, new_password, viestit_client
from processes.viestit_password.rotation import STEPS

BASE = "http://viestit.test"
AINO = "150385-9046"


class CrashError(Exception):
    """The process died here."""


pytestmark = pytest.mark.usefixtures("no_backoff")


@pytest.fixture
def sandbox(viestit_sandbox):
    return viestit_sandbox


@pytest.fixture
def secrets(tmp_path) -> FileSecretStore:
    return FileSecretStore(tmp_path / "secrets")


@pytest.fixture
def passwords(secrets) -> ViestitPasswords:
    return ViestitPasswords(secrets, ViestitSettings(base_url=BASE))


def client(sandbox, secrets, transport: httpx.BaseTransport | None = None):
    return viestit_client(ViestitSettings(base_url=BASE), store=secrets, transport=transport or SyncASGITransport(sandbox))


def service_password(sandbox) -> str:
    return sandbox.state.store.credentials[SANDBOX_USERNAME]


def worker_still_works(sandbox, worker) -> bool:
    """A worker whose token has expired fetches a new one with whatever the store holds now."""
    sandbox.state.store.expire_tokens()
    return worker.has_active_mailbox(AINO)


def settled(sandbox, passwords: ViestitPasswords) -> bool:
    return passwords.pending() is None and passwords.current().value.get_secret_value() == service_password(sandbox)


@pytest.mark.parametrize("crash_after", STEPS)
def test_a_crash_after_each_step_settles_on_the_next_run(sandbox, secrets, passwords, crash_after):
    worker = client(sandbox, secrets)
    assert worker.has_active_mailbox(AINO)

    def crash(step: str) -> None:
        if step == crash_after:
            raise CrashError(step)

    with pytest.raises(CrashError):
        PasswordRotation(passwords, client(sandbox, secrets), on_step=crash).run()
    assert worker_still_works(sandbox, worker)

    result = PasswordRotation(passwords, client(sandbox, secrets)).run()
    expected = {
        "recovered": RotationOutcome.ROTATED,
        "generated": RotationOutcome.ROTATED,
        "pending_stored": RotationOutcome.ROTATED,  # the service never got it: dropped, then a new rotation
        "password_changed": RotationOutcome.RECOVERED,  # the service took it: promoted
        "promoted": RotationOutcome.NOT_DUE,
    }[crash_after]
    assert result.outcome == expected
    assert result.discarded_pending == (crash_after == "pending_stored")
    assert settled(sandbox, passwords) and service_password(sandbox) != SANDBOX_PASSWORD.get_secret_value()
    assert worker_still_works(sandbox, worker)
    assert PasswordRotation(passwords, client(sandbox, secrets)).run().outcome == RotationOutcome.NOT_DUE


class LoseTheAnswer(httpx.BaseTransport):
    """The service acts on /v1/change-password, but its answer never arrives."""

    def __init__(self, inner: httpx.BaseTransport) -> None:
        self.inner = inner

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = self.inner.handle_request(request)
        if request.url.path == "/v1/change-password":
            raise httpx.ReadTimeout("the answer was lost", request=request)
        return response


def test_a_lost_answer_is_not_resent_and_the_next_run_finds_the_service_took_the_password(sandbox, secrets, passwords):
    with pytest.raises(ViestitUnavailableError):
        PasswordRotation(passwords, client(sandbox, secrets, LoseTheAnswer(SyncASGITransport(sandbox)))).run()
    assert passwords.pending() is not None and passwords.pending().get_secret_value() == service_password(sandbox)
    assert worker_still_works(sandbox, client(sandbox, secrets))  # current refused, pending taken
    assert PasswordRotation(passwords, client(sandbox, secrets)).run().outcome == RotationOutcome.RECOVERED
    assert settled(sandbox, passwords)


def test_an_outage_before_the_service_acts_drops_the_pending_password_next_time(sandbox, secrets, passwords):
    sandbox.state.faults.fail_next(5, kind="error", path_prefix="/v1/change-password")
    with pytest.raises(ViestitUnavailableError):
        PasswordRotation(passwords, client(sandbox, secrets)).run()
    assert service_password(sandbox) == SANDBOX_PASSWORD.get_secret_value() and passwords.pending() is not None
    sandbox.state.faults.reset()
    result = PasswordRotation(passwords, client(sandbox, secrets)).run()
    assert result.outcome == RotationOutcome.ROTATED and result.discarded_pending and settled(sandbox, passwords)


def test_rotation_waits_until_the_password_is_old_enough(sandbox, secrets, passwords):
    assert PasswordRotation(passwords, client(sandbox, secrets)).run().outcome == RotationOutcome.ROTATED  # settings' password: age unknown
    first = service_password(sandbox)
    later = datetime.now(UTC) + timedelta(days=89)
    assert PasswordRotation(passwords, client(sandbox, secrets), now=lambda: later).run().outcome == RotationOutcome.NOT_DUE
    much_later = datetime.now(UTC) + timedelta(days=91)
    assert PasswordRotation(passwords, client(sandbox, secrets), now=lambda: much_later).run().outcome == RotationOutcome.ROTATED
    assert service_password(sandbox) != first and settled(sandbox, passwords)


def test_a_worker_started_before_the_rotation_picks_up_the_new_password_on_its_next_401(sandbox, secrets, passwords):
    worker = client(sandbox, secrets)
    assert worker.has_active_mailbox(AINO)
    PasswordRotation(passwords, client(sandbox, secrets), generate=lambda: SecretStr("Uusi-Salasana-2026-riittavan-pitka!!")).run()
    assert worker_still_works(sandbox, worker)
    assert sandbox.state.store.tokens_issued == 4  # the worker's first token; the rotation's check and its login for the change; the worker's new one


def test_the_password_never_reaches_a_log(sandbox, secrets, passwords, caplog):
    caplog.set_level(logging.DEBUG)
    with pytest.raises(ViestitUnavailableError):
        PasswordRotation(passwords, client(sandbox, secrets, LoseTheAnswer(SyncASGITransport(sandbox)))).run()
    PasswordRotation(passwords, client(sandbox, secrets)).run(force=True)
    assert "password rotation" in caplog.text
    for secret in (SANDBOX_PASSWORD.get_secret_value(), service_password(sandbox)):
        assert secret not in caplog.text


def test_generated_passwords_meet_the_services_policy_and_files_are_private(secrets):
    for _ in range(200):
        assert password_policy_problem(new_password().get_secret_value()) is None
    assert "\\" not in "".join(new_password().get_secret_value() for _ in range(50))
    secrets.write("viestit-password-pending", SecretStr("x"))
    assert (secrets.folder / "viestit-password-pending.json").stat().st_mode & 0o777 == 0o600
    with pytest.raises(ValueError, match="32"):
        new_password(16)


def test_a_password_a_person_reset_in_settings_is_used_and_rotated_at_once(sandbox, secrets, passwords):
    PasswordRotation(passwords, client(sandbox, secrets)).run()
    sandbox.state.store.credentials[SANDBOX_USERNAME] = SANDBOX_PASSWORD.get_secret_value()  # DVV reset it to the configured one
    assert worker_still_works(sandbox, client(sandbox, secrets))  # stored current refused, the settings' taken
    assert PasswordRotation(passwords, client(sandbox, secrets)).run().outcome == RotationOutcome.ROTATED
    assert settled(sandbox, passwords)


def test_no_password_the_service_takes_is_a_clear_error(sandbox, secrets, passwords):
    sandbox.state.store.credentials[SANDBOX_USERNAME] = "Somebody-Else-Changed-It-2026-xxxxxxxx!"
    with pytest.raises(ViestitAuthenticationError, match="KUNTAFLOW_VIESTIT_PASSWORD"):
        PasswordRotation(passwords, client(sandbox, secrets)).run()
    assert passwords.pending() is None
