"""Where Kuntaflow keeps its data, and the secrets it generates there once for the embedded default.

Every layer needs the data directory and the hetu-key salt (the engine, the connectors' local state,
the sandboxes), so they live here, below all of them; the engine's own settings extend this class.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable
from functools import cached_property
from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class DataHome(BaseSettings):
    """The data directory (``KUNTAFLOW_DATA_DIR``) and the hetu-key salt (``KUNTAFLOW_HETU_SALT``)."""

    model_config = SettingsConfigDict(env_prefix="KUNTAFLOW_", extra="ignore")

    data_dir: Path = Field(default=Path(".kuntaflow"), description="Where the queue, robot outputs and Prefect's embedded database live.")
    hetu_salt: SecretStr | None = Field(default=None, description="Salt for hetu keys; generated once into the data directory when unset.")

    @cached_property
    def resolved_data_dir(self) -> Path:
        path = self.data_dir.expanduser().resolve()
        path.mkdir(parents=True, exist_ok=True)
        return path

    def salt(self) -> SecretStr:
        """The salt for hetu keys: from settings, else created once (0600) in the data directory."""
        if self.hetu_salt is not None:
            return self.hetu_salt
        return self.generated_secret("hetu-salt", lambda: secrets.token_hex(32))

    def signing_key(self, configured: SecretStr | None, *, file: str, setting: str) -> SecretStr:
        """A cookie-signing key: ``configured`` (at least 32 characters), else one generated once into ``file``.

        Raises:
            ValueError: the configured key is too short; the message names ``setting``.
        """
        if configured is not None:
            if len(configured.get_secret_value()) < 32:
                raise ValueError(f"{setting} must be at least 32 characters")
            return configured
        return self.generated_secret(file, lambda: secrets.token_urlsafe(48))

    def generated_secret(self, name: str, make: Callable[[], str]) -> SecretStr:
        """A secret created once (mode 0600) in the data directory: the embedded default only."""
        path = self.resolved_data_dir / name
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass
        else:
            with os.fdopen(fd, "w") as handle:
                handle.write(make())
        return SecretStr(path.read_text().strip())
