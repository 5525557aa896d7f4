"""The sandbox Suomi.fi IdP app as a browser and the e-service meet it: picker, auto-post, SLO, persons.

The app is mounted at /suomifi_tunnistus as ``kuntaflow sandbox`` mounts it, so its absolute
URLs (entityID, SSO, SLO) are the ones its metadata announces.
"""

from __future__ import annotations

import html
import os
import re
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest
from lxml import etree
from starlette.applications import Starlette
from starlette.routing import Mount

from connectors.sandbox_people import sandbox_population
from connectors.sandbox_support import SyncASGITransport
from connectors.suomifi_tunnistus import AuthenticationError
from connectors.suomifi_tunnistus.sandbox import create_app
from connectors.suomifi_tunnistus.sandbox.persons import PERSONS, attributes, guardians_of
from connectors.suomifi_tunnistus.sandbox.testing import SamlTestKit, query_of
from schemas import Hetu

MD = "urn:oasis:names:tc:SAML:2.0:metadata"
SPECS = Path(os.environ.get("KUNTAFLOW_SPECS_DIR", Path(__file__).resolve().parents[3] / "shared" / "specs"))
TODAY = date(2026, 11, 25)


@pytest.fixture(scope="module")
def kit(tmp_path_factory) -> SamlTestKit:
    return SamlTestKit.create(tmp_path_factory.mktemp("saml-sandbox"))


@pytest.fixture
def app(kit):
    return create_app(kit.idp)


@pytest.fixture
def browser(app) -> Iterator[httpx.Client]:
    with httpx.Client(transport=SyncASGITransport(Starlette(routes=[Mount("/suomifi_tunnistus", app)])), base_url="http://127.0.0.1:8080") as client:
        yield client


def path_of(url: str) -> str:
    parts = urlsplit(url)
    assert parts.netloc == "127.0.0.1:8080", url
    return f"{parts.path}?{parts.query}" if parts.query else parts.path


def hidden_fields(page: str) -> dict[str, str]:
    return {name: html.unescape(value) for name, value in re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)"', page)}


def pick(browser: httpx.Client, kit: SamlTestKit, person: str | None, *, locale: str = "fi", action: str = "login"):
    """Log in through the picker as a browser would: (AuthnRequest id, the IdP's auto-post page)."""
    redirect = kit.sp.login_request("relay-token", locale=locale)
    picker = browser.get(path_of(redirect.url))
    assert picker.status_code == 200, picker.text
    form = {"login": hidden_fields(picker.text)["login"], "action": action}
    if person:
        form["person"] = person
    return redirect.request_id, browser.post("/suomifi_tunnistus/idp/login", data=form)


def test_a_person_picked_on_the_page_is_posted_to_the_acs_and_logged_in(browser, kit, app):
    request_id, page = pick(browser, kit, "ella")
    assert page.status_code == 200 and page.headers["cache-control"] == "no-store"
    assert re.search(r'<form id="saml-post" method="post" action="http://127.0.0.1:8000/saml/acs">', page.text)
    assert re.search(r'<button type="submit"[^>]*>Jatka', page.text)  # works without JavaScript
    assert 'document.getElementById("saml-post").submit()' in page.text
    fields = hidden_fields(page.text)
    assert fields["RelayState"] == "relay-token"
    identity = kit.sp.process_response(fields["SAMLResponse"], request_id)
    assert identity.hetu == "140211A942V" and identity.hetu.info().age_on(TODAY) == 15
    (session,) = app.state.sandbox.sessions.values()
    assert (session.person_key, session.name_id, session.session_index) == ("ella", identity.session.name_id, identity.session.session_index)


def test_the_picker_is_finnish_first_trilingual_and_usable_without_javascript(browser, kit):
    page = browser.get(path_of(kit.sp.login_request("relay", locale="sv").url)).text
    assert '<html lang="fi">' in page and "<h1>Valitse testihenkilö" in page
    assert '<span lang="sv">Välj testperson</span>' in page and '<span lang="en">Choose a test person</span>' in page
    assert "<legend>Testihenkilöt" in page and "<script" not in page
    for key in PERSONS:
        assert f'<input type="radio" name="person" id="person-{key}" value="{key}"' in page
        assert f'<label for="person-{key}">' in page
    assert PERSONS["tuuli"].description["sv"] in page  # the locale the e-service asked for
    assert re.search(r'<button type="submit" class="primary" name="action" value="login">Tunnistaudu', page)
    assert re.search(r'<button type="submit" class="secondary" name="action" value="cancel" formnovalidate>Peruuta', page)
    assert not any(person.hetu and person.hetu in page for person in PERSONS.values())


def test_any_person_of_the_population_logs_in_by_key(kit):
    people = sandbox_population(12, seed=7)
    generated = people["p0012"]
    app = create_app(kit.idp, people=people)
    with httpx.Client(transport=SyncASGITransport(Starlette(routes=[Mount("/suomifi_tunnistus", app)])), base_url="http://127.0.0.1:8080") as browser:
        redirect = kit.sp.login_request("relay-token")
        picker = browser.get(path_of(redirect.url)).text
        assert 'id="person-other" value="_other"' in picker and 'name="person_key"' in picker
        assert 'id="person-p0001"' not in picker and generated.hetu not in picker  # named ones listed, the rest by key
        form = {"login": hidden_fields(picker)["login"], "action": "login", "person": "_other", "person_key": " P0012 "}
        page = browser.post("/suomifi_tunnistus/idp/login", data=form)
        identity = kit.sp.process_response(hidden_fields(page.text)["SAMLResponse"], redirect.request_id)
        assert identity.hetu == generated.hetu and identity.surname == generated.surname
        assert identity.permanent_address.postal_code == generated.address.postal_code
        index = browser.get("/suomifi_tunnistus/").text
        assert "p0001–p0012" in index and not any(person.hetu and person.hetu in index for person in people)
        listed = browser.get("/suomifi_tunnistus/persons").json()
        assert len(listed) == len(people) and generated.hetu not in str(listed)
        unknown = {"login": hidden_fields(browser.get(path_of(kit.sp.login_request("r").url)).text)["login"], "person": "_other", "person_key": "p0013"}
        assert browser.post("/suomifi_tunnistus/idp/login", data=unknown).status_code == 400


def test_continuing_without_a_person_shows_the_picker_again_with_an_error(browser, kit):
    _, page = pick(browser, kit, None)
    assert page.status_code == 400 and 'role="alert"' in page.text
    assert hidden_fields(page.text)["login"]  # a new chance to pick


def test_cancelling_answers_the_sp_with_a_failure_status(browser, kit):
    request_id, page = pick(browser, kit, None, action="cancel")
    with pytest.raises(AuthenticationError) as raised:
        kit.sp.process_response(hidden_fields(page.text)["SAMLResponse"], request_id)
    assert raised.value.code == "SAML_STATUS"


def test_unsigned_or_altered_authn_requests_and_stale_logins_are_refused(browser, kit):
    url = kit.sp.login_request("relay").url
    unsigned = path_of(url).split("&SigAlg=")[0]
    altered = path_of(url).replace("RelayState=relay", "RelayState=other")
    for path in (unsigned, altered, "/suomifi_tunnistus/idp/profile/SAML2/Redirect/SSO"):
        page = browser.get(path)
        assert page.status_code == 400 and "Tunnistuspyyntö hylättiin" in page.text
    stale = browser.post("/suomifi_tunnistus/idp/login", data={"login": "not-a-login", "person": "aino"})
    assert stale.status_code == 400 and "vanhentunut" in stale.text
    unsigned_post = browser.post("/suomifi_tunnistus/idp/profile/SAML2/POST/SSO", data={"SAMLRequest": "PHg+PC94Pg=="})
    assert unsigned_post.status_code == 400


def test_sp_initiated_logout_ends_the_idp_session_and_answers_the_sp(browser, kit, app):
    request_id, page = pick(browser, kit, "aino")
    identity = kit.sp.process_response(hidden_fields(page.text)["SAMLResponse"], request_id)
    redirect = kit.sp.logout_request(identity.session)
    answer = browser.get(path_of(redirect.url), follow_redirects=False)
    assert answer.status_code == 303 and answer.headers["location"].startswith("http://127.0.0.1:8000/saml/slo?SAMLResponse=")
    outcome = kit.sp.process_logout_response(query_of(answer.headers["location"]), redirect.request_id)
    assert outcome.success and app.state.sandbox.sessions == {}


def test_idp_initiated_logout_runs_in_an_iframe_and_records_the_sps_answer(browser, kit, app):
    request_id, page = pick(browser, kit, "sanna")
    identity = kit.sp.process_response(hidden_fields(page.text)["SAMLResponse"], request_id)
    (session_id,) = app.state.sandbox.sessions
    started = browser.post(f"/suomifi_tunnistus/_sandbox/sessions/{session_id}/logout")
    assert started.status_code == 200
    frame = html.unescape(re.search(r'<iframe src="([^"]+)" title="[^"]+">', started.text).group(1))
    assert frame.startswith("http://127.0.0.1:8000/saml/slo?SAMLRequest=")

    class Sessions:
        def end_sessions(self, target):
            return 1 if target.name_id == identity.session.name_id else 0

    result = kit.sp.handle_logout_request(query_of(frame), Sessions())
    assert result.sessions_ended == 1
    shown = browser.get(path_of(result.url))
    assert shown.status_code == 200 and "Uloskirjautuminen onnistui" in shown.text
    assert app.state.sandbox.logouts == [(result.request_id, True)]
    assert browser.post(f"/suomifi_tunnistus/_sandbox/sessions/{session_id}/logout").status_code == 404


def test_the_index_lists_persons_and_sessions_without_hetus(browser, kit):
    pick(browser, kit, "onni")
    page = browser.get("/suomifi_tunnistus/").text
    assert "Onni Laine" in page and "Kirjaudu ulos" in page and "↓" in page
    assert not any(person.hetu and person.hetu in page for person in PERSONS.values())


def test_persons_endpoints_and_no_invented_guardianship_lookup(browser):
    listed = browser.get("/suomifi_tunnistus/persons").json()
    assert {person["key"] for person in listed} == set(PERSONS)
    assert not any(person.hetu and person.hetu in str(listed) for person in PERSONS.values())
    sanna = next(person for person in listed if person["key"] == "sanna")
    assert (sanna["children"], sanna["guardians"]) == (["ella", "onni"], [])
    children = browser.get("/suomifi_tunnistus/persons/sanna/children").json()
    assert [(child["key"], child["hetu"], child["birth_date"]) for child in children] == [
        ("ella", "140211A942V", "2011-02-14"),
        ("onni", "200516A9379", "2016-05-20"),
    ]
    home = {"street_address": "Väinönkatu 26 B 12", "postal_code": "40100", "post_office": "JYVÄSKYLÄ"}  # Sanna's
    assert all((child["permanent_address"], child["home_municipality_number"], child["home_municipality"]) == (home, "179", "Jyväskylä") for child in children)
    assert browser.post("/suomifi_tunnistus/guardianship/children", json={"guardian_hetu": "070779-912Y"}).status_code in (404, 405)
    assert browser.get("/suomifi_tunnistus/persons/nobody/children").status_code == 404


def test_faults_make_the_idp_unavailable(browser, kit, app):
    app.state.faults.fail_next(1, kind="error")
    assert browser.get(path_of(kit.sp.login_request("relay").url)).status_code == 503


def test_the_metadata_has_the_shape_of_dvvs(browser, kit):
    served = browser.get("/suomifi_tunnistus/static/metadata/idp-metadata.xml")
    assert served.headers["content-type"].startswith("application/samlmetadata+xml")
    ours = etree.fromstring(served.content)
    real = etree.fromstring((SPECS / "suomifi" / "tunnistus" / "idp-metadata-secondary.xml").read_bytes())

    def shape(root):
        idp = root.find(f"{{{MD}}}IDPSSODescriptor")
        services = sorted(
            (etree.QName(element).localname, element.get("Binding"), urlsplit(element.get("Location")).path.removeprefix("/suomifi_tunnistus"))
            for element in idp
            if element.get("Binding")
        )
        return {
            "entity": urlsplit(root.get("entityID")).path.rsplit("/", 1)[-1],
            "signed requests": idp.get("WantAuthnRequestsSigned"),
            "signing keys": [key.get("use") for key in idp.findall(f"{{{MD}}}KeyDescriptor")],
            "name id": idp.findtext(f"{{{MD}}}NameIDFormat"),
            "services": services,
            "children": sorted({etree.QName(element).localname for element in root if isinstance(element.tag, str)} - {"Signature"}),
        }

    assert shape(ours) == shape(real)
    assert shape(ours)["signing keys"] == ["signing", "signing"]


def test_test_persons_have_valid_test_hetus_and_keep_their_categories_for_years():
    for person in PERSONS.values():
        assert set(person.description) == {"fi", "sv", "en"}
        if person.hetu is not None:
            info = Hetu(person.hetu).info()
            assert 900 <= info.individual_number <= 999 and info.temporary
    ella, onni = PERSONS["ella"], PERSONS["onni"]
    assert ella.age_on(TODAY) == 15 and onni.age_on(TODAY) == 10
    assert ella.age_on(date(2029, 2, 13)) == 17  # applies alone, still a minor until 2029
    assert onni.age_on(date(2031, 5, 19)) == 14  # needs a guardian until May 2031
    assert [guardian.key for guardian in guardians_of("onni")] == ["sanna"]
    assert attributes(PERSONS["tuuli"])["TurvakieltoTieto"] == ["1"] and "VakinainenKotimainenLahiosoiteS" not in attributes(PERSONS["tuuli"])
    assert "mail" not in attributes(PERSONS["matti"]) and not PERSONS["mikko"].messages_mailbox
    assert "nationalIdentificationNumber" not in attributes(PERSONS["erik"])


def test_the_sandbox_server_mounts_the_idp_with_the_e_services_metadata():
    from connectors.sandbox_server import discover

    (mounted,) = discover(only=["suomifi_tunnistus"])
    assert mounted.error is None and mounted.title.startswith("Suomi.fi-tunnistus")
    idp = mounted.app.state.sandbox.idp
    assert idp.entity_id == "http://127.0.0.1:8080/suomifi_tunnistus/idp1"
    assert idp.sp_entity_ids() == ["http://127.0.0.1:8000/saml/metadata"]


def test_a_logout_request_posted_must_carry_a_valid_xml_signature(browser, kit, app):
    import base64

    from saml2.saml import NameID

    request_id, page = pick(browser, kit, "matti")
    session = kit.sp.process_response(hidden_fields(page.text)["SAMLResponse"], request_id).session
    destination = kit.idp.endpoints.profile("POST", "SLO")
    name_id = NameID(text=session.name_id, format=session.name_id_format, name_qualifier=session.name_qualifier, sp_name_qualifier=session.sp_name_qualifier)
    client = kit.sp._client  # pysaml2's SP: the connector itself only sends Redirect logouts
    for signed in (False, True):
        _, message = client.create_logout_request(destination, kit.idp.entity_id, name_id=name_id, session_indexes=[session.session_index], sign=signed)
        posted = base64.b64encode(str(message).encode()).decode()
        answer = browser.post("/suomifi_tunnistus/idp/profile/SAML2/POST/SLO", data={"SAMLRequest": posted, "RelayState": "bye"})
        if not signed:
            assert answer.status_code == 400 and len(app.state.sandbox.sessions) == 1
    assert answer.status_code == 303 and answer.headers["location"].startswith("http://127.0.0.1:8000/saml/slo?SAMLResponse=")
    assert app.state.sandbox.sessions == {}
    assert kit.sp.process_logout_response(query_of(answer.headers["location"]), None).success
