"""Fixtures of the e-service's HTTP tests (helpers in eservice_support.py)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from eservice_support import ESERVICE, IDP, Eservice, Neighbours, build_eservice
from fastapi.testclient import TestClient

from connectors.koha.sandbox import create_app as create_koha
from connectors.suomifi_tunnistus import ServiceProvider, SuomiFiSettings
from connectors.suomifi_tunnistus.sandbox import create_app as create_idp
from connectors.suomifi_valtuudet.sandbox import create_app as create_valtuudet
from kuntaflow.settings import KuntaflowSettings


@pytest.fixture(scope="module")
def neighbours(tmp_path_factory) -> Iterator[Neighbours]:
    with pytest.MonkeyPatch.context() as env:
        env.setenv("KUNTAFLOW_DATA_DIR", str(tmp_path_factory.mktemp("saml-keys")))
        env.setenv("KUNTAFLOW_SUOMIFI_SANDBOX_IDP_URL", IDP)
        sp = ServiceProvider(SuomiFiSettings(base_url=ESERVICE))
        idp_app = create_idp(sp_metadata=[sp.metadata_xml()], base_url=IDP)
        koha_app = create_koha(salt=KuntaflowSettings().salt())
        yield Neighbours(sp, idp_app, koha_app, create_valtuudet())


@pytest.fixture
def eservice(neighbours, monkeypatch) -> Iterator[Eservice]:
    """A fresh e-service (own data dir, queue and sessions) with the module's neighbours."""
    monkeypatch.setenv("KUNTAFLOW_SUOMIFI_SANDBOX_IDP_URL", IDP)
    built = build_eservice(neighbours)
    with TestClient(built.app):  # runs the lifespan: queue and sessions are disposed at the end
        yield built
