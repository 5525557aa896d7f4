"""The application: who the card is for (a guardian may apply for a child under 15), the form, and its validation.

A valid form becomes ``schemas.library_card.LibraryCardApplication``, queued under the salted hash of the
applicant's hetu (applying twice finds the same item) and the flow triggered; the citizen goes to the status page.
"""

from __future__ import annotations

import logging
import secrets
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from pydantic import ValidationError

from apps.eservice.i18n import LANGUAGE_NAMES, LANGUAGES, Translator
from apps.eservice.login import GuardianshipUnavailableError
from apps.eservice.pages import (
    Services,
    applicant_of,
    existing_item,
    message,
    people_of,
    redirect,
    render,
    require_session,
    services_of,
    show_person,
    too_young,
    valtuudet_offered,
)
from apps.eservice.people import person_reference
from apps.eservice.sessions import Kind
from apps.eservice.trigger import fire
from apps.eservice.web import PageError, SmallForm, check_csrf, language_of
from schemas.library_card import ERROR_MESSAGES, PROCESS, GuardianshipVerification, Language, LibraryCardApplication, NotificationPreference, describe_errors

logger = logging.getLogger("eservice")

#: The choice that sends a guardian to Suomi.fi Valtuudet to pick the child.
VALTUUDET = "valtuudet"

#: Where each form field's error points in the error summary (the first control of a group).
FIELD_TARGETS = {
    "home_library": "home_library",
    "email": "email",
    "phone": "phone",
    "language": "language-fi",
    "notification_preference": "notification_preference-suomifi",
    "rules_accepted": "rules_accepted",
}
#: Errors the model raises about the whole application, shown at the field they concern.
CODE_FIELDS = {"email_missing_for_preference": "email"}
FORM_FIELDS = ("home_library", "email", "phone", "language", "notification_preference", "rules_accepted")

application = APIRouter()


# --------------------------------------------------------------------------- who the card is for


@application.get("/apply/for", name="choose")
def choose(request: Request) -> Response:
    _, data = require_session(request)
    return _choose_page(request, data)


@application.post("/apply/for")
def choose_submit(request: Request, form: SmallForm) -> Response:
    check_csrf(request, form)
    services = services_of(request)
    sid, data = require_session(request)
    person, wards = people_of(data)
    choice = form.get("applicant", "")
    if choice == "self":
        data["applying_for"] = "self"
    elif choice.startswith("ward-") and choice[5:].isdigit() and int(choice[5:]) < len(wards):
        data["applying_for"] = int(choice[5:])
    elif choice == VALTUUDET and valtuudet_offered(services, person):
        return _to_valtuudet(request, sid, data)
    else:
        t = services.translator(request)
        return _choose_page(request, data, [{"target": "applicant-0", "message": t("choose_required")}])
    services.sessions.save(Kind.SESSION, sid, data)
    return redirect(services.urls("apply"))


def _to_valtuudet(request: Request, sid: str, data: dict[str, Any]) -> Response:
    """Register the guardian at Suomi.fi Valtuudet and send the browser to pick the child there."""
    services = services_of(request)
    person, _ = people_of(data)
    assert services.login.guardianship is not None  # valtuudet_offered checked it
    try:
        pending, url = services.login.guardianship.start(person, redirect_uri=_callback_url(services), language=language_of(request))
    except GuardianshipUnavailableError as error:
        logger.warning("Suomi.fi Valtuudet could not be started: %s", error)
        raise PageError(503, "unavailable", action_url=services.urls("choose"), action_key="try_again") from None
    data["valtuudet"] = pending
    services.sessions.save(Kind.SESSION, sid, data)
    return redirect(url)


@application.get("/apply/for/valtuudet", name="valtuudet_callback")
def valtuudet_callback(request: Request, code: str = "", state: str = "", error: str = "") -> Response:
    """Back from Suomi.fi Valtuudet: the pending registration is used once, whatever the answer."""
    services = services_of(request)
    sid, data = require_session(request)
    pending = data.pop("valtuudet", None)
    services.sessions.save(Kind.SESSION, sid, data)
    urls = services.urls
    if not isinstance(pending, dict) or not secrets.compare_digest(state.encode(), str(pending.get("state", "")).encode()):
        raise PageError(400, "csrf", action_url=urls("choose"), action_key="try_again")
    if error or not code or services.login.guardianship is None:
        return message(request, "valtuudet_cancelled", 200, action_url=urls("choose"), action_key="continue")
    person, wards = people_of(data)
    try:
        check = services.login.guardianship.finish(pending, code, redirect_uri=_callback_url(services), guardian=person)
    except GuardianshipUnavailableError as failure:
        logger.warning("Suomi.fi Valtuudet did not confirm the guardian's choice: %s", failure)
        raise PageError(503, "unavailable", action_url=urls("choose"), action_key="try_again") from None
    if not check.wards:
        key = "valtuudet_over_15" if check.not_under_15 and not check.disallowed else "valtuudet_not_allowed"
        return message(request, key, 200, action_url=urls("choose"), action_key="continue")
    known = {ward.hetu for ward in wards}
    every = [*wards, *(ward for ward in check.wards if ward.hetu not in known)]
    data["wards"] = [ward.model_dump(mode="json") for ward in every]
    data["wards_verified_by"] = GuardianshipVerification.SUOMI_FI_VALTUUDET.value
    data["wards_verified_at"] = check.verified_at.isoformat()
    data["applying_for"] = [ward.hetu for ward in every].index(check.wards[0].hetu)
    services.sessions.save(Kind.SESSION, sid, data)
    return redirect(urls("apply"))


def _callback_url(services: Services) -> str:
    """Where Valtuudet sends the browser back: the e-service's public address, not the request's Host."""
    return services.settings.base_url + services.urls("valtuudet_callback")[len(services.settings.root_path) :]


def _choose_page(request: Request, data: dict[str, Any], errors: list[dict[str, str]] | None = None) -> Response:
    services = services_of(request)
    t = services.translator(request)
    person, wards = people_of(data)
    offered = valtuudet_offered(services, person)
    if not wards and not offered:
        return redirect(services.urls("apply"))
    options = [{"value": "self", "label": t("choose_self", name=f"{person.first_names} {person.surname}")}]
    for index, ward in enumerate(wards):
        born = t("date_format", day=ward.birth_date.day, month=ward.birth_date.month, year=ward.birth_date.year)
        options.append({"value": f"ward-{index}", "label": t("choose_child", name=f"{ward.first_names} {ward.surname}", born=born)})
    if offered:
        options.append({"value": VALTUUDET, "label": t("choose_valtuudet")})
    chosen = data.get("applying_for")
    selected = f"ward-{chosen}" if isinstance(chosen, int) else ("self" if chosen == "self" else None)
    return render(
        request,
        "choose.html",
        status_code=400 if errors else 200,
        options=options,
        selected=selected,
        errors=errors or [],
        has_errors=bool(errors),
    )


# --------------------------------------------------------------------------- the form


@application.get("/apply", name="apply")
def apply_form(request: Request) -> Response:
    services = services_of(request)
    _, data = require_session(request)
    applicant, guardian = applicant_of(data)
    if existing_item(services, applicant) is not None:
        request.session["notice"] = "notice_already"
        return redirect(services.urls("status"))
    if guardian is None and too_young(applicant):
        return message(request, "too_young", 200)
    values = {
        "home_library": "",
        "email": "",
        "phone": "",
        "language": language_of(request).value,
        "notification_preference": NotificationPreference.SUOMI_FI.value,
        "rules_accepted": False,
    }
    return _form_page(request, data, values, [])


@application.post("/apply")
def apply_submit(request: Request, form: SmallForm) -> Response:
    check_csrf(request, form)
    services = services_of(request)
    _, data = require_session(request)
    applicant, guardian = applicant_of(data)
    if guardian is None and too_young(applicant):
        return message(request, "too_young", 200)
    if existing_item(services, applicant) is not None:
        request.session["notice"] = "notice_already"
        return redirect(services.urls("status"))
    values = {name: form.get(name, "") for name in FORM_FIELDS}
    values["rules_accepted"] = form.get("rules_accepted") == "yes"
    t = services.translator(request)
    valid, errors, field_errors = _validate(services, t, data, values)
    if valid is None:
        return _form_page(request, data, values, errors, field_errors)
    payload = valid.model_dump(mode="json")
    item = services.queue.add(PROCESS, reference=person_reference(applicant, services.salt), payload=payload, actor="eservice")
    if item.payload != payload:
        request.session["notice"] = "notice_already"  # a submission from another tab got there first
    else:
        logger.info("Library-card application queued as work item %s.", item.id)
        fire(services.trigger, item)
        request.session["notice"] = "notice_submitted"
    return redirect(services.urls("status"))


def _form_page(
    request: Request, data: dict[str, Any], values: dict[str, Any], errors: list[dict[str, str]], field_errors: dict[str, str] | None = None
) -> Response:
    services = services_of(request)
    t = services.translator(request)
    applicant, guardian = applicant_of(data)
    _, wards = people_of(data)
    return render(
        request,
        "form.html",
        status_code=400 if errors else 200,
        person=show_person(applicant, t),
        guardian=show_person(guardian, t) if guardian else None,
        can_change_applicant=bool(wards) or valtuudet_offered(services, applicant if guardian is None else guardian),
        libraries=services.libraries.choices(),
        notification_choices=[choice.value for choice in NotificationPreference],
        decision_languages=[(language.value, LANGUAGE_NAMES[language]) for language in LANGUAGES],
        rules_url=services.settings.library_rules_url,
        values=values,
        errors=errors,
        field_errors=field_errors or {},
        has_errors=bool(errors),
    )


def _validate(
    services: Services, t: Translator, data: dict[str, Any], values: dict[str, Any]
) -> tuple[LibraryCardApplication | None, list[dict[str, str]], dict[str, str]]:
    """The application, or the problems: a summary list (message + field anchor) and per-field messages."""
    field_errors: dict[str, str] = {}
    general: list[str] = []
    known = {choice.library_id for choice in services.libraries.choices()}
    if values["home_library"] and values["home_library"] not in known:
        field_errors["home_library"] = _schema_message("library_code_invalid", t.language)
    valid = None
    try:
        valid = LibraryCardApplication.model_validate(_raw_application(data, values))
    except ValidationError as error:
        for problem in describe_errors(error, t.language):
            field = CODE_FIELDS.get(problem.code) or problem.field.split(".")[0]
            if field in FIELD_TARGETS:
                field_errors.setdefault(field, problem.message)
            else:
                general.append(t("identity_error", message=problem.message))
    if field_errors or general:
        summary = [{"target": None, "message": message} for message in general]
        summary += [{"target": FIELD_TARGETS[field], "message": field_errors[field]} for field in FORM_FIELDS if field in field_errors]
        return None, summary, field_errors
    return valid, [], {}


def _raw_application(data: dict[str, Any], values: dict[str, Any]) -> dict[str, Any]:
    """The application as the model reads it: the verified identities from the session, the rest from the form."""
    applicant, guardian = applicant_of(data)
    raw: dict[str, Any] = {
        "applicant": applicant.model_dump(mode="json"),
        "home_library": values["home_library"],
        "email": values["email"] or None,
        "phone": values["phone"] or None,
        "language": values["language"],
        "notification_preference": values["notification_preference"],
        "rules_accepted": values["rules_accepted"],
        "submitted_at": datetime.now(UTC).isoformat(),
    }
    if guardian is not None:
        raw["guardian"] = {
            **guardian.model_dump(mode="json"),
            "relationship_verified_by": data.get("wards_verified_by"),
            "relationship_verified_at": data.get("wards_verified_at"),
        }
    return raw


def _schema_message(code: str, language: Language) -> str:
    return ERROR_MESSAGES[code][language]
