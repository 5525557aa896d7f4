"""Rotating the Suomi.fi Messages API password so that a crash at any point loses nothing.

The steps, each durable before the next: (1) recover from an earlier run, (2) generate a new
password, (3) store it as *pending*, (4) ``POST /v1/change-password``, (5) promote pending to
*current*. A run that stops anywhere leaves one of these states, and the next run (the deployment
runs daily) recovers:

- no pending: nothing was started, or everything finished;
- pending that ``/v1/token`` accepts: the service took it (crash after 4, or its answer was lost):
  promote it;
- pending that ``/v1/token`` refuses: the service never took it (crash after 2 or 3, or the change
  was refused): drop it; the current password still works, and a new rotation may start.

Meanwhile every worker tries current, then pending (:mod:`.passwords`), so none is locked out. The
password never appears in a log or an error message; the outcome names only the step.
"""

from __future__ import annotations

import logging
import secrets
import string
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum

from pydantic import SecretStr

from connectors.suomifi_viestit import ViestitAuthenticationError, ViestitClient
from processes.viestit_password.passwords import ViestitPasswords

logger = logging.getLogger("processes.viestit_password")

#: 32 is the API's minimum; longer costs nothing. No backslash ("best to not use it as a symbol").
PASSWORD_LENGTH = 48
SYMBOLS = "!#$%&()*+,-.:;<=>?@[]^_{|}~"
ALPHABET = string.ascii_letters + string.digits + SYMBOLS
#: The steps in order; ``on_step`` is told each one as soon as it is durable.
STEPS = ("recovered", "generated", "pending_stored", "password_changed", "promoted")


class RotationOutcome(StrEnum):
    NOT_DUE = "NOT_DUE"
    ROTATED = "ROTATED"
    RECOVERED = "RECOVERED"  # an earlier run's pending password was taken by the service: now current


@dataclass(frozen=True)
class RotationResult:
    outcome: RotationOutcome
    discarded_pending: bool  # an earlier run's pending password the service never took was dropped
    current_since: datetime


def new_password(length: int = PASSWORD_LENGTH) -> SecretStr:
    """A random password the API's policy takes: lower, upper, digit and symbol, each at least once."""
    if length < 32:
        raise ValueError("Suomi.fi Messages needs at least 32 characters")
    while True:
        candidate = "".join(secrets.choice(ALPHABET) for _ in range(length))
        if (
            any(c.islower() for c in candidate)
            and any(c.isupper() for c in candidate)
            and any(c.isdigit() for c in candidate)
            and any(c in SYMBOLS for c in candidate)
        ):
            return SecretStr(candidate)


class PasswordRotation:
    """One rotation run: recover, then rotate when the current password is ``max_age`` old (or ``force``).

    Args:
        passwords: where current and pending are kept.
        client: a Messages client for ``password_works`` and ``change_password``.
        max_age: rotate when the current password is at least this old (a password from settings, of
            unknown age, is rotated on the first run).
        on_step: told each step's name once it is durable (a progress log; tests stop a run there).
        generate: makes the new password.
    """

    def __init__(
        self,
        passwords: ViestitPasswords,
        client: ViestitClient,
        *,
        max_age: timedelta = timedelta(days=90),
        on_step: Callable[[str], None] = lambda step: None,
        generate: Callable[[], SecretStr] = new_password,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.passwords = passwords
        self.client = client
        self.max_age = max_age
        self.on_step = on_step
        self.generate = generate
        self.now = now

    def run(self, *, force: bool = False) -> RotationResult:
        """Recover what an earlier run left, then rotate if due.

        Raises:
            ViestitAuthenticationError: the service takes neither the stored nor the settings' password: a
                person must set ``KUNTAFLOW_VIESTIT_PASSWORD``. When only the settings' one works (a person
                reset it), it is rotated at once, its age being unknown.
            ViestitRejectedError, ViestitUnavailableError: the change was refused or the service was
                away; the pending password stays for the next run to settle.
        """
        recovered, discarded = self._recover()
        self._step("recovered")
        if recovered:
            return RotationResult(RotationOutcome.RECOVERED, discarded, self.passwords.current().updated_at)
        current = self.passwords.current()
        working = self._working_password()
        known_age = current.updated_at != datetime.min and working.get_secret_value() == current.value.get_secret_value()
        if not force and known_age and self.now() - current.updated_at < self.max_age:
            return RotationResult(RotationOutcome.NOT_DUE, discarded, current.updated_at)
        new = self.generate()
        self._step("generated")
        self.passwords.set_pending(new)
        self._step("pending_stored")
        self.client.change_password(working, new)
        self._step("password_changed")
        self.passwords.promote()
        self._step("promoted")
        return RotationResult(RotationOutcome.ROTATED, discarded, self.passwords.current().updated_at)

    def _recover(self) -> tuple[bool, bool]:
        """(promoted, discarded) for a pending password an earlier run left."""
        pending = self.passwords.pending()
        if pending is None:
            return False, False
        if self.client.password_works(pending):
            logger.info("suomifi_viestit: the service took the pending password of an earlier run; it is now current")
            self.passwords.promote()
            return True, False
        logger.info("suomifi_viestit: the service never took the pending password of an earlier run; it is dropped")
        self.passwords.discard_pending()
        return False, True

    def _working_password(self) -> SecretStr:
        """The password the service takes now: the stored current one, else the settings' (a person reset it).

        Raises:
            ViestitAuthenticationError: the service takes none of them.
        """
        for password in self.passwords.candidates():
            if self.client.password_works(password):
                return password
        raise ViestitAuthenticationError(
            "suomifi_viestit: the service takes neither the stored nor the configured password; set KUNTAFLOW_VIESTIT_PASSWORD to the one DVV has"
        )

    def _step(self, name: str) -> None:
        logger.info("suomifi_viestit: password rotation: %s", name)
        self.on_step(name)
