"""Where secrets that Kuntaflow itself changes are kept: the data directory, or Prefect Secret blocks.

A secret set by a person comes from settings (``SecretStr`` fields, the environment). A secret the
engine changes at run time, such as the Suomi.fi Messages API password after a rotation, needs a
store that every worker reads: :class:`FileSecretStore` (the default: files of mode 0600 in the data
directory, for one machine) or :class:`PrefectSecretStore` (Prefect ``Secret`` blocks on the Prefect
server, for workers on several machines); ``KUNTAFLOW_SECRET_STORE`` chooses. Each entry keeps its
value and when it was written, so a rotation can tell a secret's age. Values are ``SecretStr``
everywhere; nothing here logs one.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol

from pydantic import SecretStr

NAME = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")


@dataclass(frozen=True)
class StoredSecret:
    value: SecretStr
    updated_at: datetime


class SecretStore(Protocol):
    """Named secrets that survive a crash: a ``write`` is whole or not at all."""

    def read(self, name: str) -> StoredSecret | None: ...
    def write(self, name: str, value: SecretStr) -> None: ...
    def delete(self, name: str) -> None: ...


def _checked(name: str) -> str:
    if not NAME.match(name):
        raise ValueError(f"secret names are lower-case letters, digits and '-' (not {name!r})")
    return name


def _entry(value: SecretStr) -> dict[str, str]:
    return {"value": value.get_secret_value(), "updated_at": datetime.now(UTC).isoformat()}


def _stored(entry: object) -> StoredSecret | None:
    if not isinstance(entry, dict) or not isinstance(entry.get("value"), str) or not isinstance(entry.get("updated_at"), str):
        return None
    return StoredSecret(SecretStr(entry["value"]), datetime.fromisoformat(entry["updated_at"]))


class FileSecretStore:
    """One JSON file per secret (mode 0600) in ``folder``, replaced atomically (write, fsync, rename)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def _path(self, name: str) -> Path:
        return self.folder / f"{_checked(name)}.json"

    def read(self, name: str) -> StoredSecret | None:
        try:
            return _stored(json.loads(self._path(name).read_text(encoding="utf-8")))
        except FileNotFoundError:
            return None
        except ValueError:
            raise ValueError(f"the stored secret {name!r} is unreadable ({self._path(name)}); fix or delete the file") from None

    def write(self, name: str, value: SecretStr) -> None:
        path = self._path(name)
        self.folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd, temporary = tempfile.mkstemp(dir=self.folder, prefix=f".{name}.", suffix=".tmp")  # mode 0600
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                json.dump(_entry(value), handle)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(temporary, path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
        _fsync_folder(self.folder)

    def delete(self, name: str) -> None:
        self._path(name).unlink(missing_ok=True)
        _fsync_folder(self.folder)


def _fsync_folder(folder: Path) -> None:
    """Make a rename or an unlink in ``folder`` durable."""
    if not folder.exists():
        return
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class PrefectSecretStore:
    """Prefect ``Secret`` blocks named ``<prefix>-<name>`` on the configured Prefect server (obfuscated in its UI)."""

    def __init__(self, prefix: str = "kuntaflow") -> None:
        self.prefix = _checked(prefix)

    def _block(self, name: str) -> str:
        return f"{self.prefix}-{_checked(name)}"

    def read(self, name: str) -> StoredSecret | None:
        from prefect.blocks.system import Secret  # noqa: PLC0415 (Prefect only when this store is chosen)

        try:
            block = Secret.load(self._block(name), _sync=True)
        except ValueError:  # Prefect: "Unable to find block document named …"
            return None
        return _stored(block.get())

    def write(self, name: str, value: SecretStr) -> None:
        from prefect.blocks.system import Secret  # noqa: PLC0415

        Secret(value=_entry(value)).save(self._block(name), overwrite=True, _sync=True)

    def delete(self, name: str) -> None:
        from prefect.client.orchestration import get_client  # noqa: PLC0415
        from prefect.exceptions import ObjectNotFound  # noqa: PLC0415

        with get_client(sync_client=True) as client, contextlib.suppress(ObjectNotFound):  # already gone is fine
            client.delete_block_document(client.read_block_document_by_name(self._block(name), "secret").id)
