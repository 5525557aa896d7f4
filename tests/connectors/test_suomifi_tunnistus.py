"""Suomi.fi e-Identification SP against the sandbox IdP: metadata, AuthnRequest, login checks, SLO.

Every response is a real SAML message: signed and AES-GCM encrypted by pysaml2 + xmlsec1 in the
sandbox IdP, checked by the SP. Keys are made once per module (each xmlsec1 call is ~0.1 s).
"""

from __future__ import annotations

import base64
import logging
import zlib
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from urllib.parse import parse_qsl, quote, urlsplit

import pytest
from lxml import etree

from connectors.errors import PermanentError
from connectors.suomifi_tunnistus import AuthenticationError, LogoutTarget, SamlConfigurationError, ServiceProvider, SqlReplayCache, SuomiFiSettings
from connectors.suomifi_tunnistus.attributes import URI_NAMES
from connectors.suomifi_tunnistus.keys import ensure_key_pair
from connectors.suomifi_tunnistus.redirect import parse_redirect_query, verify_redirect_signature
from connectors.suomifi_tunnistus.sandbox.persons import PERSONS
from connectors.suomifi_tunnistus.sandbox.testing import SamlTestKit, query_of
from connectors.suomifi_tunnistus.settings import EIDAS_SUBSTANTIAL, LOA2, LOA3, LOA_TEST

MD = "urn:oasis:names:tc:SAML:2.0:metadata"
SAML = "urn:oasis:names:tc:SAML:2.0:assertion"
SAMLP = "urn:oasis:names:tc:SAML:2.0:protocol"
MDUI = "urn:oasis:names:tc:SAML:metadata:ui"
MDATTR = "urn:oasis:names:tc:SAML:metadata:attribute"
LANG = "{http://www.w3.org/XML/1998/namespace}lang"
NS = {"md": MD, "saml": SAML, "samlp": SAMLP, "mdui": MDUI, "mdattr": MDATTR, "ds": "http://www.w3.org/2000/09/xmldsig#"}
RSA_SHA256 = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"
TODAY = date(2026, 11, 25)


@pytest.fixture(scope="module")
def kit(tmp_path_factory) -> SamlTestKit:
    return SamlTestKit.create(tmp_path_factory.mktemp("saml"))


def login(kit: SamlTestKit, person: str = "aino", sp: ServiceProvider | None = None, **overrides):
    """A fresh AuthnRequest and the IdP's answer to it: (request id, base64 SAMLResponse)."""
    redirect = (sp or kit.sp).login_request("relay-state")
    request = kit.idp.parse_authn_request(query_of(redirect.url))
    return request.request_id, kit.idp.login_response(PERSONS[person], request.request_id, **overrides)


def refused(kit: SamlTestKit, response: str, request_id: str, sp: ServiceProvider | None = None) -> AuthenticationError:
    with pytest.raises(AuthenticationError) as raised:
        (sp or kit.sp).process_response(response, request_id)
    return raised.value


def inflate(value: str) -> bytes:
    return zlib.decompress(base64.b64decode(value), -15)


# --------------------------------------------------------------------------- metadata


def entity_attribute(root: etree._Element, name: str) -> list[str]:
    return root.xpath(f"md:Extensions/mdattr:EntityAttributes/saml:Attribute[@Name='{name}']/saml:AttributeValue/text()", namespaces=NS)


def test_sp_metadata_has_the_entity_attributes_texts_and_one_certificate_suomifi_asks_for(kit):
    root = etree.fromstring(kit.sp.metadata_xml().encode())
    assert root.get("entityID") == "http://127.0.0.1:8000/saml/metadata"
    assert entity_attribute(root, "FinnishAuthMethod") == [LOA3, LOA2]
    assert entity_attribute(root, "urn:oid:1.2.246.517.3003.111.3") == ["true"]  # VtjVerificationRequired
    assert entity_attribute(root, "urn:oid:1.2.246.517.3003.111.4") == ["true"]  # SkipEndpointValidationWhenSigned
    assert entity_attribute(root, "urn:oid:1.2.246.517.3003.111.14") == ["full"]  # EidasSupport
    assert entity_attribute(root, "urn:oid:1.2.246.517.3003.111.26") == ["AES-GCM"]  # CipherName
    sp = root.find("md:SPSSODescriptor", NS)
    assert (sp.get("AuthnRequestsSigned"), sp.get("WantAssertionsSigned")) == ("true", "true")
    for path in (
        "md:Extensions/mdui:UIInfo/mdui:DisplayName",
        "md:Extensions/mdui:UIInfo/mdui:Description",
        "md:AttributeConsumingService/md:ServiceName",
        "md:AttributeConsumingService/md:ServiceDescription",
    ):
        assert [element.get(LANG) for element in sp.findall(path, NS)] == ["fi", "sv", "en"], path
    assert [element.get(LANG) for element in root.findall("md:Organization/md:OrganizationName", NS)] == ["fi", "sv", "en"]
    contact = root.find("md:ContactPerson[@contactType='technical']", NS)
    assert contact.findtext("md:SurName", namespaces=NS) and contact.findtext("md:EmailAddress", namespaces=NS).startswith("mailto:")
    keys = sp.findall("md:KeyDescriptor", NS)
    assert len(keys) == 1 and keys[0].get("use") is None  # one certificate signs and decrypts
    assert keys[0].findtext("ds:KeyInfo/ds:X509Data/ds:X509Certificate", namespaces=NS) == kit.sp_keys.certificate_base64()
    acs = sp.findall("md:AssertionConsumerService", NS)
    assert [(a.get("Binding"), a.get("Location"), a.get("isDefault")) for a in acs] == [
        ("urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST", "http://127.0.0.1:8000/saml/acs", "true")
    ]
    assert sp.find("md:SingleLogoutService", NS).get("Location") == "http://127.0.0.1:8000/saml/slo"
    assert sp.findtext("md:NameIDFormat", namespaces=NS) == "urn:oasis:names:tc:SAML:2.0:nameid-format:transient"
    consuming = sp.find("md:AttributeConsumingService", NS)
    assert consuming.get("isDefault") == "true"
    requested = {a.get("Name"): a.get("NameFormat") for a in consuming.findall("md:RequestedAttribute", NS)}
    assert requested["urn:oid:1.2.246.21"] == "urn:oasis:names:tc:SAML:2.0:attrname-format:uri"
    assert {URI_NAMES[name] for name in ("sn", "FirstName", "KotikuntaKuntanumero", "TurvakieltoTieto", "PersonIdentifier", "DateOfBirth", "mail")} <= set(
        requested
    )
    assert all(name.startswith(("urn:oid:", "http://eidas.europa.eu/")) for name in requested)


def test_the_test_identifier_is_requested_and_accepted_only_in_test_mode(kit):
    assert LOA_TEST not in entity_attribute(etree.fromstring(kit.sp.metadata_xml().encode()), "FinnishAuthMethod")
    test_sp = kit.another_sp(test_mode=True)
    assert entity_attribute(etree.fromstring(test_sp.metadata_xml().encode()), "FinnishAuthMethod") == [LOA3, LOA2, LOA_TEST]
    request_id, response = login(kit, loa=LOA_TEST, sp=test_sp)
    assert test_sp.process_response(response, request_id).loa == LOA_TEST
    request_id, response = login(kit, loa=LOA_TEST)
    assert refused(kit, response, request_id).code == "SAML_LOA"


def test_settings_refuse_weak_levels_and_half_a_key_pair(kit):
    with pytest.raises(ValueError, match="unknown or weak LoA"):
        SuomiFiSettings(requested_loa=["urn:oid:1.2.246.517.3002.110.7"])
    with pytest.raises(ValueError, match="KEY_FILE and"):
        SuomiFiSettings(key_file=kit.sp_keys.key_file)
    with pytest.raises(ValueError, match="absolute http"):
        SuomiFiSettings(base_url="asiointi.example.fi")


def test_the_default_key_pair_is_made_once_into_the_data_directory_with_a_private_key_only_we_can_read(tmp_path, monkeypatch):
    monkeypatch.setenv("KUNTAFLOW_DATA_DIR", str(tmp_path / "data"))
    first = SuomiFiSettings().key_pair()
    assert first.key_file.is_relative_to(tmp_path / "data") and first.key_file.stat().st_mode & 0o777 == 0o600
    again = SuomiFiSettings().key_pair()
    assert (again.key_file.read_bytes(), again.cert_file.read_bytes()) == (first.key_file.read_bytes(), first.cert_file.read_bytes())


def test_a_missing_idp_metadata_file_is_a_configuration_error(kit, tmp_path):
    with pytest.raises(SamlConfigurationError, match="cannot read the IdP metadata"):
        kit.another_sp(idp_metadata=str(tmp_path / "nowhere.xml"))


# --------------------------------------------------------------------------- AuthnRequest


def test_authn_request_is_signed_rsa_sha256_asks_loa3_or_loa2_exactly_and_ends_with_the_locale(kit):
    redirect = kit.sp.login_request("relay-1", locale="sv")
    url = urlsplit(redirect.url)
    assert f"{url.scheme}://{url.netloc}{url.path}" == kit.idp.endpoints.profile("Redirect", "SSO")
    pairs = parse_qsl(url.query)
    assert [name for name, _ in pairs] == ["SAMLRequest", "RelayState", "SigAlg", "Signature", "locale"]
    params = dict(pairs)
    assert (params["SigAlg"], params["RelayState"], params["locale"]) == (RSA_SHA256, "relay-1", "sv")
    assert verify_redirect_signature(parse_redirect_query(url.query), [kit.sp_keys.certificate_base64()])
    request = etree.fromstring(inflate(params["SAMLRequest"]))
    assert request.tag == f"{{{SAMLP}}}AuthnRequest" and request.get("ID") == redirect.request_id
    assert request.get("Destination") == kit.idp.endpoints.profile("Redirect", "SSO")
    context = request.find("samlp:RequestedAuthnContext", NS)
    assert context.get("Comparison") == "exact"
    assert context.xpath("saml:AuthnContextClassRef/text()", namespaces=NS) == [LOA3, LOA2]
    assert request.find("samlp:NameIDPolicy", NS).get("Format") == "urn:oasis:names:tc:SAML:2.0:nameid-format:transient"
    seen = kit.idp.parse_authn_request(url.query)  # the IdP verifies it against the SP metadata
    assert (seen.request_id, seen.issuer, seen.acs_url, seen.locale) == (
        redirect.request_id,
        kit.sp.settings.sp_entity_id,
        "http://127.0.0.1:8000/saml/acs",
        "sv",
    )


def test_the_idp_refuses_an_authn_request_whose_relay_state_was_changed_after_signing(kit):
    url = kit.sp.login_request("relay-1").url
    with pytest.raises(ValueError, match="refused"):
        kit.idp.parse_authn_request(query_of(url).replace("RelayState=relay-1", "RelayState=relay-2"))


def test_an_unknown_locale_is_refused(kit):
    with pytest.raises(ValueError, match="fi, sv or en"):
        kit.sp.login_request("relay", locale="de")  # type: ignore[arg-type]


# --------------------------------------------------------------------------- valid logins


def test_an_adult_with_an_address_and_email(kit):
    request_id, response = login(kit, "aino")
    identity = kit.sp.process_response(response, request_id)
    assert identity.hetu == "150385-9046" and identity.birth_date == date(1985, 3, 15)
    assert (identity.first_names, identity.given_name, identity.surname, identity.display_name) == ("Aino Maria", "Aino", "Virtanen", "Aino Virtanen")
    assert identity.home_municipality.model_dump() == {"number": "179", "name_fi": "Jyväskylä", "name_sv": "Jyväskylä"}
    assert (identity.permanent_address.street, identity.permanent_address.postal_code, identity.permanent_address.post_office) == (
        "Kauppakatu 12 A 3",
        "40100",
        "JYVÄSKYLÄ",
    )
    assert identity.email == "aino.virtanen@example.org" and identity.loa == LOA3 and not identity.non_disclosure and not identity.is_eidas
    session = identity.session
    assert session.idp_entity_id == kit.idp.entity_id and session.name_id_format.endswith(":transient")
    assert (session.name_qualifier, session.sp_name_qualifier) == (kit.idp.entity_id, kit.sp.settings.sp_entity_id)
    assert session.name_id and session.session_index


@pytest.mark.parametrize(("key", "hetu", "age"), [("ella", "140211A942V", 15), ("onni", "200516A9379", 10), ("sanna", "230982-946S", 44)])
def test_a_guardian_and_her_children_log_in_with_their_ages(kit, key, hetu, age):
    request_id, response = login(kit, key)
    identity = kit.sp.process_response(response, request_id)
    assert identity.hetu == hetu and identity.hetu.info().age_on(TODAY) == age
    assert identity.permanent_address.street == "Väinönkatu 26 B 12"


def test_a_non_disclosure_marking_comes_without_any_address(kit):
    request_id, response = login(kit, "tuuli")
    identity = kit.sp.process_response(response, request_id)
    assert identity.non_disclosure and identity.hetu == "041190-964S"
    assert (identity.permanent_address, identity.home_municipality, identity.foreign_address) == (None, None, None)


def test_a_person_without_email_and_with_swedish_street_names(kit):
    request_id, response = login(kit, "matti")
    identity = kit.sp.process_response(response, request_id)
    assert identity.email is None
    assert (identity.permanent_address.street_sv, identity.permanent_address.post_office_sv, identity.home_municipality.name_sv) == (
        "Hovrättsesplanaden 15 A 4",
        "VASA",
        "Vasa",
    )


def test_a_finn_abroad_has_a_foreign_address_and_no_municipality(kit):
    request_id, response = login(kit, "liisa")
    identity = kit.sp.process_response(response, request_id)
    assert identity.home_municipality is None and identity.permanent_address is None
    assert (identity.foreign_address.street, identity.foreign_address.country_code) == ("Drottninggatan 71 C", "SE")


def test_an_eidas_user_has_no_hetu_but_a_person_identifier_and_birth_date(kit):
    request_id, response = login(kit, "erik")
    identity = kit.sp.process_response(response, request_id)
    assert identity.is_eidas and identity.hetu is None
    assert (identity.eidas_person_identifier, identity.date_of_birth, identity.first_names, identity.surname) == (
        "SE/FI/199005151234",
        date(1990, 5, 15),
        "Erik Lars",
        "Johansson",
    )
    assert identity.loa == EIDAS_SUBSTANTIAL and identity.birth_date == date(1990, 5, 15)


def test_a_person_without_a_messages_mailbox_still_logs_in(kit):
    assert not PERSONS["mikko"].messages_mailbox
    request_id, response = login(kit, "mikko")
    assert kit.sp.process_response(response, request_id).hetu == "070779-912Y"


def test_a_response_signed_with_the_second_metadata_certificate_is_accepted(kit):
    request_id, response = login(kit, signing_key=kit.idp_keys[1])
    assert kit.sp.process_response(response, request_id).hetu == "150385-9046"


def test_the_identity_repr_shows_no_personal_data(kit):
    request_id, response = login(kit, "aino")
    identity = kit.sp.process_response(response, request_id)
    shown = repr(identity) + str(identity)
    for secret in ("150385-9046", "Virtanen", "Kauppakatu", "aino.virtanen", identity.session.name_id):
        assert secret not in shown


# --------------------------------------------------------------------------- refusals


def test_an_unsigned_response_is_refused(kit):
    request_id, response = login(kit, sign_response=False, sign_assertion=False)
    assert refused(kit, response, request_id).code == "SAML_SIGNATURE"


@pytest.mark.parametrize("signed", ["response only", "assertion only"])
def test_both_the_response_and_the_assertion_must_be_signed(kit, signed):
    request_id, response = login(kit, sign_response=signed == "response only", sign_assertion=signed == "assertion only")
    assert refused(kit, response, request_id).code == "SAML_SIGNATURE"


def test_a_response_signed_by_a_key_not_in_the_metadata_is_refused(kit):
    request_id, response = login(kit, signing_key=kit.rogue_keys)
    assert refused(kit, response, request_id).code == "SAML_SIGNATURE"


def test_an_attribute_altered_after_signing_is_refused(kit):
    request_id, control = login(kit, tamper=lambda xml: xml)
    assert kit.sp.process_response(control, request_id).hetu == "150385-9046"  # the untouched control passes
    request_id, response = login(kit, tamper=lambda xml: xml.replace("150385-9046", "150385-9004"))
    error = refused(kit, response, request_id)
    assert error.code == "SAML_SIGNATURE" and "150385" not in str(error)


def test_an_unencrypted_assertion_is_refused_before_pysaml2_sees_it(kit):
    request_id, response = login(kit, encrypt=False)
    assert refused(kit, response, request_id).code == "SAML_NOT_ENCRYPTED"


def test_an_assertion_for_another_service_is_refused(kit):
    request_id, response = login(kit, audience="https://other.example.fi/saml/metadata")
    assert refused(kit, response, request_id).code == "SAML_AUDIENCE"


def test_an_expired_assertion_is_refused(kit):
    request_id, response = login(kit, lifetime_minutes=-10)
    assert refused(kit, response, request_id).code == "SAML_EXPIRED"


def test_a_response_to_another_request_is_refused(kit):
    _, response = login(kit)
    assert refused(kit, response, "id-someone-elses-request").code == "SAML_IN_RESPONSE_TO"


def test_a_response_sent_to_another_acs_is_refused(kit):
    request_id, response = login(kit, destination="https://evil.example/saml/acs")
    assert refused(kit, response, request_id).code == "SAML_DESTINATION"


def test_a_replayed_assertion_is_refused_even_by_another_sp_instance(kit):
    request_id, response = login(kit)
    kit.sp.process_response(response, request_id)
    assert refused(kit, response, request_id).code == "SAML_REPLAY"
    other_process = kit.another_sp()  # same replay table, as a second e-service worker would have
    assert refused(kit, response, request_id, sp=other_process).code == "SAML_REPLAY"


@pytest.mark.parametrize("loa", [LOA2, "urn:oid:1.2.246.517.3002.110.7"])
def test_a_level_of_assurance_below_the_requested_is_refused(kit, loa):
    strict = kit.another_sp(requested_loa=[LOA3])
    request_id, response = login(kit, loa=loa, sp=strict)
    assert refused(kit, response, request_id, sp=strict).code == "SAML_LOA"


def test_a_cancelled_identification_is_a_status_refusal(kit):
    redirect = kit.sp.login_request("relay")
    request = kit.idp.parse_authn_request(query_of(redirect.url))
    response = kit.idp.error_response(request.request_id, request.acs_url, "urn:oasis:names:tc:SAML:2.0:status:AuthnFailed", "cancelled")
    error = refused(kit, response, request.request_id)
    assert error.code == "SAML_STATUS" and "AuthnFailed" in str(error)


@pytest.mark.parametrize(
    "posted",
    [
        "",
        "not base64 at all!",
        base64.b64encode(b"<not-xml").decode(),
        base64.b64encode(b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY a "aaaa">]><r>&a;</r>').decode(),
        base64.b64encode(b'<samlp:LogoutResponse xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol"/>').decode(),
    ],
)
def test_malformed_posts_are_refused(kit, posted):
    assert refused(kit, posted, "id-1").code == "SAML_MALFORMED"


@pytest.mark.parametrize(
    ("person", "attributes"),
    [
        ("aino", {"nationalIdentificationNumber": ["150385-9047"]}),  # a bad check character
        ("aino", {"nationalIdentificationNumber": None}),  # neither a hetu nor an eIDAS identity
        ("aino", {"sn": None}),
        ("erik", {"DateOfBirth": ["1990-02-30"]}),
    ],
)
def test_a_signed_assertion_without_a_usable_identity_is_refused_without_echoing_it(kit, person, attributes):
    request_id, response = login(kit, person, attributes=attributes)
    error = refused(kit, response, request_id)
    assert error.code == "SAML_ATTRIBUTES" and "150385" not in str(error) and "1990" not in str(error)


def test_refusals_are_permanent_errors_that_name_no_person(kit):
    request_id, response = login(kit, "ella", lifetime_minutes=-10)
    error = refused(kit, response, request_id)
    assert isinstance(error, PermanentError)
    assert not any(text in str(error) + repr(error) for text in ("140211A942V", "Laine", "Ella"))


def test_no_log_record_holds_the_hetu_or_name_during_a_login(kit, caplog):
    caplog.set_level(logging.DEBUG)
    request_id, response = login(kit, "ella")
    identity = kit.sp.process_response(response, request_id)
    request_id, expired = login(kit, "ella", lifetime_minutes=-10)
    refused(kit, expired, request_id)
    request_id, tampered = login(kit, "ella", tamper=lambda xml: xml.replace("Ella Sofia", "Ella Sofie"))
    refused(kit, tampered, request_id)  # pysaml2 logs the whole decrypted assertion when its signature fails
    assert identity.hetu == "140211A942V" and caplog.records  # it did log, at DEBUG too
    for record in caplog.records:
        text = record.getMessage()
        assert not any(secret in text for secret in ("140211A942V", "Ella Sof", "Väinönkatu")), (record.name, text[:200])


# --------------------------------------------------------------------------- single logout


def test_sp_initiated_logout_is_signed_names_the_session_and_accepts_the_idps_answer(kit):
    request_id, response = login(kit)
    session = kit.sp.process_response(response, request_id).session
    redirect = kit.sp.logout_request(session, relay_state="bye")
    url = urlsplit(redirect.url)
    assert f"{url.scheme}://{url.netloc}{url.path}" == kit.idp.endpoints.profile("Redirect", "SLO")
    assert dict(parse_qsl(url.query))["SigAlg"] == RSA_SHA256
    seen = kit.idp.parse_logout_request(url.query)  # the IdP verifies the signature
    assert (seen.request_id, seen.name_id, seen.session_indexes) == (redirect.request_id, session.name_id, (session.session_index,))
    name_id = seen.message.name_id
    assert (name_id.name_qualifier, name_id.sp_name_qualifier) == (session.name_qualifier, session.sp_name_qualifier)
    answer = kit.idp.logout_response(seen)
    outcome = kit.sp.process_logout_response(query_of(answer), redirect.request_id)
    assert (outcome.success, outcome.in_response_to, outcome.status) == (True, redirect.request_id, "Success")
    with pytest.raises(AuthenticationError) as raised:
        kit.sp.process_logout_response(query_of(answer), "id-another")
    assert raised.value.code == "SAML_IN_RESPONSE_TO"


def test_a_logout_response_without_or_with_a_foreign_signature_is_refused(kit):
    request_id, response = login(kit)
    redirect = kit.sp.logout_request(kit.sp.process_response(response, request_id).session)
    seen = kit.idp.parse_logout_request(query_of(redirect.url))
    unsigned = query_of(kit.idp.logout_response(seen)).split("&SigAlg=")[0]
    rogue = query_of(kit.idp.logout_response(seen, signing_key=kit.rogue_keys))
    for query in (unsigned, rogue):
        with pytest.raises(AuthenticationError) as raised:
            kit.sp.process_logout_response(query, redirect.request_id)
        assert raised.value.code == "SAML_SIGNATURE"


def test_a_failed_logout_at_the_idp_is_reported(kit):
    request_id, response = login(kit)
    redirect = kit.sp.logout_request(kit.sp.process_response(response, request_id).session)
    seen = kit.idp.parse_logout_request(query_of(redirect.url))
    outcome = kit.sp.process_logout_response(query_of(kit.idp.logout_response(seen, success=False)), redirect.request_id)
    assert (outcome.success, outcome.status) == (False, "UnknownPrincipal")


class RecordingSessions:
    """The e-service's session store as IdP-initiated logout sees it."""

    def __init__(self, live: int = 1) -> None:
        self.live = live
        self.targets: list[LogoutTarget] = []

    def end_sessions(self, target: LogoutTarget) -> int:
        self.targets.append(target)
        ended, self.live = self.live, 0
        return ended


def test_idp_initiated_logout_finds_the_session_by_name_id_and_answers_signed(kit):
    request_id, response = login(kit)
    session = kit.sp.process_response(response, request_id).session
    logout_id, url = kit.idp.logout_request(kit.sp.settings.sp_entity_id, session.name_id, session.session_index)
    assert url.startswith("http://127.0.0.1:8000/saml/slo?SAMLRequest=")
    sessions = RecordingSessions()
    result = kit.sp.handle_logout_request(query_of(url), sessions)
    target = sessions.targets[0]
    assert (target.name_id, target.session_indexes, target.name_qualifier, target.sp_name_qualifier) == (
        session.name_id,
        (session.session_index,),
        session.name_qualifier,
        session.sp_name_qualifier,
    )
    assert (result.sessions_ended, result.request_id) == (1, logout_id)
    assert result.url.startswith(kit.idp.endpoints.profile("Redirect", "SLO") + "?SAMLResponse=")
    assert kit.idp.parse_logout_response(query_of(result.url)) == (logout_id, True)  # signed by the SP, verified by the IdP
    assert "&locale=" not in result.url and dict(parse_qsl(query_of(result.url)))["SigAlg"] == RSA_SHA256
    again = kit.sp.handle_logout_request(query_of(url), sessions)  # nothing left: still Success, nothing ended
    assert again.sessions_ended == 0 and kit.idp.parse_logout_response(query_of(again.url)) == (logout_id, True)


@pytest.mark.parametrize("how", ["unsigned", "foreign key", "altered"])
def test_a_forged_idp_logout_request_ends_no_session(kit, how):
    signing_key = kit.rogue_keys if how == "foreign key" else None
    _, url = kit.idp.logout_request(kit.sp.settings.sp_entity_id, "AAdzZWNyZXQx-victim", "session-1", signing_key=signing_key)
    query = query_of(url)
    if how == "unsigned":
        query = query.split("&SigAlg=")[0]
    elif how == "altered":  # another person's NameID under the original signature
        xml = inflate(parse_redirect_query(query).message).replace(b"victim", b"someone")
        packer = zlib.compressobj(9, zlib.DEFLATED, -15)
        forged = base64.b64encode(packer.compress(xml) + packer.flush()).decode()
        query = "&".join(["SAMLRequest=" + quote(forged, safe=""), *query.split("&")[1:]])
    sessions = RecordingSessions()
    with pytest.raises(AuthenticationError) as raised:
        kit.sp.handle_logout_request(query, sessions)
    assert raised.value.code == "SAML_SIGNATURE" and sessions.targets == []


# --------------------------------------------------------------------------- replay table and real metadata


def test_the_replay_table_is_shared_through_the_database(tmp_path):
    url = f"sqlite:///{tmp_path / 'seen.db'}"
    first, second = SqlReplayCache(url), SqlReplayCache(url)
    until = datetime.now(UTC) + timedelta(minutes=5)
    assert first.first_use("_assertion-1", until)
    assert not second.first_use("_assertion-1", until)
    assert second.first_use("_assertion-2", until)


def test_the_sp_reads_dvvs_real_test_metadata_with_its_two_signing_certificates(kit, specs_dir):
    real = kit.another_sp(idp_metadata=str(specs_dir / "suomifi" / "tunnistus" / "idp-metadata-secondary.xml"))
    assert real.idp_entity_id == "https://testi.apro.tunnistus.fi/idp1"
    assert len(real.idp_signing_certificates) == 2
    url = real.login_request("relay", locale="en").url
    assert url.startswith("https://testi.apro.tunnistus.fi/idp/profile/SAML2/Redirect/SSO?SAMLRequest=") and url.endswith("&locale=en")
    session = kit.sp.process_response(*reversed(login(kit))).session
    assert real.logout_request(session).url.startswith("https://testi.apro.tunnistus.fi/idp/profile/SAML2/Redirect/SLO?SAMLRequest=")


@pytest.fixture(scope="module")
def specs_dir() -> Path:
    import os

    return Path(os.environ.get("KUNTAFLOW_SPECS_DIR", Path(__file__).resolve().parents[3] / "shared" / "specs"))


def test_key_pairs_made_at_once_by_two_callers_agree(tmp_path):
    first = ensure_key_pair(tmp_path, "pair", "cn", bits=2048)
    second = ensure_key_pair(tmp_path, "pair", "cn", bits=2048)
    assert first == second and first.cert_file.read_bytes() == second.cert_file.read_bytes()


def test_the_sandbox_idp_keeps_no_assertion_in_memory_after_issuing_it(kit):
    issued = kit.idp.login(PERSONS["aino"], "id-memory")
    server = kit.idp.server()
    assert issued.session_index and server.session_db.assertion == {} and server.session_db.authn == {}


def test_xmlsec1_is_asked_for_its_version_once_per_saml_entity_not_before_every_signature(tmp_path, monkeypatch):
    import saml2.sigver

    versions = []
    popen = saml2.sigver.Popen

    def counting(command, *args, **kwargs):
        if "--version" in command:
            versions.append(command[0])
        return popen(command, *args, **kwargs)

    monkeypatch.setattr(saml2.sigver, "Popen", counting)
    kit = SamlTestKit.create(tmp_path)
    for _ in range(3):  # each sign-in signs, encrypts, checks and decrypts
        request_id, response = login(kit)
        assert kit.sp.process_response(response, request_id).hetu == "150385-9046"
    assert len(versions) <= 2  # the SP's backend and the IdP's, once each
