"""The Suomi.fi Messages API password as every worker reads it: current and pending, in a secret store.

``current`` is the password the service takes; ``pending`` is a new one a rotation has stored and
sent, until it is known whether the service took it. Before the first rotation there is no stored
current: the settings' ``KUNTAFLOW_VIESTIT_PASSWORD`` is it. Clients built by :func:`viestit_client`
read the store at every token fetch (so at the latest on their next 401) and try, in order, the
current, the pending and the settings' password, each once: a worker never needs a restart, and is
not locked out while a rotation is half-way.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import SecretStr

from connectors.suomifi_viestit import ViestitClient, ViestitSettings
from kuntaflow.secret_store import SecretStore, StoredSecret
from kuntaflow.settings import KuntaflowSettings

CURRENT = "viestit-password-current"
PENDING = "viestit-password-pending"


class ViestitPasswords:
    """The current and pending Messages API passwords in ``store``, with the settings' one as the first current."""

    def __init__(self, store: SecretStore, settings: ViestitSettings) -> None:
        self.store = store
        self.settings = settings

    def current(self) -> StoredSecret:
        """The stored current password; before any rotation the settings' one, of unknown age (``datetime.min``)."""
        return self.store.read(CURRENT) or StoredSecret(self.settings.password, datetime.min)

    def pending(self) -> SecretStr | None:
        stored = self.store.read(PENDING)
        return stored.value if stored else None

    def set_pending(self, password: SecretStr) -> None:
        self.store.write(PENDING, password)

    def promote(self) -> None:
        """pending → current. Writing current first, then removing pending: a crash between leaves both equal, which is safe."""
        pending = self.pending()
        if pending is None:
            raise LookupError("no pending password to promote")
        self.store.write(CURRENT, pending)
        self.store.delete(PENDING)

    def discard_pending(self) -> None:
        self.store.delete(PENDING)

    def candidates(self) -> list[SecretStr]:
        """What a token fetch tries, in order, each once: current, pending, the settings' password."""
        found: list[SecretStr] = []
        for password in (self.current().value, self.pending(), self.settings.password):
            if password is not None and all(password.get_secret_value() != seen.get_secret_value() for seen in found):
                found.append(password)
        return found


def viestit_client(settings: ViestitSettings | None = None, *, store: SecretStore | None = None, **options: Any) -> ViestitClient:
    """A Suomi.fi Messages client that reads the rotated password from the engine's secret store."""
    settings = settings or ViestitSettings()
    passwords = ViestitPasswords(store or KuntaflowSettings().secrets(), settings)
    return ViestitClient(settings, passwords=passwords.candidates, **options)
