"""The OIDC sandbox's state and rules: the registered client, codes, tokens and the signing key.

What a real provider checks is checked here, so the staff app's client meets the same refusals:
an unknown client or an unregistered ``redirect_uri`` never gets a redirect (RFC 6749 §4.1.2.1);
PKCE with S256 is required (RFC 7636); a code is single-use and lives 60 seconds, and a replayed
code also revokes the access token it was exchanged for (RFC 6749 §4.1.2); the token request must
authenticate the client that got the code, with the same ``redirect_uri``. ID tokens are RS256
JWTs with ``kid``, ``nonce``, ``at_hash`` and the ``groups`` claim (OpenID Connect Core §2, §3.1.3.6).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import RSAKey
from pydantic import SecretStr

from connectors.oidc.sandbox.staff import STAFF, StaffPerson
from connectors.oidc.settings import OidcSettings
from connectors.suomifi_tunnistus.keys import ensure_key_pair
from schemas.data_home import DataHome

CODE_SECONDS = 60
TOKEN_SECONDS = 300
MAX_CODES = 1000


class OidcError(Exception):
    """An OAuth error answer: ``error`` code (RFC 6749 §5.2), a description, the HTTP status."""

    def __init__(self, error: str, description: str, status: int = 400) -> None:
        super().__init__(f"{error}: {description}")
        self.error = error
        self.description = description
        self.status = status


@dataclass(frozen=True)
class RegisteredClient:
    client_id: str
    secret: SecretStr
    redirect_uris: tuple[str, ...]
    post_logout_redirect_uris: tuple[str, ...]

    def authenticates(self, secret: str | None) -> bool:
        return bool(secret) and hmac.compare_digest(self.secret.get_secret_value().encode(), str(secret).encode())


@dataclass(frozen=True)
class AuthorizationRequest:
    """A checked authorization request (the picker carries its fields through its form)."""

    client_id: str
    redirect_uri: str
    scope: str
    state: str | None
    nonce: str | None
    code_challenge: str


@dataclass
class IssuedCode:
    request: AuthorizationRequest
    person: StaffPerson
    expires: float
    used: bool = False
    access_token: str | None = None


@dataclass
class Provider:
    """The sandbox provider: its issuer, signing key, client registrations, codes and tokens."""

    issuer: str
    key: RSAKey
    clients: dict[str, RegisteredClient]
    staff: dict[str, StaffPerson] = field(default_factory=lambda: dict(STAFF))
    codes: dict[str, IssuedCode] = field(default_factory=dict)
    tokens: dict[str, tuple[StaffPerson, float, str]] = field(default_factory=dict)  # access token -> person, expiry, client
    signed_out: list[dict[str, str]] = field(default_factory=list)  # the RP-initiated logouts seen (tests, the staff page)
    lock: threading.Lock = field(default_factory=threading.Lock)

    # ------------------------------------------------------------------ building

    @classmethod
    def from_settings(cls, issuer: str | None = None, *, key_dir: Path | None = None, clients: list[RegisteredClient] | None = None) -> Provider:
        """A provider at ``issuer`` (``KUNTAFLOW_OIDC_ISSUER``) with the staff app's registration from ``KUNTAFLOW_OIDC_*``."""
        settings = OidcSettings()
        home = DataHome()
        pair = ensure_key_pair(key_dir or home.resolved_data_dir / "oidc-sandbox", "signing", "Kuntaflow OIDC sandbox", bits=2048)
        key = RSAKey.import_key(pair.key_file.read_bytes())
        key = RSAKey.import_key(pair.key_file.read_bytes(), parameters={"kid": key.thumbprint(), "use": "sig", "alg": "RS256"})
        if clients is None:
            clients = [RegisteredClient(settings.client_id, settings.resolved_client_secret(home), (settings.callback_url(),), (settings.signed_out_url(),))]
        return cls(issuer=(issuer or settings.issuer).rstrip("/"), key=key, clients={client.client_id: client for client in clients})

    # ------------------------------------------------------------------ discovery and keys

    def endpoint(self, name: str) -> str:
        return f"{self.issuer}/protocol/openid-connect/{name}"

    def discovery(self) -> dict[str, Any]:
        """The discovery document (OpenID Connect Discovery 1.0 §3), Keycloak's paths."""
        return {
            "issuer": self.issuer,
            "authorization_endpoint": self.endpoint("auth"),
            "token_endpoint": self.endpoint("token"),
            "userinfo_endpoint": self.endpoint("userinfo"),
            "jwks_uri": self.endpoint("certs"),
            "end_session_endpoint": self.endpoint("logout"),
            "response_types_supported": ["code"],
            "response_modes_supported": ["query"],
            "grant_types_supported": ["authorization_code"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
            "code_challenge_methods_supported": ["S256"],
            "scopes_supported": ["openid", "profile", "email", "groups"],
            "claims_supported": ["sub", "iss", "aud", "exp", "iat", "auth_time", "nonce", "name", "given_name", "family_name", "email", "groups"],
            "ui_locales_supported": ["fi", "sv", "en"],
        }

    def jwks(self) -> dict[str, Any]:
        return {"keys": [self.key.as_dict(private=False)]}

    # ------------------------------------------------------------------ authorization

    def client_and_redirect(self, client_id: str | None, redirect_uri: str | None) -> RegisteredClient:
        """The registered client, if ``redirect_uri`` is one of its own; else an error shown to the person, never redirected.

        Raises:
            OidcError: unknown client, or a redirect address not registered for it.
        """
        client = self.clients.get(client_id or "")
        if client is None:
            raise OidcError("invalid_client", "unknown client_id")
        if redirect_uri not in client.redirect_uris:
            raise OidcError("invalid_request", "redirect_uri is not registered for this client")
        return client

    def check_request(self, params: dict[str, str]) -> AuthorizationRequest:
        """An authorization request the provider accepts (the client and redirect checked first).

        Raises:
            OidcError: as above (not redirected), or a protocol error to send back to the redirect_uri.
        """
        self.client_and_redirect(params.get("client_id"), params.get("redirect_uri"))
        if params.get("response_type") != "code":
            raise OidcError("unsupported_response_type", "only response_type=code is supported")
        if "openid" not in (params.get("scope") or "").split():
            raise OidcError("invalid_scope", "the scope must include openid")
        if not params.get("code_challenge") or params.get("code_challenge_method") != "S256":
            raise OidcError("invalid_request", "PKCE is required: code_challenge with code_challenge_method=S256")
        return AuthorizationRequest(
            client_id=params["client_id"],
            redirect_uri=params["redirect_uri"],
            scope=params["scope"],
            state=params.get("state") or None,
            nonce=params.get("nonce") or None,
            code_challenge=params["code_challenge"],
        )

    def issue_code(self, request: AuthorizationRequest, person_key: str) -> str:
        """A one-time code for ``person_key`` signing in.

        Raises:
            OidcError: no such person.
        """
        person = self.staff.get(person_key)
        if person is None:
            raise OidcError("invalid_request", "no such staff member")
        code = secrets.token_urlsafe(32)
        with self.lock:
            now = time.time()
            for stale in [key for key, issued in self.codes.items() if issued.expires < now - CODE_SECONDS]:
                del self.codes[stale]
            if len(self.codes) >= MAX_CODES:
                raise OidcError("temporarily_unavailable", "too many sign-ins in progress", 503)
            self.codes[code] = IssuedCode(request, person, now + CODE_SECONDS)
        return code

    # ------------------------------------------------------------------ token

    def exchange(self, form: dict[str, str], client_id: str | None, client_secret: str | None) -> dict[str, Any]:
        """The token response for an authorization code (RFC 6749 §4.1.3, RFC 7636 §4.6).

        Raises:
            OidcError: the client does not authenticate (401), or the grant is refused (400).
        """
        client = self.clients.get(client_id or "")
        if client is None or not client.authenticates(client_secret):
            raise OidcError("invalid_client", "client authentication failed", 401)
        if form.get("grant_type") != "authorization_code":
            raise OidcError("unsupported_grant_type", "only authorization_code is supported")
        with self.lock:
            issued = self.codes.get(form.get("code") or "")
            if issued is None or issued.expires < time.time():
                raise OidcError("invalid_grant", "the code is unknown or expired")
            if issued.used:  # a replayed code: refuse it and revoke what it gave
                if issued.access_token:
                    self.tokens.pop(issued.access_token, None)
                raise OidcError("invalid_grant", "the code was already used")
            if issued.request.client_id != client.client_id:
                raise OidcError("invalid_grant", "the code was issued to another client")
            if form.get("redirect_uri") != issued.request.redirect_uri:
                raise OidcError("invalid_grant", "redirect_uri differs from the authorization request's")
            if not _pkce_matches(form.get("code_verifier"), issued.request.code_challenge):
                raise OidcError("invalid_grant", "code_verifier does not match the code_challenge")
            issued.used = True
            access_token = secrets.token_urlsafe(32)
            issued.access_token = access_token
            self.tokens[access_token] = (issued.person, time.time() + TOKEN_SECONDS, client.client_id)
        return {
            "access_token": access_token,
            "token_type": "Bearer",
            "expires_in": TOKEN_SECONDS,
            "scope": issued.request.scope,
            "id_token": self.id_token(issued, access_token),
        }

    def id_token(self, issued: IssuedCode, access_token: str) -> str:
        now = int(time.time())
        claims: dict[str, Any] = {
            **issued.person.claims(),
            "iss": self.issuer,
            "aud": issued.request.client_id,
            "azp": issued.request.client_id,
            "iat": now,
            "auth_time": now,
            "exp": now + TOKEN_SECONDS,
            "at_hash": _half_hash(access_token),
        }
        if issued.request.nonce:
            claims["nonce"] = issued.request.nonce
        return jwt.encode({"alg": "RS256", "kid": self.key.kid, "typ": "JWT"}, claims, self.key)

    def userinfo(self, access_token: str | None) -> dict[str, Any]:
        """The person an access token was issued for.

        Raises:
            OidcError: ``invalid_token`` (401).
        """
        with self.lock:
            found = self.tokens.get(access_token or "")
        if found is None or found[1] < time.time():
            raise OidcError("invalid_token", "the access token is unknown, expired or revoked", 401)
        return found[0].claims()

    # ------------------------------------------------------------------ end session

    def end_session(self, params: dict[str, str]) -> str | None:
        """RP-initiated logout: where to send the browser back, or None to show the provider's own page.

        A ``post_logout_redirect_uri`` is followed only when it is registered for the client the
        ``id_token_hint`` (verified against this provider's key) or ``client_id`` names.

        Raises:
            OidcError: an ``id_token_hint`` not signed by this provider, or for another client than ``client_id``.
        """
        client_id = params.get("client_id")
        hint = params.get("id_token_hint")
        if hint:
            try:
                claims = jwt.decode(hint, self.key).claims
            except (JoseError, ValueError) as error:
                raise OidcError("invalid_request", f"id_token_hint is not this provider's: {type(error).__name__}") from None
            audience = claims.get("aud")
            if client_id and audience != client_id:
                raise OidcError("invalid_request", "id_token_hint was issued to another client")
            client_id = audience
            with self.lock:  # the person's tokens end with their session
                for token, (person, _, owner) in list(self.tokens.items()):
                    if person.subject == claims.get("sub") and owner == audience:
                        del self.tokens[token]
        self.signed_out.append({"client_id": client_id or "", "subject": "" if not hint else str(claims.get("sub", ""))})
        target = params.get("post_logout_redirect_uri")
        client = self.clients.get(client_id or "")
        if not target or client is None or target not in client.post_logout_redirect_uris:
            return None
        state = params.get("state")
        return f"{target}?{_query({'state': state})}" if state else target


def _pkce_matches(verifier: str | None, challenge: str) -> bool:
    if not verifier or not 43 <= len(verifier) <= 128:
        return False
    computed = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode("ascii", "replace")).digest()).rstrip(b"=").decode()
    return hmac.compare_digest(computed, challenge)


def _half_hash(value: str) -> str:
    digest = hashlib.sha256(value.encode()).digest()
    return base64.urlsafe_b64encode(digest[: len(digest) // 2]).rstrip(b"=").decode()


def _query(values: dict[str, str | None]) -> str:
    return urlencode({key: value for key, value in values.items() if value is not None})
