"""The library-card form against hostile input, over HTTP with the sandbox IdP and Koha in-process.

Whatever a citizen (or someone posing as one) posts into any field, markup, any Unicode, oversize,
missing, repeated or unknown fields, the answer is the form again with an error on the field that
is wrong, nothing is queued and no flow is started, and nothing they typed comes back unescaped.
Names and addresses from Suomi.fi with markup in them are shown escaped on every page and reach
the queue exactly as sent. (The property tests of the model itself are in tests/hostile.)"""

from __future__ import annotations

import re
import sys
from pathlib import Path
from urllib.parse import urlencode, urlsplit

import lxml.html
from eservice_support import csrf_of
from hypothesis import example, given, settings
from hypothesis import strategies as st
from markupsafe import escape

from apps.eservice.routes.application import FIELD_TARGETS, FORM_FIELDS
from apps.eservice.web import MAX_FORM_BYTES, MAX_FORM_FIELDS
from connectors.suomifi_tunnistus.sandbox.persons import PERSONS
from schemas.library_card import PROCESS, LibraryCardApplication

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "hostile"))
from hostile_support import MARKUP, PROPERTY

VALID = {
    "home_library": "JYVVAA",
    "email": "aino@example.org",
    "phone": "040 123 4567",
    "language": "fi",
    "notification_preference": "email",
    "rules_accepted": "yes",
}


def queued(eservice) -> list:
    return eservice.queue.list(process=PROCESS)


def assert_nothing_queued(eservice) -> None:
    assert queued(eservice) == [] and eservice.trigger.items == []


def assert_escaped(page: str, *typed: str) -> None:
    """No element or event handler an attacker could have planted, and no typed value verbatim."""
    document = lxml.html.fromstring(page)
    # The status page's own script (static/status.js) is the one script the e-service serves; no other, and none inline.
    scripts = [(element.get("src"), (element.text or "").strip()) for element in document.xpath("//script")]
    assert set(scripts) <= {("/static/status.js", "")}, f"injected scripts in the page: {scripts}"
    assert not document.xpath("//svg | //iframe | //img | //textarea"), "injected elements in the page"
    handlers = [name for element in document.iter() if isinstance(element.tag, str) for name in element.attrib if name.lower().startswith("on")]
    assert handlers == [], f"event handler attributes in the page: {handlers}"
    for value in typed:
        if re.search(r"<[A-Za-z/!?]|\"\s*>", value):  # it would open a tag or close an attribute
            assert value not in page


def assert_error_on(page, field: str) -> None:
    assert page.status_code == 400, page.text[:500]
    assert f'id="{field}-error"' in page.text or f'<a href="#{FIELD_TARGETS[field]}">' in page.text, f"no error shown on {field}"
    assert f'<a href="#{FIELD_TARGETS[field]}">' in page.text, f"the error summary does not link to {field}"


def post_form(citizen, page, form: dict[str, str]):
    return citizen.post("/apply", {**form, "csrf_token": csrf_of(page.text)})


# --------------------------------------------------------------------------- every field, any value


hostile_values = st.one_of(
    st.sampled_from(MARKUP),
    st.builds(lambda text, markup, cut: text[:cut] + markup + text[cut:], st.text(max_size=40), st.sampled_from(MARKUP), st.integers(0, 40)),
    st.builds(lambda text: text + "<", st.text(max_size=600)),
)


def test_markup_or_junk_in_any_field_is_shown_back_escaped_with_the_error_on_that_field_and_nothing_queued(eservice):
    citizen = eservice.citizen()
    page = citizen.log_in("aino")
    assert page.status_code == 200 and page.request.url.path == "/apply"

    @settings(PROPERTY, max_examples=40)
    @given(st.sampled_from(FORM_FIELDS), hostile_values)
    @example("email", '"><script>alert(document.cookie)</script>')
    @example("phone", "<img src=x onerror=alert(1)>")
    @example("home_library", "<script>alert(1)</script>")
    @example("language", "fi<script>")
    @example("notification_preference", "</textarea><svg onload=alert(1)>")
    @example("rules_accepted", "yes<script>")
    def check(field, value):
        answer = post_form(citizen, page, {**VALID, field: value})
        assert_error_on(answer, field)
        assert_escaped(answer.text, value)
        if field in ("email", "phone"):
            assert f'value="{escape(value)}"' in answer.text, "the typed value is not offered back for correcting"
        assert_nothing_queued(eservice)

    check()


def test_each_missing_field_is_named_and_nothing_is_queued(eservice):
    citizen = eservice.citizen()
    page = citizen.log_in("aino")
    for field in FORM_FIELDS:
        if field == "phone":
            continue  # optional
        answer = post_form(citizen, page, {k: v for k, v in VALID.items() if k != field})
        assert_error_on(answer, field)
        assert_nothing_queued(eservice)
    everything_missing = post_form(citizen, page, {})
    assert everything_missing.status_code == 400
    for field in ("home_library", "language", "notification_preference", "rules_accepted"):
        assert f'<a href="#{FIELD_TARGETS[field]}">' in everything_missing.text
    assert_nothing_queued(eservice)


def test_oversize_repeated_unknown_and_undecodable_posts_are_refused_without_queueing(eservice):
    citizen = eservice.citizen()
    page = citizen.log_in("aino")
    token = csrf_of(page.text)

    huge = citizen.post("/apply", {**VALID, "csrf_token": token, "email": "a" * MAX_FORM_BYTES + "@example.org"})
    assert huge.status_code == 413
    assert_nothing_queued(eservice)

    too_many = citizen.client.post(
        "/apply",
        content=urlencode([("csrf_token", token)] + [(f"x{i}", "<script>") for i in range(MAX_FORM_FIELDS + 1)]),
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    assert too_many.status_code == 400 and "<script" not in too_many.text.lower()
    assert_nothing_queued(eservice)

    not_utf8 = citizen.client.post(
        "/apply", content=b"csrf_token=" + token.encode() + b"&email=\xff\xfe%3Cscript%3E", headers={"content-type": "application/x-www-form-urlencoded"}
    )
    assert not_utf8.status_code == 400 and "<script" not in not_utf8.text.lower()
    assert_nothing_queued(eservice)

    # unknown fields are ignored (never rendered); a repeated field counts once, by its first value
    extra = citizen.client.post(
        "/apply",
        content=urlencode(
            [*VALID.items(), ("csrf_token", token), ("email", "<script>alert(1)</script>"), ("applicant.hetu", "010101-0101"), ("is_admin", "<svg onload=x>")]
        ),
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    assert extra.status_code == 303 and extra.headers["location"] == "/status"
    [item] = queued(eservice)
    application = LibraryCardApplication.model_validate(item.payload)
    assert application.email == "aino@example.org" and application.applicant.hetu.value == PERSONS["aino"].hetu
    assert "is_admin" not in str(item.payload) and "<" not in str(item.payload)
    assert len(eservice.trigger.items) == 1


# --------------------------------------------------------------------------- markup in what Suomi.fi sends


def log_in_with_attributes(citizen, person: str, attributes: dict[str, list[str]]):
    """Log in through the sandbox IdP as ``person`` with some attributes replaced (what a compromised
    or buggy population register might send), posted to the ACS as the browser would."""
    redirect = citizen.start_login()
    idp = citizen.eservice.neighbours.idp_app.state.sandbox.idp
    request = idp.parse_authn_request(urlsplit(redirect.headers["location"]).query)
    issued = idp.login(PERSONS[person], request.request_id, sp_entity_id=request.issuer, acs_url=request.acs_url, attributes=attributes)
    acs = citizen.post_to_acs({"SAMLResponse": issued.saml_response, "RelayState": request.relay_state})
    return acs


SCRIPTED_NAME = "<script>alert('etunimi')</script>"
SCRIPTED_SURNAME = '"><img src=x onerror=alert(1)>Virtanen'
SCRIPTED_STREET = "Kauppakatu 1 <svg onload=alert(2)>"


def test_markup_in_the_names_and_address_from_suomi_fi_is_escaped_on_every_page_and_queued_as_sent(eservice):
    citizen = eservice.citizen()
    acs = log_in_with_attributes(
        citizen,
        "aino",
        {"FirstName": [SCRIPTED_NAME], "givenName": [SCRIPTED_NAME], "sn": [SCRIPTED_SURNAME], "VakinainenKotimainenLahiosoiteS": [SCRIPTED_STREET]},
    )
    assert acs.status_code == 303, acs.text
    form = citizen.follow(citizen.get(acs.headers["location"]))
    assert form.status_code == 200 and form.request.url.path == "/apply"
    assert_escaped(form.text, SCRIPTED_NAME, SCRIPTED_SURNAME, SCRIPTED_STREET)
    assert str(escape(SCRIPTED_NAME)) in form.text and str(escape(SCRIPTED_STREET)) in form.text

    refused = post_form(citizen, form, {**VALID, "email": "<b>"})
    assert refused.status_code == 400
    assert_escaped(refused.text, SCRIPTED_NAME, SCRIPTED_SURNAME, SCRIPTED_STREET)

    sent = post_form(citizen, form, VALID)
    assert sent.status_code == 303
    status = citizen.follow(sent)
    assert status.status_code == 200
    assert_escaped(status.text, SCRIPTED_NAME, SCRIPTED_SURNAME, SCRIPTED_STREET)
    [item] = queued(eservice)
    applicant = LibraryCardApplication.model_validate(item.payload).applicant
    assert (applicant.first_names, applicant.surname, applicant.permanent_address.street_address) == (SCRIPTED_NAME, SCRIPTED_SURNAME, SCRIPTED_STREET)


def test_a_name_from_suomi_fi_with_control_or_direction_characters_ends_the_login_with_no_session(eservice):
    for bad in ("Aino\u202eniaM", "\u2066Aino\u2069", "\ufeffAino"):  # XML cannot carry C0 controls at all
        citizen = eservice.citizen()
        acs = log_in_with_attributes(citizen, "aino", {"FirstName": [bad], "givenName": [bad]})
        assert acs.status_code == 400, acs.text
        assert_escaped(acs.text, bad)
        assert "\u202e" not in acs.text and "\x1b" not in acs.text
        assert citizen.get("/apply").status_code == 401
    assert_nothing_queued(eservice)
