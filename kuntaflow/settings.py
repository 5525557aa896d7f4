"""Engine settings, read from the environment with the prefix ``KUNTAFLOW_``.

Nothing here needs to be set for the embedded default: data lives in ``.kuntaflow/`` in the
working directory, the queue in SQLite there, and Prefect runs a local server when no
``PREFECT_API_URL`` is given.
"""

from __future__ import annotations

import functools
import os
import secrets
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Literal

from cryptography.fernet import Fernet
from pydantic import Field, SecretStr
from pydantic_settings import SettingsConfigDict

from kuntaflow.person_vault import SealedPersonVault, vault_from_factory
from kuntaflow.secret_store import FileSecretStore, PrefectSecretStore, SecretStore
from kuntaflow.workitems import WorkQueue, exponential_backoff
from schemas.data_home import DataHome
from schemas.person_vault import PersonVault


class KuntaflowSettings(DataHome):
    """Engine-wide settings. Each connector has its own settings class with its own prefix."""

    model_config = SettingsConfigDict(env_prefix="KUNTAFLOW_", extra="ignore")

    database_url: str | None = Field(default=None, description="Work-item queue database; SQLite in the data directory when unset.")
    prefect_api_url: str | None = Field(
        default=None, description="A running Prefect server; an embedded one is started when unset and PREFECT_API_URL is unset too."
    )
    payload_key: SecretStr | None = Field(
        default=None,
        description=(
            "Fernet key sealing work-item payloads at rest; generated once into the data directory when unset. Every worker of one queue needs the same key."
        ),
    )
    lease_seconds: int = Field(default=300, gt=0, description="How long a claimed item stays with its robot without a heartbeat.")
    max_attempts: int = Field(default=5, gt=0, description="Application failures before an item is ABANDONED.")
    retry_backoff_seconds: float = Field(
        default=30, ge=0, description="First wait before an APPLICATION_FAILED item is retried; doubles per attempt, capped at one hour."
    )
    robot_timeout_seconds: int = Field(default=1800, gt=0, description="Hard limit for one robot batch subprocess.")
    payload_retention_days: int = Field(
        default=90,
        gt=0,
        description=(
            "Days a finished work item (DONE, BUSINESS_FAILED, ABANDONED) keeps its payload's personal data; then the "
            "personal-data-retention deployment clears it, keeping ids, codes, the outcome and the audit trail."
        ),
    )
    person_vault_factory: str | None = Field(
        default=None,
        pattern=r"^[A-Za-z_][\w.]*:[A-Za-z_]\w*$",
        description=(
            "A city's own person vault: 'package.module:factory', a callable taking these settings and returning a "
            "schemas.person_vault.PersonVault. Unset: Kuntaflow's vault, sealed in the queue's database."
        ),
    )
    worker_limit: int = Field(
        default=4,
        ge=1,
        description=(
            "Flow runs the local stack's worker (kuntaflow run/up) runs at once; more wait their turn. A suspended run holds none. "
            "Each is a Python process: more than the CPUs can carry slows them all and crowds the embedded server's SQLite."
        ),
    )
    prefect_database_url: str | None = Field(
        default=None,
        description=(
            "The embedded Prefect server's database: SQLite in the data directory when unset; "
            "postgresql+asyncpg://user@host/db to run it on PostgreSQL (docs/scale-out.md)."
        ),
    )
    prefect_user: str = Field(default="kuntaflow", pattern=r"^[^:\s]+$", description="User name for the embedded Prefect server's basic auth (API and UI).")
    prefect_password: SecretStr | None = Field(
        default=None, description="Password for the embedded Prefect server's basic auth; generated once into the data directory when unset."
    )

    secret_store: Literal["data-dir", "prefect"] = Field(
        default="data-dir",
        description=(
            "Where secrets the engine changes itself (the Suomi.fi Messages password after a rotation) are kept: files in the data "
            "directory (one machine), or Prefect Secret blocks on the Prefect server (workers on several machines)."
        ),
    )

    @property
    def queue_url(self) -> str:
        return self.database_url or f"sqlite:///{self.resolved_data_dir / 'kuntaflow.db'}"

    @property
    def robot_output_dir(self) -> Path:
        return self.resolved_data_dir / "robot-runs"

    @property
    def external_prefect_api_url(self) -> str | None:
        """The Prefect server to use, or None when Kuntaflow should run its own."""
        return self.prefect_api_url or os.environ.get("PREFECT_API_URL") or None

    def work_queue(self) -> WorkQueue:
        """The queue these settings describe (max attempts and retry backoff included).

        Cheap to call: queues on one database share one engine in a process. Close it when done,
        ``with settings.work_queue() as queue: ...``.
        """
        return WorkQueue(
            self.queue_url,
            max_attempts=self.max_attempts,
            backoff=functools.partial(exponential_backoff, base_seconds=self.retry_backoff_seconds),
            payload_key=self.sealing_key(),
        )

    def sealing_key(self) -> SecretStr:
        """The Fernet key that seals payloads and the person vault: from settings, else generated once into the data directory."""
        return self.payload_key or self.generated_secret("payload.key", _fernet_key)

    def person_vault(self) -> PersonVault:
        """The person vault these settings name: a city's own (``KUNTAFLOW_PERSON_VAULT_FACTORY``) or Kuntaflow's.

        Close it when done (``with closing(settings.person_vault()) as vault:``).

        Raises:
            VaultError: the named factory cannot be imported, or does not give a PersonVault.
        """
        if self.person_vault_factory is None:
            return SealedPersonVault(self.queue_url, sealing_key=self.sealing_key(), salt=self.salt())
        return vault_from_factory(self.person_vault_factory, self)

    def secrets(self) -> SecretStore:
        """The store ``secret_store`` names."""
        if self.secret_store == "prefect":
            return PrefectSecretStore()
        return FileSecretStore(self.resolved_data_dir / "secrets")

    def prefect_auth_string(self) -> SecretStr:
        """``user:password`` for the embedded Prefect server (its ``PREFECT_SERVER_API_AUTH_STRING``,
        the clients' ``PREFECT_API_AUTH_STRING`` and what a person types on the UI's login page)."""
        password = self.prefect_password or self.generated_secret("prefect-ui.password", lambda: secrets.token_urlsafe(18))
        return SecretStr(f"{self.prefect_user}:{password.get_secret_value()}")

    @property
    def prefect_password_file(self) -> Path:
        """Where a generated Prefect password is kept (nothing there when KUNTAFLOW_PREFECT_PASSWORD is set)."""
        return self.resolved_data_dir / "prefect-ui.password"


def _fernet_key() -> str:
    return Fernet.generate_key().decode()


@contextmanager
def environment(values: Mapping[str, str]) -> Iterator[None]:
    """Set environment variables for the block and restore the previous values afterwards."""
    saved = {key: os.environ.get(key) for key in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
