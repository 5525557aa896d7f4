"""Staff sign-in with the city's OpenID Connect provider (Authlib's Starlette client).

- ``GET /kirjaudu`` — remembers where the person was going (``?seuraava=``, same-site paths only)
  and sends them to the provider: authorization code with PKCE (S256), a fresh ``state`` and
  ``nonce``; the provider's endpoints come from its discovery document.
- ``GET /kirjaudu/paluu`` — the provider's answer: Authlib exchanges the code (client secret +
  the PKCE verifier), verifies the ID token's signature against the provider's JWKS, its issuer,
  audience, expiry and the nonce. The ``groups`` claim gives the roles (``StaffSettings``); the
  member goes into the signed session cookie and the person on to where they were going.
- ``POST /kirjaudu-ulos`` — drops the member from the session and sends the browser to the
  provider's end-session endpoint (RP-initiated logout, ``id_token_hint`` +
  ``post_logout_redirect_uri``), which returns it to ``GET /kirjaudu/uloskirjautunut``.

Nothing about the person but their provider id, name, e-mail and roles is kept, and nothing of
the tokens except the ID token, kept for the logout hint.
"""

from __future__ import annotations

import contextlib
import logging
import secrets
from typing import Annotated, Any

from authlib.integrations.base_client.errors import OAuthError
from authlib.integrations.starlette_client import OAuth
from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from httpx import HTTPError
from joserfc.errors import JoseError
from pydantic import ValidationError

from apps.i18n import LANGUAGE_KEY
from apps.staff.access import NEXT_PARAMETER, SIGN_IN_PATH, staff_settings
from apps.staff.identity import StaffMember, forget, remember, roles_for_groups, signed_in
from apps.staff.pages import check_csrf, page
from connectors.oidc import OidcSettings
from connectors.oidc.settings import CALLBACK_PATH, SIGNED_OUT_PATH
from schemas.web_address import same_site_path

logger = logging.getLogger("apps.staff.signin")

PROVIDER = "city"
_NEXT_KEY = "signin_next"
_ID_TOKEN_KEY = "signin_id_token"


def build_oauth(oidc: OidcSettings) -> OAuth:
    """Authlib's client registry with the city's provider, found from its discovery document."""
    oauth = OAuth()
    oauth.register(
        PROVIDER,
        client_id=oidc.client_id,
        client_secret=oidc.resolved_client_secret().get_secret_value(),
        server_metadata_url=oidc.discovery_url,
        client_kwargs={"scope": oidc.scope, "code_challenge_method": "S256", "timeout": oidc.timeout_seconds},
    )
    return oauth


def _client(request: Request) -> Any:
    return request.app.state.oauth.create_client(PROVIDER)


def _oidc(request: Request) -> OidcSettings:
    return request.app.state.oidc_settings


def member_from_claims(claims: dict[str, Any], request: Request) -> StaffMember:
    """The member an ID token describes; roles from its groups claim.

    Raises:
        ValueError: the token lacks ``sub`` or a name.
    """
    groups = claims.get(_oidc(request).groups_claim) or []
    if isinstance(groups, str):
        groups = [groups]
    name = claims.get("name") or " ".join(part for part in (claims.get("given_name"), claims.get("family_name")) if part) or claims.get("preferred_username")
    if not claims.get("sub") or not name:
        raise ValueError("the ID token names no subject or no name")
    return StaffMember(
        subject=str(claims["sub"]), name=str(name), email=claims.get("email"), roles=roles_for_groups(groups, staff_settings(request).role_groups)
    )


def _clear_keeping_language(request: Request) -> None:
    language = request.session.get(LANGUAGE_KEY)
    request.session.clear()
    if language:
        request.session[LANGUAGE_KEY] = language


signin = APIRouter()


@signin.get(SIGN_IN_PATH, response_model=None)
async def start(request: Request) -> HTMLResponse | RedirectResponse:
    """To the provider; a member already signed in goes straight on."""
    target = same_site_path(request.query_params.get(NEXT_PARAMETER))
    if signed_in(request.session) is not None:
        return RedirectResponse(target, status_code=303)
    request.session[_NEXT_KEY] = target
    try:
        return await _client(request).authorize_redirect(
            request, _oidc(request).callback_url(staff_settings(request).public_url), nonce=secrets.token_urlsafe(24)
        )
    except (HTTPError, OAuthError, ValueError) as error:
        logger.error("The identity provider cannot be reached for sign-in: %s", error)
        return page(request, "signin_unavailable_title", "signin_unavailable", status=503)


@signin.get(CALLBACK_PATH, response_model=None)
async def callback(request: Request) -> HTMLResponse | RedirectResponse:
    """The provider's answer: a verified ID token becomes the signed-in member."""
    if "error" in request.query_params:
        logger.info("The identity provider refused sign-in: %s", request.query_params.get("error"))
        return page(request, "signin_failed_title", "signin_refused", status=400, retry=True)
    try:
        token = await _client(request).authorize_access_token(request)
        member = member_from_claims(dict(token.get("userinfo") or {}), request)
    except (OAuthError, JoseError, ValueError, ValidationError, KeyError) as error:  # a bad state, code, signature, nonce or claim
        logger.warning("Sign-in failed: %s", error.error if isinstance(error, OAuthError | JoseError) else type(error).__name__)
        return page(request, "signin_failed_title", "signin_failed", status=400, retry=True)
    except HTTPError as error:
        logger.error("The identity provider cannot be reached to finish sign-in: %s", error)
        return page(request, "signin_unavailable_title", "signin_unavailable", status=503)
    target = same_site_path(request.session.pop(_NEXT_KEY, None))
    _clear_keeping_language(request)  # nothing from before the sign-in carries over (session fixation) but the language
    remember(request.session, member)
    request.session[_ID_TOKEN_KEY] = token.get("id_token", "")
    logger.info("Signed in: %s with roles %s", member.subject, sorted(member.roles))
    return RedirectResponse(target, status_code=303)


@signin.post("/kirjaudu-ulos")
async def sign_out(request: Request, csrf_token: Annotated[str, Form(max_length=200)] = "") -> RedirectResponse:
    """End the session here, then at the provider (RP-initiated logout)."""
    check_csrf(request, csrf_token)
    id_token = request.session.get(_ID_TOKEN_KEY)
    forget(request.session)
    _clear_keeping_language(request)
    oidc = _oidc(request)
    try:
        return await _client(request).logout_redirect(
            request, post_logout_redirect_uri=oidc.signed_out_url(staff_settings(request).public_url), id_token_hint=id_token or None, client_id=oidc.client_id
        )
    except (HTTPError, OAuthError, ValueError, RuntimeError) as error:  # unreachable, or no end_session_endpoint: signed out here only
        logger.error("Signing out at the identity provider failed: %s", error)
        return RedirectResponse(SIGNED_OUT_PATH, status_code=303)


@signin.get(SIGNED_OUT_PATH, response_class=HTMLResponse)
async def signed_out(request: Request) -> HTMLResponse:
    """Where the provider returns the browser; its ``state`` is checked and dropped (the page is the same either way)."""
    if request.query_params.get("state"):
        with contextlib.suppress(OAuthError):
            await _client(request).validate_logout_response(request)
    return page(request, "signed_out_title", "signed_out", retry=True)


__all__ = ["build_oauth", "member_from_claims", "signin"]
