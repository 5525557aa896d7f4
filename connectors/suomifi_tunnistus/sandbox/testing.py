"""A ready SP + sandbox IdP pair for tests (this connector's and the e-service's).

Keys are made once into a folder the caller gives (2048-bit, to keep test setup fast); the SP
trusts the IdP's metadata written next to them, and the IdP serves the SP's metadata::

    kit = SamlTestKit.create(tmp_path_factory.mktemp("saml"))
    login = kit.sp.login_request("relay")
    identity = kit.sp.process_response(kit.idp.login_response(PERSONS["aino"], login.request_id), login.request_id)
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from connectors.suomifi_tunnistus.keys import KeyPair, ensure_key_pair
from connectors.suomifi_tunnistus.metadata import build_sp_metadata
from connectors.suomifi_tunnistus.sandbox.idp import TestIdP
from connectors.suomifi_tunnistus.settings import SANDBOX_IDP_URL, SuomiFiSettings
from connectors.suomifi_tunnistus.sp import ServiceProvider

TEST_KEY_BITS = 2048


@dataclass
class SamlTestKit:
    """Keys, settings, an SP and a sandbox IdP that trust each other."""

    folder: Path
    sp_keys: KeyPair
    idp_keys: tuple[KeyPair, KeyPair]
    rogue_keys: KeyPair
    idp: TestIdP
    sp: ServiceProvider

    @classmethod
    def create(cls, folder: Path, *, idp_base_url: str = SANDBOX_IDP_URL, **settings: Any) -> SamlTestKit:
        """Keys in ``folder``, an IdP at ``idp_base_url`` and an SP with ``settings`` overrides."""
        sp_keys = ensure_key_pair(folder, "sp", "test-sp", bits=TEST_KEY_BITS)
        idp_keys = (
            ensure_key_pair(folder, "idp-1", "test-idp-1", bits=TEST_KEY_BITS),
            ensure_key_pair(folder, "idp-2", "test-idp-2", bits=TEST_KEY_BITS),
        )
        rogue = ensure_key_pair(folder, "rogue", "test-idp-1", bits=TEST_KEY_BITS)
        kit_settings = cls._settings(folder, sp_keys, idp_base_url, **settings)
        sp_metadata = cls._sp_metadata(kit_settings)
        idp = TestIdP(idp_keys, [sp_metadata], base_url=idp_base_url)
        (folder / "idp-metadata.xml").write_text(idp.metadata_xml, encoding="utf-8")
        return cls(folder, sp_keys, idp_keys, rogue, idp, ServiceProvider(kit_settings))

    @staticmethod
    def _settings(folder: Path, sp_keys: KeyPair, idp_base_url: str, **overrides: Any) -> SuomiFiSettings:
        values: dict[str, Any] = {
            "key_file": sp_keys.key_file,
            "cert_file": sp_keys.cert_file,
            "idp_metadata": str(folder / "idp-metadata.xml"),
            "sandbox_idp_url": idp_base_url,
            "replay_database_url": f"sqlite:///{folder / 'seen-assertions.db'}",
        }
        return SuomiFiSettings(**(values | overrides))

    @staticmethod
    def _sp_metadata(settings: SuomiFiSettings) -> str:
        return build_sp_metadata(settings, settings.key_pair().certificate_base64())

    def settings(self, **overrides: Any) -> SuomiFiSettings:
        """The kit's SP settings with ``overrides`` (same keys, same IdP metadata)."""
        return self._settings(self.folder, self.sp_keys, self.idp.endpoints.base_url, **overrides)

    def another_sp(self, **overrides: Any) -> ServiceProvider:
        """An SP with other settings (e.g. ``requested_loa``) that the IdP also serves."""
        return ServiceProvider(self.settings(**overrides))


def query_of(url: str) -> str:
    """The raw query string of a redirect URL."""
    return urlsplit(url).query


def query_params(url: str) -> dict[str, str]:
    return {name: values[0] for name, values in parse_qs(urlsplit(url).query, keep_blank_values=True).items()}
