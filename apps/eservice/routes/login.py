"""Suomi.fi e-Identification: login (SAML Web SSO), single logout, and the SP metadata."""

from __future__ import annotations

import logging
from datetime import timedelta

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from apps.eservice.login import LoginError, LoginResult
from apps.eservice.pages import existing_item, message, people_of, redirect, services_of
from apps.eservice.sessions import Kind, new_token
from apps.eservice.web import PageError, SamlForm, SmallForm, check_csrf, language_of

logger = logging.getLogger("eservice")

login = APIRouter()


@login.post("/login", name="login")
def login_start(request: Request, form: SmallForm) -> RedirectResponse:
    check_csrf(request, form)
    services = services_of(request)
    relay_state = new_token()
    request_id, location = services.login.start(relay_state=relay_state, language=language_of(request))
    services.sessions.create(
        Kind.LOGIN,
        {"request_id": request_id},
        ttl=timedelta(minutes=services.settings.login_timeout_minutes),
        token=relay_state,
    )
    request.session["login"] = relay_state
    return redirect(location)


@login.post("/saml/acs", name="acs")
def assertion_consumer(request: Request, form: SamlForm) -> RedirectResponse:
    """The IdP's cross-site POST: no cookie comes with it (SameSite=Lax), so the outstanding
    request is found by RelayState, used once, and the result waits for the browser's return."""
    services = services_of(request)
    relay_state = form.get("RelayState", "")
    pending = services.sessions.pop(Kind.LOGIN, relay_state)
    if pending is None:
        logger.warning("SAML response without a live login request (expired, replayed or unknown RelayState).")
        raise PageError(400, "login", action_url=services.urls("start"), action_key="try_again")
    try:
        result = services.login.finish(form.get("SAMLResponse", ""), expected_request_id=pending["request_id"])
    except LoginError as error:
        logger.warning("Suomi.fi login rejected: %s", error.code)
        raise PageError(400, "login", action_url=services.urls("start"), action_key="try_again") from None
    services.sessions.create(Kind.VERIFIED, result.to_session(), ttl=timedelta(minutes=2), token=relay_state)
    return redirect(services.urls("login_complete"))


@login.get("/login/complete", name="login_complete")
def login_complete(request: Request) -> RedirectResponse:
    """Back in the browser that started the login (its cookie names the RelayState): only
    then does the verified identity become a session, under a fresh token."""
    services = services_of(request)
    urls = services.urls
    token = request.session.pop("login", None)
    verified = services.sessions.pop(Kind.VERIFIED, token if isinstance(token, str) else None)
    if verified is None:
        raise PageError(400, "login", action_url=urls("start"), action_key="try_again")
    old = request.session.pop("sid", None)
    if isinstance(old, str):
        services.sessions.pop(Kind.SESSION, old)
    request.session.pop("csrf", None)  # a new session gets a new CSRF token
    result = LoginResult.from_session(verified)
    sid = services.sessions.create(
        Kind.SESSION,
        verified,
        ttl=timedelta(minutes=services.settings.session_idle_minutes),
        subject=services.sessions.subject(result.logout_subject),
    )
    request.session["sid"] = sid
    person, _ = people_of(verified)
    if existing_item(services, person) is not None:
        return redirect(urls("status"))
    return redirect(urls("apply"))


@login.post("/logout", name="logout")
def logout(request: Request, form: SmallForm) -> RedirectResponse:
    """Suomi.fi requires the local session to end before the LogoutRequest goes to the IdP."""
    check_csrf(request, form)
    services = services_of(request)
    token = request.session.get("sid")
    data = services.sessions.pop(Kind.SESSION, token if isinstance(token, str) else None)
    language = language_of(request)
    request.session.clear()
    request.session["lang"] = language.value
    if data is None:
        return redirect(services.urls("logged_out"))
    request_id, location = services.login.logout(LoginResult.from_session(data))
    request.session["slo"] = request_id  # to match the IdP's LogoutResponse (not personal)
    return redirect(location)


@login.get("/saml/slo", name="slo")
def single_logout(request: Request) -> Response:
    """Both halves of Suomi.fi single logout over the Redirect binding: the IdP's answer to
    our LogoutRequest, and an IdP-initiated LogoutRequest (in an iframe, without cookies:
    the session is found by the NameID's keyed hash)."""
    services = services_of(request)
    expected = request.session.pop("slo", None)
    try:
        outcome = services.login.handle_logout(
            request.url.query, expected_request_id=expected if isinstance(expected, str) else None, sessions=services.sessions
        )
    except LoginError as error:
        logger.warning("Suomi.fi logout message refused: %s", error.code)
        if isinstance(expected, str):  # our own logout: the local session ended before the IdP was asked
            return redirect(services.urls("logged_out"))
        raise PageError(400, "login", action_url=services.urls("start"), action_key="back_to_start") from None
    return redirect(outcome.redirect_url or services.urls("logged_out"))


@login.get("/saml/metadata", name="metadata")
def metadata(request: Request) -> Response:
    xml = services_of(request).login.metadata()
    return Response(xml, media_type="application/samlmetadata+xml", headers={"Cache-Control": "public, max-age=3600"})


@login.get("/logged-out", name="logged_out")
def logged_out(request: Request) -> HTMLResponse:
    return message(request, "logged_out", 200)
