"""Suomi.fi SP against forged SAML responses, on top of tests/connectors/test_suomifi_tunnistus.py: XML
signature wrapping (XSW) at the Response and the Assertion level, comments injected into the NameID
and into attribute values, an assertion for another SP (audience and recipient), and a response
signed by a key that is not in the IdP metadata (even one with the IdP's own certificate name). Each
is refused with ``AuthenticationError`` and yields no identity.

Two attackers are modelled. At the Response level, one who holds a genuine signed response (their own
login) and can encrypt any assertion to the SP's public certificate, but cannot sign. At the
Assertion level a stronger one, who knows the plaintext of a signed assertion and whose edits the
IdP then wraps in a *validly signed* Response (the sandbox IdP's ``tamper`` hook edits after the
assertion is signed and before it is encrypted and the Response signed), so only the assertion's
own signature stands between them and a login. Every forgery has an untouched control that passes
through the same parse-and-serialise path and is accepted, so a refusal is the check's and not the
test's doing. The XSW variants are McIntosh & Austel's and Somorovsky et al.'s numbering, as far as
they apply to a signed Response around a signed, encrypted assertion: an EncryptedAssertion holds one
Assertion, so the sibling variants (XSW3, XSW5, a duplicate ID) exist here only as a second
EncryptedAssertion, which the Response-level cases cover.
"""

from __future__ import annotations

import base64
import copy
from collections.abc import Callable

import pytest
from lxml import etree

from connectors.suomifi_tunnistus import AuthenticationError, SuomiFiIdentity
from connectors.suomifi_tunnistus.sandbox.persons import PERSONS
from connectors.suomifi_tunnistus.sandbox.testing import SamlTestKit, query_of

SAML = "urn:oasis:names:tc:SAML:2.0:assertion"
SAMLP = "urn:oasis:names:tc:SAML:2.0:protocol"
DS = "http://www.w3.org/2000/09/xmldsig#"
NS = {"saml": SAML, "samlp": SAMLP, "ds": DS}
VICTIM_HETU = PERSONS["ella"].hetu
ATTACKER_HETU = PERSONS["aino"].hetu


@pytest.fixture(scope="module")
def kit(tmp_path_factory) -> SamlTestKit:
    return SamlTestKit.create(tmp_path_factory.mktemp("saml-hostile"))


def request_id_of(kit: SamlTestKit) -> str:
    return kit.idp.parse_authn_request(query_of(kit.sp.login_request("relay").url)).request_id


def issue(kit: SamlTestKit, request_id: str, person: str = "aino", **overrides) -> str:
    return kit.idp.login_response(PERSONS[person], request_id, **overrides)


def accepted(kit: SamlTestKit, response: str, request_id: str) -> SuomiFiIdentity:
    return kit.sp.process_response(response, request_id)


def assert_refused(kit: SamlTestKit, response: str, request_id: str) -> AuthenticationError:
    identity = None
    with pytest.raises(AuthenticationError) as raised:
        identity = kit.sp.process_response(response, request_id)
    assert identity is None
    for secret in (VICTIM_HETU, ATTACKER_HETU, "Ella", "Aino"):
        assert secret not in str(raised.value)
    return raised.value


def parse(xml: str) -> etree._Element:
    return etree.fromstring(xml.encode("utf-8"))


def text(root: etree._Element) -> str:
    return etree.tostring(root, encoding="unicode")


# --------------------------------------------------------------------------- Assertion-level wrapping (XSW3–8)


def _assertion(root: etree._Element) -> etree._Element:
    [assertion] = root.xpath("//saml:Assertion", namespaces=NS)
    return assertion


def _evil_copy(assertion: etree._Element, *, keep_signature: bool) -> etree._Element:
    """The attacker's assertion: the signed one with a new ID, another person's hetu and name."""
    evil = copy.deepcopy(assertion)
    evil.set("ID", "_evil" + assertion.get("ID"))
    if not keep_signature:
        for signature in evil.findall(f"{{{DS}}}Signature"):
            evil.remove(signature)
    for value in evil.iter(f"{{{SAML}}}AttributeValue"):
        if value.text == ATTACKER_HETU:
            value.text = VICTIM_HETU
        elif value.text and "Aino" in value.text:
            value.text = value.text.replace("Aino", "Ella")
    return evil


def xsw4(root):  # evil wraps the signed assertion as a child
    original = _assertion(root)
    evil = _evil_copy(original, keep_signature=False)
    original.addprevious(evil)
    evil.append(original)


def xsw6(root):  # evil carries the signature; the signed assertion inside that signature's Object
    original = _assertion(root)
    evil = _evil_copy(original, keep_signature=True)
    original.addprevious(evil)
    signature = evil.find(f"{{{DS}}}Signature")
    etree.SubElement(signature, f"{{{DS}}}Object").append(original)


def xsw7(root):  # evil unsigned; the signed assertion hidden where assertions may legally be: Advice
    original = _assertion(root)
    evil = _evil_copy(original, keep_signature=False)
    original.addprevious(evil)
    advice = etree.Element(f"{{{SAML}}}Advice")
    evil.find(f"{{{SAML}}}Conditions").addnext(advice)
    advice.append(original)


def xsw8(root):  # evil with the original's signature, the signed assertion inside its Object, unsigned
    original = _assertion(root)
    evil = _evil_copy(original, keep_signature=True)
    original.addprevious(evil)
    signature = evil.find(f"{{{DS}}}Signature")
    for inner in original.findall(f"{{{DS}}}Signature"):
        original.remove(inner)
    etree.SubElement(signature, f"{{{DS}}}Object").append(original)


def altered_in_place(root):  # the signed assertion itself, another person's hetu: the digest must catch it
    for value in _assertion(root).iter(f"{{{SAML}}}AttributeValue"):
        if value.text == ATTACKER_HETU:
            value.text = VICTIM_HETU


ASSERTION_WRAPS: dict[str, Callable[[etree._Element], None]] = {
    "XSW4": xsw4,
    "XSW6": xsw6,
    "XSW7": xsw7,
    "XSW8": xsw8,
    "altered in place": altered_in_place,
}


def through_lxml(edit: Callable[[etree._Element], None]) -> Callable[[str], str]:
    def tamper(xml: str) -> str:
        root = parse(xml)
        edit(root)
        return text(root)

    return tamper


def test_the_lxml_round_trip_alone_keeps_a_response_valid(kit):
    request_id = request_id_of(kit)
    identity = accepted(kit, issue(kit, request_id, tamper=through_lxml(lambda root: None)), request_id)
    assert identity.hetu == ATTACKER_HETU


@pytest.mark.parametrize("variant", sorted(ASSERTION_WRAPS))
def test_an_assertion_wrapped_or_altered_after_signing_is_refused_even_inside_a_validly_signed_response(kit, variant):
    request_id = request_id_of(kit)
    assert_refused(kit, issue(kit, request_id, tamper=through_lxml(ASSERTION_WRAPS[variant])), request_id)


# --------------------------------------------------------------------------- Response-level wrapping (XSW1, XSW2 and kin)


def genuine_and_forged(kit: SamlTestKit) -> tuple[str, etree._Element, etree._Element]:
    """A genuine signed response for the attacker, and an unsigned one for the victim encrypted to
    the SP (anyone can encrypt to the SP's public certificate): (request id, genuine, forged)."""
    request_id = request_id_of(kit)
    genuine = parse(base64.b64decode(issue(kit, request_id)).decode())
    forged = parse(base64.b64decode(issue(kit, request_id, person="ella", sign_response=False, sign_assertion=False)).decode())
    return request_id, genuine, forged


def encode(root: etree._Element) -> str:
    return base64.b64encode(etree.tostring(root)).decode()


def _outer(genuine: etree._Element, forged: etree._Element) -> etree._Element:
    """The forged response dressed as the genuine one: its ID, issuer and times, without a signature."""
    outer = copy.deepcopy(forged)
    for name in ("IssueInstant", "InResponseTo", "Destination"):
        outer.set(name, genuine.get(name))
    outer.set("ID", "_outer" + genuine.get("ID"))
    return outer


def xsw1(genuine, forged):  # the signed response inside the forged one's Signature/Object
    outer = _outer(genuine, forged)
    signature = copy.deepcopy(genuine.find(f"{{{DS}}}Signature"))
    outer.find(f"{{{SAML}}}Issuer").addnext(signature)
    etree.SubElement(signature, f"{{{DS}}}Object").append(copy.deepcopy(genuine))
    return outer


def xsw2(genuine, forged):  # the signed response as a detached sibling inside the forged one
    outer = _outer(genuine, forged)
    outer.find(f"{{{SAML}}}Issuer").addnext(copy.deepcopy(genuine))
    return outer


def genuine_with_a_second_assertion(genuine, forged):  # an extra unsigned encrypted assertion
    both = copy.deepcopy(genuine)
    both.find(f"{{{SAML}}}EncryptedAssertion").addprevious(copy.deepcopy(forged.find(f"{{{SAML}}}EncryptedAssertion")))
    return both


def swapped_assertion(genuine, forged):  # the genuine signed envelope, the forged encrypted assertion
    swapped = copy.deepcopy(genuine)
    old = swapped.find(f"{{{SAML}}}EncryptedAssertion")
    old.addprevious(copy.deepcopy(forged.find(f"{{{SAML}}}EncryptedAssertion")))
    swapped.remove(old)
    return swapped


def signed_assertion_moved(genuine, forged):  # the genuine encrypted assertion moved into Extensions of the forged response
    outer = _outer(genuine, forged)
    extensions = etree.Element(f"{{{SAMLP}}}Extensions")
    outer.find(f"{{{SAML}}}Issuer").addnext(extensions)
    extensions.append(copy.deepcopy(genuine.find(f"{{{SAML}}}EncryptedAssertion")))
    return outer


RESPONSE_WRAPS = {
    "XSW1": xsw1,
    "XSW2": xsw2,
    "a second, unsigned assertion": genuine_with_a_second_assertion,
    "the assertion swapped": swapped_assertion,
    "the signed assertion moved": signed_assertion_moved,
}


def test_the_response_level_forgeries_start_from_a_genuine_response_the_sp_accepts(kit):
    request_id, genuine, _ = genuine_and_forged(kit)
    assert accepted(kit, encode(genuine), request_id).hetu == ATTACKER_HETU


@pytest.fixture(scope="module")
def pair(kit) -> tuple[str, etree._Element, etree._Element]:
    """One genuine + forged pair for all variants (the genuine one is never accepted, so never remembered as used)."""
    return genuine_and_forged(kit)


@pytest.mark.parametrize("variant", sorted(RESPONSE_WRAPS))
def test_a_genuine_signed_response_wrapped_around_a_forged_assertion_is_refused(kit, pair, variant):
    request_id, genuine, forged = pair
    error = assert_refused(kit, encode(RESPONSE_WRAPS[variant](genuine, forged)), request_id)
    assert error.code != "SAML_REPLAY"  # refused for what it is, not because an earlier case was let in


# --------------------------------------------------------------------------- comments in the NameID and attribute values


COMMENT_INJECTIONS = {
    "NameID": lambda root: _inject_comment(root.xpath("//saml:Subject/saml:NameID", namespaces=NS)[0]),
    "hetu": lambda root: _inject_comment(_attribute_value(root, ATTACKER_HETU)),
    "surname": lambda root: _inject_comment(_attribute_value(root, PERSONS["aino"].surname)),
}


def _attribute_value(root: etree._Element, value: str) -> etree._Element:
    [found] = [element for element in root.iter(f"{{{SAML}}}AttributeValue") if element.text == value]
    return found


def _inject_comment(element: etree._Element) -> None:
    """``abc`` → ``abc<!---->def``-style: the signed text is split by an empty comment. Exclusive
    c14n leaves comments out, so the assertion's signature still verifies; a parser that reads only
    the first text node would see a shorter value (CVE-2017-11427 and kin)."""
    value = element.text
    cut = max(1, len(value) // 2)
    element.text = value[:cut]
    comment = etree.Comment("")
    comment.tail = value[cut:]
    element.insert(0, comment)


@pytest.mark.parametrize("where", sorted(COMMENT_INJECTIONS))
def test_a_comment_injected_into_the_name_id_or_an_attribute_value_is_refused(kit, where):
    request_id = request_id_of(kit)
    assert_refused(kit, issue(kit, request_id, tamper=through_lxml(COMMENT_INJECTIONS[where])), request_id)


# --------------------------------------------------------------------------- another SP, another key


def test_an_assertion_for_another_sp_is_refused_by_audience_and_by_recipient(kit):
    request_id = request_id_of(kit)
    other = "https://muu-palvelu.example.fi/saml/metadata"
    assert assert_refused(kit, issue(kit, request_id, audience=other), request_id).code == "SAML_AUDIENCE"

    request_id = request_id_of(kit)

    def recipient_elsewhere(root):
        for data in root.xpath("//saml:SubjectConfirmationData", namespaces=NS):
            data.set("Recipient", "https://muu-palvelu.example.fi/saml/acs")

    assert_refused(kit, issue(kit, request_id, tamper=through_lxml(recipient_elsewhere)), request_id)


def test_a_response_signed_by_a_key_outside_the_metadata_is_refused_even_with_the_idps_certificate_name(kit):
    # kit.rogue_keys carries the same subject (CN=test-idp-1) as the IdP's real first key.
    request_id = request_id_of(kit)
    error = assert_refused(kit, issue(kit, request_id, signing_key=kit.rogue_keys), request_id)
    assert error.code == "SAML_SIGNATURE"
