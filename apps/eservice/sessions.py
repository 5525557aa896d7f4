"""Server-side state of the e-service: Suomi.fi logins in progress and logged-in sessions.

The browser holds only a signed cookie with random tokens (Starlette's SessionMiddleware,
itsdangerous); everything personal (the verified identity with its henkilötunnus, the SAML
NameID for logout) stays here, sealed with Fernet, in a table of the queue's database (SQLite by
default, PostgreSQL when the queue scales out) so that every e-service instance sees the same
sessions. Rows are keyed by a SHA-256 of the token, so the table alone opens no session.

Why server-side: the Suomi.fi ACS POST is a cross-site request, which a ``SameSite=Lax`` cookie
does not accompany; the outstanding AuthnRequest id is therefore found by the RelayState token.
An IdP-initiated logout arrives in an iframe without cookies at all and must find the session by
its NameID, which a cookie-only session cannot do.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any

from cryptography.fernet import Fernet, InvalidToken
from pydantic import SecretStr
from sqlalchemy import Column, DateTime, MetaData, String, Table, Text, create_engine, delete, insert, select, update
from sqlalchemy.engine import Engine, make_url

from connectors.suomifi_tunnistus.models import LogoutTarget

metadata = MetaData()

sessions_table = Table(
    "eservice_sessions",
    metadata,
    Column("kind", String(16), primary_key=True),
    Column("key", String(64), primary_key=True),
    Column("subject", String(64), index=True),
    Column("data", Text, nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=False, index=True),
)


class Kind(StrEnum):
    """What a row is. A login lives from the AuthnRequest to the ACS, a verified login from the
    ACS to the browser's return (where the cookie proves it is the same browser), a session until
    logout or idle timeout."""

    LOGIN = "login"
    VERIFIED = "verified"
    SESSION = "session"


def new_token() -> str:
    """An unguessable token for a cookie or a RelayState (256 bits)."""
    return secrets.token_urlsafe(32)


def _now() -> datetime:
    return datetime.now(UTC)


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


class SessionStore:
    """Sealed, expiring key-value rows for logins and sessions.

    Args:
        url: SQLAlchemy URL of the database (the queue's by default).
        secret: the e-service secret; the sealing key and subject hashes are derived from it.
    """

    def __init__(self, url: str, secret: SecretStr) -> None:
        raw = secret.get_secret_value().encode()
        self._fernet = Fernet(base64.urlsafe_b64encode(hmac.new(raw, b"kuntaflow-eservice-session-data", hashlib.sha256).digest()))
        self._subject_key = hmac.new(raw, b"kuntaflow-eservice-session-subject", hashlib.sha256).digest()
        self._engine = self._create_engine(url)
        metadata.create_all(self._engine, checkfirst=True)

    @staticmethod
    def _create_engine(url: str) -> Engine:
        parsed = make_url(url)
        if parsed.get_backend_name() == "sqlite":
            return create_engine(url, connect_args={"timeout": 30, "check_same_thread": False})
        return create_engine(url, pool_pre_ping=True)

    def dispose(self) -> None:
        self._engine.dispose()

    # ------------------------------------------------------------------ keys and sealing

    @staticmethod
    def _key(token: str) -> str:
        return hashlib.sha256(token.encode()).hexdigest()

    def subject(self, name_id: str) -> str:
        """A keyed hash of a SAML NameID, to find its sessions on an IdP-initiated logout."""
        return hmac.new(self._subject_key, name_id.encode(), hashlib.sha256).hexdigest()

    def _seal(self, data: dict[str, Any]) -> str:
        return self._fernet.encrypt(json.dumps(data, separators=(",", ":")).encode()).decode()

    def _open(self, sealed: str) -> dict[str, Any] | None:
        try:
            return json.loads(self._fernet.decrypt(sealed.encode()))
        except InvalidToken:
            return None  # sealed under another secret: as good as absent

    # ------------------------------------------------------------------ rows

    def create(self, kind: Kind, data: dict[str, Any], *, ttl: timedelta, token: str | None = None, subject: str | None = None) -> str:
        """Store ``data`` under a new token (or the given one) and return the token."""
        token = token or new_token()
        now = _now()
        with self._engine.begin() as conn:
            conn.execute(delete(sessions_table).where(sessions_table.c.expires_at < now))
            conn.execute(insert(sessions_table).values(kind=kind.value, key=self._key(token), subject=subject, data=self._seal(data), expires_at=now + ttl))
        return token

    def load(self, kind: Kind, token: str | None, *, extend: timedelta | None = None) -> dict[str, Any] | None:
        """The live row's data, or None; ``extend`` slides its expiry (idle timeout)."""
        if not token:
            return None
        now = _now()
        where = (sessions_table.c.kind == kind.value) & (sessions_table.c.key == self._key(token))
        with self._engine.begin() as conn:
            row = conn.execute(select(sessions_table.c.data, sessions_table.c.expires_at).where(where)).first()
            if row is None or _aware(row.expires_at) <= now:
                return None
            if extend is not None:
                conn.execute(update(sessions_table).where(where).values(expires_at=now + extend))
        return self._open(row.data)

    def save(self, kind: Kind, token: str, data: dict[str, Any]) -> None:
        """Replace a live row's data (its expiry stays)."""
        where = (sessions_table.c.kind == kind.value) & (sessions_table.c.key == self._key(token))
        with self._engine.begin() as conn:
            conn.execute(update(sessions_table).where(where).values(data=self._seal(data)))

    def pop(self, kind: Kind, token: str | None) -> dict[str, Any] | None:
        """Delete the row and return its data if it was live: one use only, even under races."""
        if not token:
            return None
        where = (sessions_table.c.kind == kind.value) & (sessions_table.c.key == self._key(token))
        with self._engine.begin() as conn:
            row = conn.execute(delete(sessions_table).where(where).returning(sessions_table.c.data, sessions_table.c.expires_at)).first()
        if row is None or _aware(row.expires_at) <= _now():
            return None
        return self._open(row.data)

    def end_sessions(self, target: LogoutTarget) -> int:
        """IdP-initiated logout (``connectors.suomifi_tunnistus.SamlSessionStore``): end the
        sessions of the login whose NameID the IdP names."""
        return self.delete_subject(self.subject(target.name_id))

    def delete_subject(self, subject: str) -> int:
        """End every session of one SAML subject (IdP-initiated logout); returns how many."""
        with self._engine.begin() as conn:
            result = conn.execute(delete(sessions_table).where(sessions_table.c.kind == Kind.SESSION.value, sessions_table.c.subject == subject))
        return result.rowcount or 0
