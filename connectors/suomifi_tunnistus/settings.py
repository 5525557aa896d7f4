"""Settings of the Suomi.fi e-Identification SP (env prefix ``KUNTAFLOW_SUOMIFI_``).

Nothing needs to be set for a local run: the e-service is at http://127.0.0.1:8000, the SP key
pair is generated once into the data directory, and the IdP is the sandbox IdP served by
``kuntaflow sandbox`` at http://127.0.0.1:8080/suomifi_tunnistus (its metadata is derived from
its keys in the same data directory). For Suomi.fi itself, point ``idp_metadata`` at DVV's
metadata file (test: ``idp-metadata-secondary.xml``, production: ``idp-metadata.xml``; see
shared/specs/suomifi/tunnistus) and give the registered key pair.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from connectors.suomifi_tunnistus.keys import KeyPair, ensure_key_pair
from schemas.data_home import DataHome

LOA3 = "http://ftn.ficora.fi/2017/loa3"
LOA2 = "http://ftn.ficora.fi/2017/loa2"
EIDAS_HIGH = "http://eidas.europa.eu/LoA/high"
EIDAS_SUBSTANTIAL = "http://eidas.europa.eu/LoA/substantial"
#: The test identifier of Suomi.fi's customer test environment: never accepted outside test mode.
LOA_TEST = "urn:oid:1.2.246.517.3002.110.999"
STRONG_LOAS = frozenset({LOA3, LOA2, EIDAS_HIGH, EIDAS_SUBSTANTIAL})

SANDBOX_IDP_URL = "http://127.0.0.1:8080/suomifi_tunnistus"
SANDBOX = "sandbox"


class SuomiFiSettings(BaseSettings):
    """Who the e-service is towards Suomi.fi, which IdP it trusts and what it accepts."""

    model_config = SettingsConfigDict(env_prefix="KUNTAFLOW_SUOMIFI_", extra="ignore")

    base_url: str = Field(
        default="http://127.0.0.1:8000",
        description="The e-service's public address without a trailing slash (the same as KUNTAFLOW_ESERVICE_BASE_URL); "
        "the ACS, SLO and metadata URLs are built from it.",
    )
    acs_path: str = Field(default="/saml/acs", description="AssertionConsumerService (HTTP-POST) under base_url.")
    slo_path: str = Field(default="/saml/slo", description="SingleLogoutService (HTTP-Redirect) under base_url.")
    metadata_path: str = Field(default="/saml/metadata", description="Where the e-service publishes its SP metadata.")
    entity_id: str | None = Field(default=None, description="SP entityID; the metadata URL when unset (a URL on the service's domain).")

    key_file: Path | None = Field(default=None, description="PEM private key for signing and decryption; generated into the data directory when unset.")
    cert_file: Path | None = Field(default=None, description="The key's certificate (one certificate for signing and encryption, as Suomi.fi allows).")

    idp_metadata: str = Field(
        default=SANDBOX,
        description="'sandbox' (the sandbox IdP, derived from its keys in the data directory) or the path of the IdP's metadata XML, "
        "e.g. DVV's idp-metadata-secondary.xml (test) or idp-metadata.xml (production).",
    )
    sandbox_idp_url: str = Field(default=SANDBOX_IDP_URL, description="Where the sandbox IdP is served (its entityID and endpoints derive from it).")

    requested_loa: list[str] = Field(
        default_factory=lambda: [LOA3, LOA2],
        min_length=1,
        description="AuthnContextClassRefs requested (exact) and accepted in the assertion, and FinnishAuthMethod in the metadata.",
    )
    test_mode: bool = Field(default=False, description="Suomi.fi test environment: also request and accept the test identifier (…110.999).")
    accepted_time_diff_seconds: int = Field(default=60, ge=0, le=600, description="Allowed clock skew for NotBefore/NotOnOrAfter.")
    xmlsec_binary: Path | None = Field(default=None, description="xmlsec1; looked up on PATH when unset (apt package xmlsec1).")
    replay_database_url: str | None = Field(
        default=None, description="SQLAlchemy URL of the seen-assertion table; a SQLite file in the data directory when unset."
    )

    vtj_verification_required: bool = Field(default=True, description="Entity attribute VtjVerificationRequired.")
    skip_endpoint_validation_when_signed: bool = Field(default=True, description="Entity attribute SkipEndpointValidationWhenSigned.")
    eidas_support: Literal["full", "none"] = Field(default="full", description="Entity attribute EidasSupport: accept EU users without a hetu.")

    service_name_fi: str = Field(default="Kuntaflow-kaupungin kirjasto: kirjastokortti")
    service_name_sv: str = Field(default="Kuntaflow stads bibliotek: bibliotekskort")
    service_name_en: str = Field(default="Kuntaflow City Library: library card")
    service_description_fi: str = Field(default="Kirjastokortin hakeminen verkossa itselle tai huollettavalle.")
    service_description_sv: str = Field(default="Ansökan om bibliotekskort på nätet för dig själv eller ditt barn.")
    service_description_en: str = Field(default="Apply online for a library card for yourself or your child.")
    organization_name_fi: str = Field(default="Kuntaflow-kaupunki")
    organization_name_sv: str = Field(default="Kuntaflow stad")
    organization_name_en: str = Field(default="City of Kuntaflow")
    organization_url: str = Field(default="https://kuntaflow.example")
    privacy_statement_url: str = Field(default="https://kuntaflow.example/tietosuoja")
    logo_url: str | None = Field(default=None, description="mdui:Logo (https) shown on the Suomi.fi page; none when unset.")
    technical_contact_given_name: str = Field(default="Kuntaflow")
    technical_contact_surname: str = Field(default="Tekninen tuki")
    technical_contact_email: str = Field(default="tunnistus@kuntaflow.example")

    @field_validator("base_url", "sandbox_idp_url")
    @classmethod
    def _absolute_url(cls, value: str) -> str:
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.netloc or parts.query or parts.fragment:
            raise ValueError("must be an absolute http(s) URL without query or fragment")
        return value.rstrip("/")

    @field_validator("acs_path", "slo_path", "metadata_path")
    @classmethod
    def _path(cls, value: str) -> str:
        if not value.startswith("/") or value.startswith("//"):
            raise ValueError("must be a path starting with '/'")
        return value

    @field_validator("requested_loa")
    @classmethod
    def _loa(cls, value: list[str]) -> list[str]:
        unknown = [loa for loa in value if loa not in STRONG_LOAS]
        if unknown:
            raise ValueError(f"unknown or weak LoA {unknown}; use {sorted(STRONG_LOAS)} (the test identifier comes with test_mode)")
        return list(dict.fromkeys(value))

    @model_validator(mode="after")
    def _key_pair(self) -> SuomiFiSettings:
        if (self.key_file is None) != (self.cert_file is None):
            raise ValueError("set both KUNTAFLOW_SUOMIFI_KEY_FILE and KUNTAFLOW_SUOMIFI_CERT_FILE, or neither")
        return self

    # ------------------------------------------------------------------ derived values

    @property
    def sp_entity_id(self) -> str:
        return self.entity_id or self.metadata_url

    @property
    def acs_url(self) -> str:
        return self.base_url + self.acs_path

    @property
    def slo_url(self) -> str:
        return self.base_url + self.slo_path

    @property
    def metadata_url(self) -> str:
        return self.base_url + self.metadata_path

    @property
    def accepted_loa(self) -> list[str]:
        """What an assertion may carry: the requested list; with eIDAS support also the eIDAS LoAs
        (high, substantial) a foreign user's assertion carries; in test mode the test identifier."""
        accepted = list(self.requested_loa)
        if self.eidas_support == "full":
            accepted += [EIDAS_HIGH, EIDAS_SUBSTANTIAL]
        if self.test_mode:
            accepted.append(LOA_TEST)
        return list(dict.fromkeys(accepted))

    @property
    def finnish_auth_methods(self) -> list[str]:
        """FinnishAuthMethod values for the metadata: the requested LoAs, and the test identifier in test mode."""
        return [*self.requested_loa, LOA_TEST] if self.test_mode else list(self.requested_loa)

    def key_pair(self) -> KeyPair:
        """The configured pair, else one generated once into ``<data dir>/suomifi/sp``."""
        if self.key_file is not None and self.cert_file is not None:
            for path in (self.key_file, self.cert_file):
                if not path.is_file():
                    raise ValueError(f"Suomi.fi key pair file {path} does not exist")
            return KeyPair(self.key_file, self.cert_file)
        return ensure_key_pair(data_dir() / "suomifi", "sp", "kuntaflow-sp")

    def resolved_xmlsec_binary(self) -> str:
        """Raises: ValueError: xmlsec1 is not installed (apt-get install xmlsec1)."""
        found = str(self.xmlsec_binary) if self.xmlsec_binary else shutil.which("xmlsec1")
        if not found or not Path(found).is_file():
            raise ValueError("xmlsec1 not found: install the Debian package xmlsec1 or set KUNTAFLOW_SUOMIFI_XMLSEC_BINARY")
        return found

    def resolved_replay_database_url(self) -> str:
        return self.replay_database_url or f"sqlite:///{data_dir() / 'suomifi' / 'seen-assertions.db'}"


def data_dir() -> Path:
    """The engine's data directory (``KUNTAFLOW_DATA_DIR``), created on first use."""
    return DataHome().resolved_data_dir
