"""Suomi.fi e-Identification attribute names: URI names, friendly names and pysaml2's map.

Source: shared/reference/suomifi.md §1.3–1.4 (omniauth-suomifi's catalogue and yjdh's
attributemaps). Every attribute Suomi.fi sends has NameFormat ``attrname-format:uri``; the
friendly names are pysaml2's keys in ``AuthnResponse.ava`` and in the IdP's identity dict.
pysaml2 drops attributes it cannot map (pitfall 5), so every OID the connector reads is here.
"""

from __future__ import annotations

from types import MappingProxyType

from saml2.saml import NAME_FORMAT_URI

EIDAS = "http://eidas.europa.eu/attributes/naturalperson/"

#: friendly name → URI name, in the order of suomifi.md §1.4.
URI_NAMES: MappingProxyType[str, str] = MappingProxyType(
    {
        "electronicIdentificationNumber": "urn:oid:1.2.246.22",
        "nationalIdentificationNumber": "urn:oid:1.2.246.21",
        "cn": "urn:oid:2.5.4.3",
        "displayName": "urn:oid:2.16.840.1.113730.3.1.241",
        "givenName": "urn:oid:2.5.4.42",
        "sn": "urn:oid:2.5.4.4",
        "FirstName": EIDAS + "CurrentGivenName",
        "foreignpersonIdentifier": "urn:oid:1.2.246.517.3002.111.17",
        "mail": "urn:oid:0.9.2342.19200300.100.1.3",
        "KotikuntaKuntanumero": "urn:oid:1.2.246.517.2002.2.18",
        "KotikuntaKuntaS": "urn:oid:1.2.246.517.2002.2.19",
        "KotikuntaKuntaR": "urn:oid:1.2.246.517.2002.2.20",
        "VakinainenKotimainenLahiosoiteS": "urn:oid:1.2.246.517.2002.2.4",
        "VakinainenKotimainenLahiosoiteR": "urn:oid:1.2.246.517.2002.2.5",
        "VakinainenKotimainenLahiosoitePostinumero": "urn:oid:1.2.246.517.2002.2.6",
        "VakinainenKotimainenLahiosoitePostitoimipaikkaS": "urn:oid:1.2.246.517.2002.2.7",
        "VakinainenKotimainenLahiosoitePostitoimipaikkaR": "urn:oid:1.2.246.517.2002.2.8",
        "VakinainenUlkomainenLahiosoite": "urn:oid:1.2.246.517.2002.2.11",
        "VakinainenUlkomainenLahiosoitePaikkakuntaJaValtioS": "urn:oid:1.2.246.517.2002.2.12",
        "VakinainenUlkomainenLahiosoitePaikkakuntaJaValtioR": "urn:oid:1.2.246.517.2002.2.13",
        "VakinainenUlkomainenLahiosoitePaikkakuntaJaValtioSelvakielinen": "urn:oid:1.2.246.517.2002.2.14",
        "VakinainenUlkomainenLahiosoiteValtiokoodi": "urn:oid:1.2.246.517.2002.2.15",
        "TurvakieltoTieto": "urn:oid:1.2.246.517.2002.2.27",
        "SuomenKansalaisuusTietokoodi": "urn:oid:1.2.246.517.2002.2.26",
        "VtjVerified": "urn:oid:1.2.246.517.3002.111.2",
        "PersonIdentifier": EIDAS + "PersonIdentifier",
        "FamilyName": EIDAS + "CurrentFamilyName",
        "DateOfBirth": EIDAS + "DateOfBirth",
    }
)

#: The attributes the e-service asks for in its metadata (RequestedAttribute): the identity, the
#: names, the home municipality and addresses ("medium" data scope), e-mail and the eIDAS set.
REQUESTED: tuple[str, ...] = (
    "nationalIdentificationNumber",
    "cn",
    "displayName",
    "givenName",
    "sn",
    "FirstName",
    "mail",
    "KotikuntaKuntanumero",
    "KotikuntaKuntaS",
    "KotikuntaKuntaR",
    "VakinainenKotimainenLahiosoiteS",
    "VakinainenKotimainenLahiosoiteR",
    "VakinainenKotimainenLahiosoitePostinumero",
    "VakinainenKotimainenLahiosoitePostitoimipaikkaS",
    "VakinainenKotimainenLahiosoitePostitoimipaikkaR",
    "VakinainenUlkomainenLahiosoite",
    "VakinainenUlkomainenLahiosoitePaikkakuntaJaValtioS",
    "VakinainenUlkomainenLahiosoitePaikkakuntaJaValtioR",
    "VakinainenUlkomainenLahiosoitePaikkakuntaJaValtioSelvakielinen",
    "VakinainenUlkomainenLahiosoiteValtiokoodi",
    "TurvakieltoTieto",
    "PersonIdentifier",
    "FamilyName",
    "DateOfBirth",
)

#: pysaml2 attribute map (``attribute_map_dir`` module format): URI name ↔ friendly name.
PYSAML2_MAP = {
    "identifier": NAME_FORMAT_URI,
    "fro": {uri: friendly for friendly, uri in URI_NAMES.items()},
    "to": dict(URI_NAMES),
}
