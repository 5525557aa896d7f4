"""The home-library choices, from the library system (Koha REST API v1 ``GET /libraries``).

Libraries rarely change, so the list is kept for ``libraries_cache_seconds`` and shared by every
request; while Koha cannot be reached the last good list keeps serving, and before there is one
the form says the service is unavailable.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from connectors.errors import AutomationError
from connectors.koha import KohaClient
from connectors.koha.models import Library


class LibrariesUnavailableError(RuntimeError):
    """The library system could not be asked for its libraries, and no earlier list is known."""


@dataclass(frozen=True)
class LibraryChoice:
    library_id: str
    name: str


class LibraryDirectory:
    """Koha's public libraries, by id, cached.

    Args:
        client_factory: makes a KohaClient (one per refresh; closed afterwards).
        ttl_seconds: how long a fetched list is reused.
    """

    def __init__(self, client_factory: Callable[[], KohaClient], *, ttl_seconds: float = 300) -> None:
        self._client_factory = client_factory
        self._ttl = ttl_seconds
        self._lock = threading.Lock()
        self._choices: tuple[LibraryChoice, ...] | None = None
        self._fetched_at = 0.0

    def choices(self) -> tuple[LibraryChoice, ...]:
        """Libraries a citizen may choose, by name.

        Raises:
            LibrariesUnavailableError: Koha failed and there is no earlier list.
        """
        with self._lock:
            if self._choices is not None and time.monotonic() - self._fetched_at < self._ttl:
                return self._choices
            try:
                with self._client_factory() as client:
                    libraries = client.list_libraries()
            except AutomationError as error:
                if self._choices is not None:
                    return self._choices  # stale beats nothing while Koha is away
                raise LibrariesUnavailableError(f"the library system did not list its libraries ({type(error).__name__})") from None
            self._choices = tuple(sorted((_choice(library) for library in libraries if library.public is not False), key=lambda c: c.name))
            self._fetched_at = time.monotonic()
            return self._choices

    def name(self, library_id: str | None) -> str | None:
        """A library's name, or None when it is unknown or Koha cannot be asked."""
        if not library_id:
            return None
        try:
            choices = self.choices()
        except LibrariesUnavailableError:
            return None
        return next((choice.name for choice in choices if choice.library_id == library_id), None)


def _choice(library: Library) -> LibraryChoice:
    return LibraryChoice(library_id=library.library_id, name=library.name)
