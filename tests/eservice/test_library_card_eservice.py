"""The library-card e-service over HTTP: Suomi.fi login through the sandbox IdP, the form, the
queue, the status page, single logout, and what must never happen (a hetu in a URL or a log,
an application without CSRF token, a second application for the same person)."""

from __future__ import annotations

import base64
import json
import logging
import re
from dataclasses import replace
from datetime import date
from urllib.parse import parse_qs, urlsplit

from eservice_support import ESERVICE, IDP, ScriptedKoha, build_eservice, csrf_of, hetu_of
from fastapi.testclient import TestClient
from itsdangerous import TimestampSigner

from apps.eservice.app import create_app
from apps.eservice.libraries import LibraryDirectory
from apps.eservice.sessions import Kind
from apps.eservice.settings import EserviceSettings
from connectors.sandbox_people import NAMED, Population, SandboxPerson
from connectors.suomifi_valtuudet.sandbox import create_app as create_valtuudet
from kuntaflow.settings import KuntaflowSettings
from schemas.hetu import check_character, hetu_key
from schemas.library_card import PROCESS, GuardianshipVerification, LibraryCardApplication, ReasonCode, check_library_rules

VALID = {
    "home_library": "JYVVAA",
    "email": "aino@example.org",
    "phone": "040 123 4567",
    "language": "fi",
    "notification_preference": "email",
    "rules_accepted": "yes",
}


def submit(citizen, page, **changes):
    form = {**VALID, **changes, "csrf_token": csrf_of(page.text)}
    return citizen.post("/apply", {k: v for k, v in form.items() if v is not None})


def items(eservice):
    return eservice.queue.list(process=PROCESS)


# --------------------------------------------------------------------------- the happy path


def test_the_form_shows_the_verified_identity_read_only_with_the_hetu_masked(eservice):
    citizen = eservice.citizen()
    page = citizen.log_in("aino")
    assert page.status_code == 200 and page.request.url.path == "/apply"
    text = page.text
    assert "Aino Maria Virtanen" in text and "150385-****" in text and hetu_of("aino") not in text
    assert "Kauppakatu 12 A 3" in text and "40100 JYVÄSKYLÄ" in text and "Jyväskylä" in text
    # identity is shown, not asked: the form's only inputs are the citizen's choices
    names = set(re.findall(r'<(?:input|select)[^>]*name="([^"]+)"', text))
    assert names == {"csrf_token", "home_library", "email", "phone", "language", "notification_preference", "rules_accepted"}
    # the home libraries come from Koha
    assert '<option value="JYVVAA">Vaajakosken kirjasto</option>' in text and "Äänekosken kaupunginkirjasto" in text
    assert 'href="https://keski.finna.fi/Content/kayttosaannot"' in text


def test_an_application_is_validated_queued_under_the_hetu_key_triggered_and_followed(eservice):
    citizen = eservice.citizen()
    page = citizen.log_in("aino")
    response = submit(citizen, page)
    assert response.status_code == 303 and response.headers["location"] == "/status"

    [item] = items(eservice)
    assert item.reference == hetu_key(hetu_of("aino"), KuntaflowSettings().salt())
    application = LibraryCardApplication.model_validate(item.payload)
    assert application.applicant.hetu == hetu_of("aino") and application.guardian is None
    assert application.applicant.permanent_address.street_address == "Kauppakatu 12 A 3"
    assert (application.home_library, application.email, application.phone) == ("JYVVAA", "aino@example.org", "0401234567")
    assert application.notification_preference.value == "email" and application.rules_accepted
    assert [triggered.id for triggered in eservice.trigger.items] == [item.id]

    status = citizen.follow(response)
    assert status.status_code == 200
    assert "Hakemus on lähetetty." in status.text and "Hakemus on vastaanotettu" in status.text
    assert "Vaajakosken kirjasto" in status.text and f"<dd>{item.id}</dd>" in status.text
    assert "http-equiv" not in status.text  # a page that reloads itself fails WCAG 2.2.1
    assert 'data-poll-seconds="2' in status.text and "/static/status.js" in status.text
    assert '<form method="get" action="/status" id="check-again"' in status.text and "Tarkista tilanne uudelleen" in status.text
    assert 'aria-current="step">Vastaanotettu' in status.text


def test_the_status_page_follows_the_work_item_to_the_decision(eservice):
    citizen = eservice.citizen()
    submit(citizen, citizen.log_in("aino"))
    [item] = items(eservice)
    eservice.queue.claim(PROCESS, owner="robot")
    processing = citizen.get("/status")
    assert "Hakemusta käsitellään" in processing.text and 'id="check-again"' in processing.text

    eservice.queue.checkpoint(item.id, "rules_checked", {"reason": "CARD_GRANTED", "decided_on": "2026-11-25", "library_name": "Vaajakosken kirjasto"})
    eservice.queue.complete(item.id, output={"reason": "CARD_GRANTED", "library_id": "JYVVAA", "expiry_date": "2031-11-25"}, owner="robot")
    ready = citizen.get("/status")
    assert "Kirjastokorttisi on valmis" in ready.text
    assert "Voit noutaa kortin kirjastosta Vaajakosken kirjasto" in ready.text
    assert "kuvallinen henkilöllisyystodistus" in ready.text and "PIN-koodin" in ready.text and "25.11.2031" in ready.text
    assert 'id="check-again"' not in ready.text and "status.js" not in ready.text  # nothing left to wait for

    english = citizen.get("/language/en", params={"next": "/status"})
    assert citizen.follow(english).text.count("Your library card is ready") == 1


def test_applying_twice_shows_the_existing_application_instead_of_a_second_one(eservice):
    citizen = eservice.citizen()
    page = citizen.log_in("aino")
    submit(citizen, page)
    again = submit(citizen, page)  # the same form sent again (back button, double click)
    assert again.status_code == 303 and again.headers["location"] == "/status"
    assert "jo tehty kirjastokorttihakemus" in citizen.follow(again).text
    form = citizen.get("/apply")
    assert form.status_code == 303 and form.headers["location"] == "/status"

    later = eservice.citizen()  # another day, another browser: the login lands on the status page
    landing = later.log_in("aino")
    assert landing.request.url.path == "/status" and "Hakemus on vastaanotettu" in landing.text
    assert len(items(eservice)) == 1 and len(eservice.trigger.items) == 1


# --------------------------------------------------------------------------- guardians


def test_a_guardian_applies_for_their_child_and_becomes_the_guarantor(eservice):
    citizen = eservice.citizen()
    own_form = citizen.log_in("mikko")
    assert own_form.request.url.path == "/apply" and 'href="/apply/for"' in own_form.text
    choose = citizen.get("/apply/for")
    assert "Itselleni (Mikko Juhani Korhonen)" in choose.text and "Suomi.fi-valtuuksissa" in choose.text
    form = citizen.follow(citizen.pick_in_valtuudet(choose, "eetu"))
    assert "Kirjastokorttihakemus lapselle" in form.text and "Eetu Matias Korhonen" in form.text and "120318A****" in form.text
    assert "Sinusta (Mikko Juhani Korhonen) tulee lapsen kirjastokortin takaaja" in form.text
    assert hetu_of("eetu") not in form.text and hetu_of("mikko") not in form.text

    response = submit(citizen, form, email="mikko.korhonen@example.org")
    assert response.status_code == 303
    [item] = items(eservice)
    assert item.reference == hetu_key(hetu_of("eetu"), KuntaflowSettings().salt())
    application = LibraryCardApplication.model_validate(item.payload)
    assert application.applicant.hetu == hetu_of("eetu") and application.applicant.first_names == "Eetu Matias"
    # Valtuudet tells no address: the guardian's is the child's, so the address rule can pass.
    assert (application.applicant.home_municipality_code, application.applicant.permanent_address.postal_code) == ("992", "44100")
    assert check_library_rules(application, today=date(2026, 11, 25)) is ReasonCode.CARD_GRANTED
    assert application.guardian.hetu == hetu_of("mikko")
    assert application.guardian.relationship_verified_by is GuardianshipVerification.SUOMI_FI_VALTUUDET
    assert application.guardian.relationship_verified_at is not None
    assert application.recipient.hetu == hetu_of("mikko")

    status = citizen.follow(response)
    assert "Hakemus lapselle Eetu Matias" in status.text
    # the guardian can still apply for themselves: the choice page stays reachable and offers Eetu again
    assert 'href="/apply/for"' in status.text
    assert "Lapselleni: Eetu Matias Korhonen, syntynyt 12.3.2018" in citizen.get("/apply/for").text


def test_a_child_of_15_is_not_taken_and_the_guardian_may_apply_for_themselves(eservice):
    citizen = eservice.citizen()
    citizen.log_in("sanna")
    choose = citizen.get("/apply/for")
    over_15 = citizen.follow(citizen.pick_in_valtuudet(choose, "ella"))  # Valtuudet allows it, but Ella is 15: she applies herself
    assert "15 vuotta täyttänyt hakee korttia itse" in over_15.text
    choose = citizen.get("/apply/for")
    assert "Ella" not in choose.text
    missing = citizen.post("/apply/for", {"csrf_token": csrf_of(choose.text)})
    assert missing.status_code == 400 and "Valitse, kenelle haet korttia." in missing.text and 'href="#applicant-0"' in missing.text
    forged = citizen.post("/apply/for", {"applicant": "ward-7", "csrf_token": csrf_of(choose.text)})
    assert forged.status_code == 400
    own = citizen.follow(citizen.post("/apply/for", {"applicant": "self", "csrf_token": csrf_of(choose.text)}))
    assert "Sanna Kristiina Laine" in own.text and "takaaja" not in own.text


def test_a_guardian_who_cancels_in_valtuudet_or_replays_the_return_gets_no_ward(eservice):
    citizen = eservice.citizen()
    citizen.log_in("sanna")
    cancelled = citizen.pick_in_valtuudet(citizen.get("/apply/for"), None, action="cancel")
    assert "Lasta ei valittu" in citizen.follow(cancelled).text
    back = citizen.pick_in_valtuudet(citizen.get("/apply/for"), "onni")
    assert back.status_code == 303 and back.headers["location"] == "/apply"
    replayed = citizen.get(urlsplit(citizen.urls_seen[-2]).path + "?" + urlsplit(citizen.urls_seen[-2]).query)
    assert replayed.status_code == 400  # the pending registration was used once
    assert "Onni Eemeli Laine" in citizen.get("/apply").text


def test_a_person_valtuudet_does_not_allow_is_not_taken(neighbours, monkeypatch):
    """Mikko's grown-up son is in his family, but at 26 no guardian acts for him: Valtuudet says DISALLOWED."""
    monkeypatch.setenv("KUNTAFLOW_SUOMIFI_SANDBOX_IDP_URL", IDP)
    grown_up = SandboxPerson(
        key="ville",
        hetu="150600A" + "950" + check_character("150600950"),
        first_names="Ville Juhani",
        surname="Korhonen",
        description={"fi": "Aikuinen poika", "sv": "Vuxen son", "en": "Grown-up son"},
    )
    family = [replace(person, children=(*person.children, "ville")) if person.key == "mikko" else person for person in NAMED.values()]
    valtuudet = create_valtuudet(people=Population([*family, grown_up]))
    built = build_eservice(replace(neighbours, valtuudet_app=valtuudet))
    with TestClient(built.app):
        citizen = built.citizen()
        citizen.log_in("mikko")
        refused = citizen.follow(citizen.pick_in_valtuudet(citizen.get("/apply/for"), "ville"))
        assert "Et voi hakea korttia tämän henkilön puolesta" in refused.text
        assert "Ville" not in citizen.get("/apply/for").text and not items(built)


def test_a_child_cannot_apply_alone(eservice):
    citizen = eservice.citizen()
    page = citizen.log_in("onni")
    assert page.request.url.path == "/apply"
    assert "Alle 15-vuotiaan kirjastokorttia hakee huoltaja" in page.text and 'name="home_library"' not in page.text
    refused = citizen.post("/apply", {**VALID, "csrf_token": csrf_of(page.text)})
    assert refused.status_code == 200 and "Alle 15-vuotiaan" in refused.text
    assert items(eservice) == []


def test_an_eidas_user_is_shown_by_birth_date_and_keyed_by_the_person_identifier(eservice):
    citizen = eservice.citizen()
    page = citizen.log_in("erik")
    assert "Syntymäaika" in page.text and "15.5.1990" in page.text and "eurooppalaisella tunnistusvälineellä" in page.text
    submit(citizen, page, email="erik@example.se")
    [item] = items(eservice)
    assert item.reference.startswith("eidas-") and "199005151234" not in item.reference
    assert LibraryCardApplication.model_validate(item.payload).applicant.eidas_person_identifier == "SE/FI/199005151234"


def test_a_person_with_a_non_disclosure_marking_sees_no_address(eservice):
    citizen = eservice.citizen()
    page = citizen.log_in("tuuli")
    assert "Turvakielto: osoitetta ei näytetä" in page.text and "Salainen tie" not in page.text
    submit(citizen, page)
    [item] = items(eservice)
    application = LibraryCardApplication.model_validate(item.payload)
    assert application.applicant.non_disclosure and application.applicant.permanent_address is None


# --------------------------------------------------------------------------- invalid input


def test_invalid_input_gets_specific_errors_at_each_field_and_nothing_is_queued(eservice):
    citizen = eservice.citizen()
    page = citizen.log_in("aino")
    response = submit(citizen, page, home_library="", email="not-an-address", phone="12ab", rules_accepted=None)
    assert response.status_code == 400
    text = response.text
    assert "<title>Virhe: Kirjastokorttihakemus" in text
    summary = text.split('id="error-summary"')[1].split("</div>")[0]
    assert 'role="alert"' in text.split('id="error-summary"')[0][-200:]
    links = re.findall(r'<a href="#([^"]+)">([^<]+)</a>', summary)
    assert [target for target, _ in links] == ["home_library", "email", "phone", "rules_accepted"]
    assert dict(links)["rules_accepted"] == "Kirjastokortin saa, kun hyväksyt kirjaston käyttösäännöt."
    assert dict(links)["email"].startswith("Sähköpostiosoite ei ole oikeassa muodossa")
    assert dict(links)["home_library"] == "Valitse kotikirjasto listasta."
    assert dict(links)["phone"].startswith("Puhelinnumerossa voi olla vain numeroita")
    for field in ("home_library", "email", "phone"):
        control = re.search(rf'<(?:input|select)[^>]*id="{field}"[^>]*>', text).group(0)
        assert f'aria-describedby="{field}-hint {field}-error"' in control and 'aria-invalid="true"' in control
        assert f'id="{field}-error"' in text
    assert 'aria-describedby="rules_accepted-hint rules_accepted-error"' in text
    assert 'value="not-an-address"' in text and 'value="12ab"' in text  # what was typed stays
    assert items(eservice) == [] and eservice.trigger.items == []


def test_errors_are_in_the_citizens_language(eservice):
    citizen = eservice.citizen()
    citizen.get("/language/sv", params={"next": "/"})
    page = citizen.log_in("aino")
    assert '<html lang="sv">' in page.text and "Ansökan om bibliotekskort" in page.text
    response = submit(citizen, page, rules_accepted=None)
    assert "Du får ett bibliotekskort när du godkänner bibliotekets regler." in response.text and "<title>Fel: " in response.text
    across = submit(citizen, page, notification_preference="email", email="")  # a rule across fields …
    assert "Ange en e-postadress om du vill få beskedet per e-post." in across.text
    assert 'href="#email"' in across.text and 'id="email-error"' in across.text  # … shown at the e-mail field


def test_html_and_script_in_fields_are_escaped_and_rejected(eservice):
    citizen = eservice.citizen()
    page = citizen.log_in("aino")
    attack = '"><script>alert(1)</script>'
    response = submit(citizen, page, email=f"x{attack}@example.org", phone=f"<b>{attack}</b>", home_library=f"JYV{attack}")
    assert response.status_code == 400
    assert "<script>alert(1)</script>" not in response.text and "<b>" not in response.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in response.text
    assert "Valitse kotikirjasto listasta." in response.text
    assert items(eservice) == []


def test_oversize_fields_and_bodies_are_refused(eservice):
    citizen = eservice.citizen()
    page = citizen.log_in("aino")
    long_email = "a" * 250 + "@example.org"
    response = submit(citizen, page, email=long_email, phone="1" * 40)
    assert response.status_code == 400
    assert "Sähköpostiosoite ei ole oikeassa muodossa" in response.text and "Puhelinnumerossa" in response.text
    too_big = submit(citizen, page, email="x" * 20_000)
    assert too_big.status_code == 413 and "Lähetetyt tiedot olivat liian suuret" in too_big.text
    assert items(eservice) == []


def test_an_unknown_library_and_forged_choices_are_refused(eservice):
    citizen = eservice.citizen()
    page = citizen.log_in("aino")
    response = submit(citizen, page, home_library="NOPE", language="de", notification_preference="pigeon")
    assert response.status_code == 400
    assert "Valitse kotikirjasto listasta." in response.text
    assert 'href="#language-fi"' in response.text and 'href="#notification_preference-suomifi"' in response.text
    assert items(eservice) == []


# --------------------------------------------------------------------------- CSRF, cookies, privacy


def test_posts_without_the_csrf_token_are_refused_and_do_nothing(eservice):
    citizen = eservice.citizen()
    page = citizen.log_in("aino")
    for token in (None, "", "forged-token-" + "x" * 40):
        form = {**VALID} | ({"csrf_token": token} if token is not None else {})
        response = citizen.post("/apply", form)
        assert response.status_code == 403 and "Lomakkeen lähetys ei onnistunut" in response.text
    assert citizen.post("/logout", {}).status_code == 403
    assert citizen.get("/apply").status_code == 200  # still logged in
    other = eservice.citizen()
    other.get("/")
    assert other.post("/login", {"csrf_token": csrf_of(page.text)}).status_code == 403  # another browser's token
    assert citizen.client.post("/apply", content=json.dumps(VALID), headers={"content-type": "application/json"}).status_code == 403
    assert items(eservice) == [] and eservice.trigger.items == []


def _cookie_header(response) -> str:
    [cookie] = [value for name, value in response.headers.multi_items() if name == "set-cookie"]
    return cookie


def test_the_session_cookie_is_httponly_lax_and_carries_nothing_personal(eservice):
    citizen = eservice.citizen()
    page = citizen.log_in("aino")
    header = _cookie_header(citizen.get("/language/fi", params={"next": "/apply"}))
    assert header.startswith("kuntaflow_session=") and "httponly" in header.lower() and "samesite=lax" in header.lower()
    assert "secure" not in header.lower()  # http://127.0.0.1 local run
    value = citizen.client.cookies["kuntaflow_session"]
    payload = json.loads(
        base64.b64decode(TimestampSigner(eservice.app.state.services.settings.resolved_secret_key(KuntaflowSettings()).get_secret_value()).unsign(value))
    )
    assert set(payload) <= {"lang", "csrf", "sid", "notice", "login", "slo"}
    assert hetu_of("aino") not in json.dumps(payload) and "Aino" not in json.dumps(payload)
    assert page.headers["cache-control"] == "no-store"
    csp = page.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp and "frame-ancestors 'none'" in csp and f"form-action 'self' {IDP}" in csp


def test_cookies_are_secure_when_the_service_is_on_https(neighbours, monkeypatch):
    monkeypatch.setenv("KUNTAFLOW_SUOMIFI_SANDBOX_IDP_URL", IDP)
    local = build_eservice(neighbours)
    services = local.app.state.services
    https = create_app(
        EserviceSettings(base_url="https://asiointi.example.fi", trigger="none"), login=services.login, libraries=services.libraries, trigger=local.trigger
    )
    header = _cookie_header(TestClient(https, base_url="https://asiointi.example.fi").get("/"))
    assert "secure" in header.lower() and "httponly" in header.lower() and "samesite=lax" in header.lower()
    forced_off = create_app(
        EserviceSettings(base_url="https://asiointi.example.fi", cookie_secure=False, trigger="none"),
        login=services.login,
        libraries=services.libraries,
        trigger=local.trigger,
    )
    assert "secure" not in _cookie_header(TestClient(forced_off, base_url="https://asiointi.example.fi").get("/")).lower()


def test_no_hetu_in_any_url_redirect_page_or_log_line(eservice, caplog):
    caplog.set_level(logging.DEBUG)
    hetus = [hetu_of(person) for person in ("mikko", "eetu")]
    citizen = eservice.citizen()
    bodies = []
    bodies.append(citizen.log_in("mikko").text)
    choose = citizen.get("/apply/for")
    bodies.append(choose.text)
    form = citizen.follow(citizen.pick_in_valtuudet(choose, "eetu"))
    bodies.append(form.text)
    bodies.append(submit(citizen, form, email="bad").text)
    status = citizen.follow(submit(citizen, form))
    bodies.append(status.text)
    bodies.append(citizen.post("/logout", {"csrf_token": csrf_of(status.text)}).text)
    assert len(citizen.urls_seen) > 10
    for hetu in hetus:
        assert not [url for url in citizen.urls_seen if hetu in url]
        assert not [body for body in bodies if hetu in body]
        assert hetu not in caplog.text
    assert "queued as work item" in caplog.text


def test_an_unexpected_error_shows_a_plain_page_and_the_log_masks_the_hetu(eservice, caplog, monkeypatch):
    hetu = hetu_of("aino")

    def broken_add(*args, **kwargs):
        raise RuntimeError(f"database said something about {hetu}")

    citizen = eservice.citizen(raise_server_exceptions=False)
    page = citizen.log_in("aino")
    monkeypatch.setattr(eservice.queue, "add", broken_add)
    response = submit(citizen, page)
    assert response.status_code == 500 and "Palvelussa tapahtui virhe" in response.text
    assert hetu not in response.text and "RuntimeError" not in response.text and "database said" not in response.text
    assert "database said something about ******-****" in caplog.text and hetu not in caplog.text


# --------------------------------------------------------------------------- the login itself


def test_the_authn_request_asks_in_the_citizens_language_with_locale_last(eservice):
    citizen = eservice.citizen(headers={"accept-language": "sv-FI,sv;q=0.9"})
    redirect = citizen.start_login()
    location = redirect.headers["location"]
    assert location.endswith("&locale=sv")
    query = parse_qs(urlsplit(location).query)
    assert set(query) == {"SAMLRequest", "RelayState", "SigAlg", "Signature", "locale"}
    assert eservice.sessions.load(Kind.LOGIN, query["RelayState"][0]) is not None  # kept server-side by RelayState


def test_an_answer_is_used_once_and_only_by_the_browser_that_asked(eservice):
    victim = eservice.citizen()
    victim.get("/")
    attacker = eservice.citizen()
    fields = attacker.idp_answer(attacker.start_login(), "aino")
    replay = dict(fields)
    first = victim.post_to_acs(fields)  # the attacker's answer pushed into the victim's browser …
    assert first.status_code == 303
    landing = victim.get(first.headers["location"])
    assert landing.status_code == 400 and "Tunnistautuminen ei onnistunut" in landing.text  # … logs nobody in
    assert victim.get("/apply").status_code == 401
    again = attacker.post_to_acs(replay)
    assert again.status_code == 400  # the RelayState (and the request id) were used up
    unknown = attacker.post_to_acs({**replay, "RelayState": "made-up"})
    assert unknown.status_code == 400


def test_a_cancelled_or_tampered_login_shows_a_clear_error(eservice):
    citizen = eservice.citizen()
    cancelled = citizen.idp_answer(citizen.start_login(), "aino", action="cancel")
    response = citizen.post_to_acs(cancelled)
    assert response.status_code == 400 and "Tunnistautuminen ei onnistunut" in response.text
    fields = citizen.idp_answer(citizen.start_login(), "aino")
    raw = base64.b64decode(fields["SAMLResponse"]).replace(b"Destination=", b"Destinatio2=", 1)
    tampered = citizen.post_to_acs({**fields, "SAMLResponse": base64.b64encode(raw).decode()})
    assert tampered.status_code == 400
    assert citizen.get("/apply").status_code == 401


def test_pages_behind_the_login_say_so_and_offer_the_login(eservice):
    citizen = eservice.citizen()
    for path in ("/apply", "/apply/for", "/status"):
        response = citizen.get(path)
        assert response.status_code == 401 and "Et ole tunnistautunut" in response.text
    assert citizen.get("/nope").status_code == 404


# --------------------------------------------------------------------------- single logout


def test_logout_ends_the_local_session_first_then_suomifi_single_logout(eservice):
    citizen = eservice.citizen()
    page = citizen.log_in("aino")
    sid = _sid(eservice, citizen)
    response = citizen.post("/logout", {"csrf_token": csrf_of(page.text)})
    assert response.status_code == 303 and response.headers["location"].startswith(f"{IDP}/idp/profile/SAML2/Redirect/SLO?SAMLRequest=")
    assert eservice.sessions.load(Kind.SESSION, sid) is None  # gone before the browser reaches the IdP
    idp = TestClient(eservice.neighbours.idp_app, base_url=IDP, follow_redirects=False)
    target = urlsplit(response.headers["location"])
    answer = idp.get(f"{target.path}?{target.query}")
    assert answer.status_code == 303 and answer.headers["location"].startswith(f"{ESERVICE}/saml/slo?SAMLResponse=")
    back = urlsplit(answer.headers["location"])
    done = citizen.follow(citizen.get(f"{back.path}?{back.query}"))
    assert done.request.url.path == "/logged-out" and "Olet kirjautunut ulos" in done.text
    assert citizen.get("/status").status_code == 401


def test_a_refused_logout_answer_still_leaves_the_citizen_logged_out(eservice):
    citizen = eservice.citizen()
    page = citizen.log_in("aino")
    response = citizen.post("/logout", {"csrf_token": csrf_of(page.text)})
    idp = TestClient(eservice.neighbours.idp_app, base_url=IDP, follow_redirects=False)
    target = urlsplit(response.headers["location"])
    back = urlsplit(idp.get(f"{target.path}?{target.query}").headers["location"])
    forged = back.query.replace("Signature=", "Signature=AAAA")
    done = citizen.get(f"{back.path}?{forged}")
    assert done.status_code == 303 and done.headers["location"] == "/logged-out"
    assert citizen.get("/status").status_code == 401


def test_an_idp_initiated_logout_ends_the_session_without_cookies(eservice):
    citizen = eservice.citizen()
    citizen.log_in("aino")
    idp = TestClient(eservice.neighbours.idp_app, base_url=IDP, follow_redirects=False)
    state = eservice.neighbours.idp_app.state.sandbox
    [session_id] = [
        key for key, session in state.sessions.items() if session.person_key == "aino" and session.sp_entity_id == eservice.neighbours.sp.settings.sp_entity_id
    ][-1:]
    frame = idp.post(f"/_sandbox/sessions/{session_id}/logout")
    url = re.search(r'src="([^"]+/saml/slo\?SAMLRequest=[^"]+)"', frame.text).group(1).replace("&amp;", "&")
    bare = TestClient(eservice.app, base_url=ESERVICE, follow_redirects=False)  # an iframe: no cookies
    target = urlsplit(url)
    answer = bare.get(f"{target.path}?{target.query}")
    assert answer.status_code == 303 and answer.headers["location"].startswith(f"{IDP}/idp/profile/SAML2/Redirect/SLO?SAMLResponse=")
    assert f"frame-ancestors {IDP}" in answer.headers["content-security-policy"]
    assert citizen.get("/status").status_code == 401
    refused = bare.get(f"/saml/slo?{target.query.replace('Signature=', 'Signature=AAAA')}")
    assert refused.status_code == 400


def _sid(eservice, citizen) -> str:
    value = citizen.client.cookies["kuntaflow_session"]
    secret = eservice.app.state.services.settings.resolved_secret_key(KuntaflowSettings()).get_secret_value()
    return json.loads(base64.b64decode(TimestampSigner(secret).unsign(value)))["sid"]


# --------------------------------------------------------------------------- the library system


def test_the_form_says_so_when_the_library_system_is_down(neighbours, monkeypatch):
    monkeypatch.setenv("KUNTAFLOW_SUOMIFI_SANDBOX_IDP_URL", IDP)
    built = build_eservice(neighbours)

    built.app.state.services.libraries = LibraryDirectory(ScriptedKoha([]))
    citizen = built.citizen()
    page = citizen.log_in("aino")
    assert page.status_code == 503 and "Palvelu ei ole juuri nyt käytettävissä" in page.text
    assert built.queue.list(process=PROCESS) == []


def test_the_start_page_is_trilingual_and_accessible(eservice):
    citizen = eservice.citizen()
    for code, title in (("fi", "Hae kirjastokorttia"), ("sv", "Ansök om bibliotekskort"), ("en", "Apply for a library card")):
        page = citizen.follow(citizen.get(f"/language/{code}", params={"next": "/"}))
        assert f'<html lang="{code}">' in page.text and f"<h1>{title}</h1>" in page.text
        assert '<a class="skip-link" href="#main">' in page.text and '<main id="main"' in page.text
        assert 'hreflang="sv"' in page.text and 'aria-current="true"' in page.text
    assert citizen.get("/language/de").status_code == 404
    assert citizen.get("/language/sv", params={"next": "https://evil.example/"}).headers["location"] == "/"
