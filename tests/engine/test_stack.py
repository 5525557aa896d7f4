"""The local stack's wiring: each sandbox package says what points its connector at it."""

from __future__ import annotations

import os

from apps.local_stack import stack_environment
from apps.staff.settings import StaffSettings
from connectors.email.settings import EmailSettings
from connectors.koha.settings import KohaSettings
from connectors.oidc import OidcSettings
from connectors.sandbox_server import client_environment
from connectors.suomifi_tunnistus.settings import SuomiFiSettings
from connectors.suomifi_viestit.settings import ViestitSettings
from kuntaflow.settings import environment
from processes.employment_start.confirmation import EmploymentStartSettings


def test_every_connector_client_is_pointed_at_its_mount_under_the_sandbox_server(tmp_path):
    values = stack_environment(data_dir=tmp_path, sandboxes_url="http://127.0.0.1:9999", eservice_url="http://127.0.0.1:9998")
    with environment(values):
        assert KohaSettings().base_url == "http://127.0.0.1:9999/koha/api/v1"
        assert ViestitSettings().base_url == "http://127.0.0.1:9999/suomifi_viestit"
        suomifi = SuomiFiSettings()
        assert suomifi.sandbox_idp_url == "http://127.0.0.1:9999/suomifi_tunnistus"
        assert suomifi.base_url == "http://127.0.0.1:9998"  # the SP's ACS URL is the e-service's
        email = EmailSettings()
        assert (email.host, str(email.port)) == ("127.0.0.1", values["KUNTAFLOW_EMAIL_SANDBOX_SMTP_PORT"])
    assert "KUNTAFLOW_KOHA_BASE_URL" not in os.environ or os.environ["KUNTAFLOW_KOHA_BASE_URL"] != values["KUNTAFLOW_KOHA_BASE_URL"]


def test_the_staff_apps_public_address_makes_every_link_and_the_sign_in_redirects(tmp_path):
    values = stack_environment(
        data_dir=tmp_path, sandboxes_url="http://127.0.0.1:9999", eservice_url="http://127.0.0.1:9998", staff_url="https://desk.example.fi"
    )
    with environment(values):
        oidc = OidcSettings()
        assert oidc.issuer == "http://127.0.0.1:9999/oidc"
        assert oidc.callback_url() == "https://desk.example.fi/kirjaudu/paluu"
        assert oidc.signed_out_url() == "https://desk.example.fi/kirjaudu/uloskirjautunut"
        assert StaffSettings().public_url == "https://desk.example.fi"
        assert EmploymentStartSettings().staff_url == "https://desk.example.fi"


def test_only_named_sandboxes_contribute_and_the_environment_is_restored(monkeypatch):
    monkeypatch.setenv("KUNTAFLOW_KOHA_BASE_URL", "http://koha.example/api/v1")
    assert client_environment("http://h:1", only=["koha"]) == {"KUNTAFLOW_KOHA_BASE_URL": "http://h:1/koha/api/v1"}
    with environment({"KUNTAFLOW_KOHA_BASE_URL": "http://h:1/koha/api/v1", "KUNTAFLOW_NEW_ONE": "x"}):
        assert os.environ["KUNTAFLOW_NEW_ONE"] == "x"
    assert os.environ["KUNTAFLOW_KOHA_BASE_URL"] == "http://koha.example/api/v1"
    assert "KUNTAFLOW_NEW_ONE" not in os.environ


def test_runs_the_schedule_lined_up_while_the_embedded_server_was_stopped_are_cancelled_not_all_started(prefect_harness):
    from datetime import UTC, datetime, timedelta

    from prefect import flow, get_client
    from prefect.client.schemas.actions import WorkPoolCreate
    from prefect.states import Scheduled

    from kuntaflow.prefect_deploy import cancel_missed_runs

    @flow(name="missed-runs-probe")
    def probe() -> None: ...

    with get_client(sync_client=True) as client:
        client.create_work_pool(WorkPoolCreate(name="missed-runs-pool", type="process"), overwrite=True)
        deployment = client.create_deployment(flow_id=client.create_flow(probe), name="probe", work_pool_name="missed-runs-pool")
        now = datetime.now(UTC)
        missed = client.create_flow_run_from_deployment(deployment, state=Scheduled(scheduled_time=now - timedelta(hours=3)))
        coming = client.create_flow_run_from_deployment(deployment, state=Scheduled(scheduled_time=now + timedelta(minutes=10)))
        assert cancel_missed_runs("missed-runs-pool") == 1
        assert client.read_flow_run(missed.id).state.is_cancelled()
        assert client.read_flow_run(coming.id).state.is_scheduled()
