"""The ``viestit-password-rotation`` flow on a Prefect server, with the password in Prefect Secret blocks:
it rotates, the next run has nothing to do, and neither the run's logs nor its result hold the password."""

from __future__ import annotations

import pytest
from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import LogFilter, LogFilterFlowRunId
from prefect.exceptions import ParameterTypeError
from prefect.logging.handlers import APILogWorker

from connectors.sandbox_support import FaultSpec
from connectors.servers import serve_in_thread
from connectors.suomifi_viestit import ViestitSettings
from connectors.suomifi_viestit.sandbox import create_app
from connectors.suomifi_viestit.settings import SANDBOX_PASSWORD, SANDBOX_USERNAME
from flows.viestit_password_rotation import viestit_password_rotation
from kuntaflow.secret_store import PrefectSecretStore
from kuntaflow.settings import KuntaflowSettings
from processes.viestit_password import ViestitPasswords
from processes.viestit_password.passwords import CURRENT, PENDING


@pytest.mark.slow
def test_the_flow_rotates_into_prefect_secret_blocks_and_logs_no_password(prefect_harness, monkeypatch, tmp_path):
    sandbox = create_app(faults=FaultSpec())
    monkeypatch.setenv("KUNTAFLOW_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("KUNTAFLOW_SECRET_STORE", "prefect")
    with serve_in_thread(sandbox) as url:
        monkeypatch.setenv("KUNTAFLOW_VIESTIT_BASE_URL", url)
        assert isinstance(KuntaflowSettings().secrets(), PrefectSecretStore)
        first = viestit_password_rotation(return_state=True)
        second = viestit_password_rotation(return_state=True)
        with pytest.raises(ParameterTypeError, match="max_age_days: Input should be greater than or equal to 1"):
            viestit_password_rotation(max_age_days=0)

    assert first.result().outcome == "ROTATED" and second.result().outcome == "NOT_DUE"
    assert first.result().current_since == second.result().current_since is not None
    rotated = sandbox.state.store.credentials[SANDBOX_USERNAME]
    store = PrefectSecretStore()
    assert store.read(CURRENT).value.get_secret_value() == rotated and store.read(PENDING) is None
    assert ViestitPasswords(store, ViestitSettings()).candidates()[0].get_secret_value() == rotated

    APILogWorker.drain_all()
    with get_client(sync_client=True) as client:
        logs = client.read_logs(log_filter=LogFilter(flow_run_id=LogFilterFlowRunId(any_=[first.state_details.flow_run_id])))
    text = "\n".join(log.message for log in logs)
    assert "password rotation step done: promoted" in text
    assert rotated not in text and SANDBOX_PASSWORD.get_secret_value() not in text
    assert rotated not in first.result().model_dump_json()
    store.delete(CURRENT)
    assert store.read(CURRENT) is None
    store.delete(CURRENT)  # deleting what is not there is fine
