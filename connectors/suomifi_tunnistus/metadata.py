"""The e-service's SP metadata, in the shape Suomi.fi e-Identification registers.

What DVV asks for (suomifi.md §1.2–1.3, "Creating metadata for the e-Service"):
``mdattr:EntityAttributes`` (FinnishAuthMethod, VtjVerificationRequired,
SkipEndpointValidationWhenSigned, EidasSupport, CipherName = AES-GCM); one certificate for
signing and encryption; ServiceName/ServiceDescription in fi/sv/en; ``mdui:UIInfo``;
Organization in fi/sv/en; a technical ContactPerson with SurName; ``isDefault`` on the ACS and
the AttributeConsumingService; RequestedAttributes with URI names. pysaml2's own generator
cannot express several of these (one language only, no ``isDefault``), so the document is built
here with lxml.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from lxml import etree
from saml2 import BINDING_HTTP_POST, BINDING_HTTP_REDIRECT
from saml2.saml import NAME_FORMAT_URI, NAMEID_FORMAT_TRANSIENT

from connectors.suomifi_tunnistus.attributes import REQUESTED, URI_NAMES
from connectors.suomifi_tunnistus.keys import KeyPair, ensure_key_pair
from connectors.suomifi_tunnistus.settings import SANDBOX_IDP_URL, SuomiFiSettings, data_dir

MD = "urn:oasis:names:tc:SAML:2.0:metadata"
DS = "http://www.w3.org/2000/09/xmldsig#"
SAML = "urn:oasis:names:tc:SAML:2.0:assertion"
MDATTR = "urn:oasis:names:tc:SAML:metadata:attribute"
MDUI = "urn:oasis:names:tc:SAML:metadata:ui"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
LANGUAGES = ("fi", "sv", "en")

VTJ_VERIFICATION_REQUIRED = "urn:oid:1.2.246.517.3003.111.3"
SKIP_ENDPOINT_VALIDATION_WHEN_SIGNED = "urn:oid:1.2.246.517.3003.111.4"
EIDAS_SUPPORT = "urn:oid:1.2.246.517.3003.111.14"
CIPHER_NAME = "urn:oid:1.2.246.517.3003.111.26"


def _sub(parent: etree._Element, namespace: str, tag: str, text: str | None = None, **attributes: str) -> etree._Element:
    element = etree.SubElement(parent, f"{{{namespace}}}{tag}", attributes)
    if text is not None:
        element.text = text
    return element


def _localized(parent: etree._Element, namespace: str, tag: str, texts: dict[str, str]) -> None:
    for lang in LANGUAGES:
        etree.SubElement(parent, f"{{{namespace}}}{tag}", {XML_LANG: lang}).text = texts[lang]


def _entity_attribute(parent: etree._Element, name: str, values: list[str], friendly_name: str | None = None) -> None:
    attributes = {"Name": name, "NameFormat": NAME_FORMAT_URI}
    if friendly_name:
        attributes["FriendlyName"] = friendly_name
    attribute = etree.SubElement(parent, f"{{{SAML}}}Attribute", attributes)
    for value in values:
        _sub(attribute, SAML, "AttributeValue", value)


def build_sp_metadata(settings: SuomiFiSettings, certificate_b64: str) -> str:
    """The SP's EntityDescriptor (unsigned XML text) for ``settings`` and its one certificate."""
    root = etree.Element(
        f"{{{MD}}}EntityDescriptor",
        nsmap={"md": MD, "ds": DS, "saml": SAML, "mdattr": MDATTR, "mdui": MDUI},
        entityID=settings.sp_entity_id,
    )
    entity_attributes = _sub(_sub(root, MD, "Extensions"), MDATTR, "EntityAttributes")
    _entity_attribute(entity_attributes, "FinnishAuthMethod", settings.finnish_auth_methods)
    _entity_attribute(entity_attributes, VTJ_VERIFICATION_REQUIRED, [str(settings.vtj_verification_required).lower()], "VtjVerificationRequired")
    _entity_attribute(
        entity_attributes,
        SKIP_ENDPOINT_VALIDATION_WHEN_SIGNED,
        [str(settings.skip_endpoint_validation_when_signed).lower()],
        "SkipEndpointValidationWhenSigned",
    )
    _entity_attribute(entity_attributes, EIDAS_SUPPORT, [settings.eidas_support], "EidasSupport")
    _entity_attribute(entity_attributes, CIPHER_NAME, ["AES-GCM"], "CipherName")

    sp = _sub(
        root, MD, "SPSSODescriptor", AuthnRequestsSigned="true", WantAssertionsSigned="true", protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol"
    )
    ui = _sub(_sub(sp, MD, "Extensions"), MDUI, "UIInfo")
    names = {"fi": settings.service_name_fi, "sv": settings.service_name_sv, "en": settings.service_name_en}
    descriptions = {"fi": settings.service_description_fi, "sv": settings.service_description_sv, "en": settings.service_description_en}
    _localized(ui, MDUI, "DisplayName", names)
    _localized(ui, MDUI, "Description", descriptions)
    _localized(ui, MDUI, "PrivacyStatementURL", dict.fromkeys(LANGUAGES, settings.privacy_statement_url))
    if settings.logo_url:
        _sub(ui, MDUI, "Logo", settings.logo_url, height="60", width="200")
    # One KeyDescriptor without ``use``: the same certificate signs and decrypts (Suomi.fi allows one).
    key_info = _sub(_sub(sp, MD, "KeyDescriptor"), DS, "KeyInfo")
    _sub(_sub(key_info, DS, "X509Data"), DS, "X509Certificate", certificate_b64)
    _sub(sp, MD, "SingleLogoutService", Binding=BINDING_HTTP_REDIRECT, Location=settings.slo_url)
    _sub(sp, MD, "NameIDFormat", NAMEID_FORMAT_TRANSIENT)
    _sub(sp, MD, "AssertionConsumerService", Binding=BINDING_HTTP_POST, Location=settings.acs_url, index="1", isDefault="true")
    consuming = _sub(sp, MD, "AttributeConsumingService", index="1", isDefault="true")
    _localized(consuming, MD, "ServiceName", names)
    _localized(consuming, MD, "ServiceDescription", descriptions)
    for friendly in REQUESTED:
        _sub(consuming, MD, "RequestedAttribute", Name=URI_NAMES[friendly], FriendlyName=friendly, NameFormat=NAME_FORMAT_URI, isRequired="false")

    organization = _sub(root, MD, "Organization")
    org_names = {"fi": settings.organization_name_fi, "sv": settings.organization_name_sv, "en": settings.organization_name_en}
    _localized(organization, MD, "OrganizationName", org_names)
    _localized(organization, MD, "OrganizationDisplayName", org_names)
    _localized(organization, MD, "OrganizationURL", dict.fromkeys(LANGUAGES, settings.organization_url))
    contact = _sub(root, MD, "ContactPerson", contactType="technical")
    _sub(contact, MD, "Company", settings.organization_name_fi)
    _sub(contact, MD, "GivenName", settings.technical_contact_given_name)
    _sub(contact, MD, "SurName", settings.technical_contact_surname)
    _sub(contact, MD, "EmailAddress", f"mailto:{settings.technical_contact_email}")
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True).decode()


@dataclass(frozen=True)
class IdpEndpoints:
    """The sandbox IdP's addresses, laid out like Suomi.fi's under its base URL."""

    base_url: str

    @property
    def entity_id(self) -> str:
        return f"{self.base_url}/idp1"

    def profile(self, binding: str, service: str) -> str:
        return f"{self.base_url}/idp/profile/SAML2/{binding}/{service}"

    @property
    def metadata_url(self) -> str:
        return f"{self.base_url}/static/metadata/idp-metadata.xml"


def sandbox_idp_keys() -> tuple[KeyPair, KeyPair]:
    """The sandbox IdP's two signing pairs (current, next), made once into the data directory."""
    folder = data_dir() / "suomifi" / "sandbox-idp"
    return (
        ensure_key_pair(folder, "signing-1", "saml-signing-1.sandbox.kuntaflow"),
        ensure_key_pair(folder, "signing-2", "saml-signing-2.sandbox.kuntaflow"),
    )


def build_idp_metadata(base_url: str, signing_certs: Sequence[str]) -> str:
    """IdP metadata in the shape of DVV's ``idp-metadata-secondary.xml`` (unsigned).

    Args:
        base_url: where the IdP is served; the entityID and endpoints derive from it.
        signing_certs: base64 DER certificates, each a ``KeyDescriptor use="signing"``.
    """
    where = IdpEndpoints(base_url.rstrip("/"))
    root = etree.Element(f"{{{MD}}}EntityDescriptor", nsmap={None: MD, "ds": DS, "mdui": MDUI}, entityID=where.entity_id)
    idp = etree.SubElement(root, f"{{{MD}}}IDPSSODescriptor", WantAuthnRequestsSigned="true", protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol")
    ui = etree.SubElement(etree.SubElement(idp, f"{{{MD}}}Extensions"), f"{{{MDUI}}}UIInfo")
    names = {
        "fi": "Suomi.fi-tunnistus, Kuntaflow-hiekkalaatikko",
        "en": "Suomi.fi-identification, Kuntaflow sandbox",
        "sv": "Suomi.fi-identifikation, Kuntaflow-sandlåda",
    }
    for tag in ("DisplayName", "Description"):
        for lang, text in names.items():
            etree.SubElement(ui, f"{{{MDUI}}}{tag}", {XML_LANG: lang}).text = text
    for cert in signing_certs:
        key_info = etree.SubElement(etree.SubElement(idp, f"{{{MD}}}KeyDescriptor", use="signing"), f"{{{DS}}}KeyInfo")
        etree.SubElement(etree.SubElement(key_info, f"{{{DS}}}X509Data"), f"{{{DS}}}X509Certificate").text = cert
    for binding, name in ((BINDING_HTTP_POST, "POST"), (BINDING_HTTP_REDIRECT, "Redirect")):
        etree.SubElement(idp, f"{{{MD}}}SingleLogoutService", Binding=binding, Location=where.profile(name, "SLO"))
    etree.SubElement(idp, f"{{{MD}}}NameIDFormat").text = NAMEID_FORMAT_TRANSIENT
    for binding, name in ((BINDING_HTTP_POST, "POST"), (BINDING_HTTP_REDIRECT, "Redirect")):
        etree.SubElement(idp, f"{{{MD}}}SingleSignOnService", Binding=binding, Location=where.profile(name, "SSO"))
    org = etree.SubElement(root, f"{{{MD}}}Organization")
    org_names = {"fi": "Kuntaflow-hiekkalaatikko", "en": "Kuntaflow sandbox", "sv": "Kuntaflow-sandlåda"}
    for tag in ("OrganizationName", "OrganizationDisplayName"):
        for lang, text in org_names.items():
            etree.SubElement(org, f"{{{MD}}}{tag}", {XML_LANG: lang}).text = text
    for lang in org_names:
        etree.SubElement(org, f"{{{MD}}}OrganizationURL", {XML_LANG: lang}).text = base_url
    contact = etree.SubElement(root, f"{{{MD}}}ContactPerson", contactType="technical")
    etree.SubElement(contact, f"{{{MD}}}GivenName").text = "Kuntaflow"
    etree.SubElement(contact, f"{{{MD}}}SurName").text = "Hiekkalaatikko"
    etree.SubElement(contact, f"{{{MD}}}EmailAddress").text = "mailto:sandbox@kuntaflow.example"
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True).decode()


def sandbox_idp_metadata(base_url: str = SANDBOX_IDP_URL) -> str:
    """The metadata of the sandbox IdP served at ``base_url``, from its keys in the data directory."""
    return build_idp_metadata(base_url, [pair.certificate_base64() for pair in sandbox_idp_keys()])
