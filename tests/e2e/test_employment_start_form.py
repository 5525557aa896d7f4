"""HR starts an employment start from the Prefect UI's form, in headless Chromium, against a real server.

A Prefect server with its UI (``kuntaflow.prefect_server.embedded_prefect``) and the deployment
``employment-start`` served by ``flow.serve`` in a subprocess, as a worker would run it; HR, service
desk and SMTP sandboxes on real ports. HR opens the deployment, *Run → Custom run*, fills the
"Uusi työntekijä" fieldset (text boxes, date pickers, a number, switches) and submits. The run
onboards the employee and then *suspends* (its process exits) until the supervisor's link resumes
it; the resumed run finishes. The filled form and the run page are kept in ``test-artifacts/``.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from chromium_support import ARTIFACTS, launch_chromium
from cryptography.fernet import Fernet
from fastapi.testclient import TestClient

from apps.staff import create_app as create_staff
from connectors.email.sandbox import SmtpSandbox
from connectors.hr.sandbox import create_app as create_hr
from connectors.hr.sandbox.seed import test_hetu as make_hetu
from connectors.servers import free_port, serve_in_thread
from connectors.servicedesk.sandbox import create_app as create_desk
from kuntaflow.prefect_server import embedded_prefect
from kuntaflow.settings import KuntaflowSettings
from kuntaflow.workitems import ItemState
from processes.employment_start.confirmation import EmploymentStartSettings, confirmation_token
from schemas.employee import PROCESS
from schemas.hetu import helsinki_today
from schemas.workdays import add_working_days

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.shared_queue]

ROOT = Path(__file__).resolve().parents[2]
BORN = date(1992, 4, 9)
HETU = make_hetu(BORN, 961)
START = add_working_days(helsinki_today(), 15)


@pytest.fixture(scope="module")
def served(tmp_path_factory) -> Iterator[dict[str, Any]]:
    """Sandboxes, a Prefect server with its UI, and ``employment-start`` served from a subprocess."""
    data = tmp_path_factory.mktemp("employment-start-ui")
    with pytest.MonkeyPatch.context() as env:
        settings_env = {
            "KUNTAFLOW_DATA_DIR": str(data),
            "KUNTAFLOW_DATABASE_URL": f"sqlite:///{data / 'queue.db'}",
            "KUNTAFLOW_PAYLOAD_KEY": Fernet.generate_key().decode(),
            "KUNTAFLOW_HETU_SALT": "employment-start-ui-test-salt",
            "KUNTAFLOW_EMPLOYMENT_START_LINK_SECRET": "employment-start-ui-test-link-secret",
            "KUNTAFLOW_PREFECT_API_URL": "",
            "PREFECT_RUNNER_POLL_FREQUENCY": "1",
        }
        for name, value in settings_env.items():
            env.setenv(name, value)
        env.delenv("PREFECT_API_URL", raising=False)
        port = free_port("127.0.0.1")
        env.setenv("PREFECT_UI_API_URL", f"http://127.0.0.1:{port}/api")  # the UI's own calls; else it asks port 4200
        hr, desk = create_hr(), create_desk()
        with (
            serve_in_thread(hr) as hr_url,
            serve_in_thread(desk) as desk_url,
            SmtpSandbox() as smtp,
            embedded_prefect(KuntaflowSettings(), port=port) as api_url,
        ):
            env.setenv("KUNTAFLOW_HR_BASE_URL", f"{hr_url}/api/v1")
            env.setenv("KUNTAFLOW_SERVICEDESK_BASE_URL", f"{desk_url}/api/v1")
            env.setenv("KUNTAFLOW_EMAIL_HOST", smtp.host)
            env.setenv("KUNTAFLOW_EMAIL_PORT", str(smtp.port))
            log = open(data / "serve.log", "wb")  # noqa: SIM115 - closed below
            server = subprocess.Popen(
                [sys.executable, "-c", "from flows.employment_start import employment_start; employment_start.serve(name='employment-start')"],
                cwd=ROOT,
                env={**os.environ, "PREFECT_API_URL": api_url},
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
            try:
                yield {"api": api_url, "ui": api_url.removesuffix("/api"), "hr": hr, "desk": desk, "smtp": smtp, "deployment": _deployment_id(server)}
            finally:
                server.terminate()
                try:
                    server.wait(15)
                except subprocess.TimeoutExpired:
                    server.kill()
                log.close()


def _deployment_id(server: subprocess.Popen) -> str:
    from prefect import get_client

    deadline = time.monotonic() + 90
    with get_client(sync_client=True) as client:
        while time.monotonic() < deadline:
            assert server.poll() is None, "flow.serve exited"
            try:
                return str(client.read_deployment_by_name("employment-start/employment-start").id)
            except Exception:
                time.sleep(0.5)
    raise AssertionError("the deployment was never registered")


def _log_in(page: Any, ui: str) -> None:
    """The embedded server has basic auth on: an unknown visitor gets the login page, HR types user:password."""
    import httpx

    assert httpx.get(f"{ui}/api/admin/version", timeout=10).status_code == 401  # no credentials, no API
    assert httpx.get(f"{ui}/api/admin/version", auth=("kuntaflow", "wrong"), timeout=10).status_code == 401
    page.goto(f"{ui}/v2/dashboard", wait_until="networkidle")
    box = page.get_by_placeholder("admin:pass")
    box.fill(os.environ["PREFECT_API_AUTH_STRING"])  # the served server's (this test's own data directory has another)
    page.get_by_role("button", name="Login").click()
    box.wait_for(state="detached")


def _field(scope: Any, label: str) -> Any:
    """The form field container of ``label`` (Prefect's V2 form: a div.group around label and control)."""
    return scope.locator("label", has_text=re.compile(f"^{re.escape(label)}$")).first.locator(
        "xpath=ancestor::div[contains(concat(' ', normalize-space(@class), ' '), ' group ')][1]"
    )


def _pick_date(page: Any, label: str, value: date) -> None:
    page.get_by_role("button", name=label).click()
    box = page.get_by_role("dialog").get_by_role("textbox", name="Date (yyyy-MM-dd)")
    box.fill(value.isoformat())
    box.press("Enter")
    page.keyboard.press("Escape")
    # The picker closes asynchronously; the next date's dialog must not find this one still open.
    page.get_by_role("dialog").wait_for(state="detached")


def _run_state(api: str, run_id: str) -> Any:
    from prefect import get_client

    with get_client(sync_client=True) as client:
        return client.read_flow_run(run_id).state


def _run_parameters(api: str, run_id: str) -> dict[str, Any]:
    from prefect import get_client

    with get_client(sync_client=True) as client:
        return client.read_flow_run(run_id).parameters


def _deployment_runs(deployment_id: str) -> list[str]:
    from prefect import get_client
    from prefect.client.schemas.filters import DeploymentFilter, DeploymentFilterId

    with get_client(sync_client=True) as client:
        runs = client.read_flow_runs(deployment_filter=DeploymentFilter(id=DeploymentFilterId(any_=[deployment_id])))
    return [str(run.id) for run in runs]


def _submit(page: Any, tries: int = 3) -> None:
    """Press Submit as HR would until the server has created the run; fail with what the browser saw.

    Pressed again: a press that sent nothing (once on a fresh clone under load, with no message on the
    page), and a 503, which the Prefect server answers for an error it tells clients to retry (its own
    SQLite locked under the parallel suite's load, seen once); neither created a run. Any other refusal
    fails the test with its status.
    """
    sent: list[Any] = []
    errors: list[str] = []
    page.on("request", lambda request: sent.append(request) if "create_flow_run" in request.url else None)
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    answers: list[str] = []
    for _ in range(tries):
        sent.clear()
        page.get_by_role("button", name="Submit").click()
        deadline = time.monotonic() + 15
        while not sent and time.monotonic() < deadline:
            page.wait_for_timeout(250)
        if not sent:
            answers.append("nothing sent")
            continue
        answer = sent[0].response()
        if answer is not None and answer.status == 503:
            answers.append("503")
            page.wait_for_timeout(1000)
            continue
        assert answer is not None and answer.status < 400, f"the server refused the run: {answer and answer.status} {answer and answer.text()[:500]}"
        return
    raise AssertionError(f"Submit pressed {tries} times and no run was created ({answers}); the browser's console errors: {errors[-5:]}")


def _wait_for(what: str, check: Any, timeout: float = 120, page: Any = None) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.5)
    shown = "" if page is None else f"; the page showed: {page.locator('[role=alert], .p-toast, .p-message').all_inner_texts()}"
    raise AssertionError(f"timed out waiting for {what}{shown}")


def test_hr_fills_the_form_in_the_prefect_ui_and_the_run_onboards_suspends_and_resumes_on_the_link(served):
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as p:
        browser = launch_chromium(p)
        page = browser.new_page(viewport={"width": 1280, "height": 2200}, locale="fi-FI")
        try:
            _log_in(page, served["ui"])
            page.goto(f"{served['ui']}/v2/deployments/deployment/{served['deployment']}/run?parameters=%7B%7D", wait_until="networkidle")
            form = page  # the employee fieldset: every label in it is unique on the page
            for label, value in (
                ("Etunimet", "Aino Maria"),
                ("Sukunimi", "Lomakkeinen"),
                ("Henkilötunnus", HETU),
                ("Henkilökohtainen sähköposti", "aino.lomakkeinen@example.org"),
                ("Puhelin", "040 765 4321"),
                ("Tehtävänimike", "sairaanhoitaja"),
                ("Yksikkö", "SOTE-LAAKSO-OS7"),
                ("Työpaikan osoite", "Lääkärinkatu 8, Helsinki"),
                ("Rekisteröintinumero (Valvira) (Optional)", "10098765432"),
            ):
                _field(form, label).get_by_role("textbox").fill(value)
            _field(form, "Esihenkilön henkilönumero").get_by_role("spinbutton").fill("100101")
            _pick_date(page, "Syntymäaika", BORN)
            _pick_date(page, "Aloituspäivä", START)
            _field(form, "Kannettava tietokone (Optional)").get_by_role("switch").click()
            # The run's own parameters show their Finnish labels and help texts, never their Python names.
            for label, help_text in (
                ("Odota esihenkilön vahvistusta", "Ajo jää odottamaan, kunnes esihenkilö vahvistaa perehdytyksen."),
                ("Odotuksen enimmäisaika (s)", "Koskee vain prosessin sisäistä odotusta"),
            ):
                assert page.locator("label", has_text=re.compile(f"^{re.escape(label)}")).count() == 1, label
                assert page.get_by_text(help_text).count() >= 1, help_text
            assert page.locator("label", has_text=re.compile("^(wait_for_confirmation|confirmation_timeout_seconds|employee)")).count() == 0
            page.screenshot(path=str(ARTIFACTS / "employment-start-form.png"))
            _submit(page)
            # The run the form created, from the API: the UI's "View run" toast is brief and may come
            # and go while a loaded machine catches up, but the run is what HR's submit must make.
            runs = _wait_for("the form's flow run", lambda: _deployment_runs(served["deployment"]), timeout=90, page=page)
            assert len(runs) == 1, runs
            run_id = runs[0]
        except Exception:
            page.screenshot(path=str(ARTIFACTS / "employment-start-form-failure.png"))
            (ARTIFACTS / "employment-start-form-failure.html").write_text(page.content())
            raise

        # The run onboards the employee, then suspends: the process exits and waits for the supervisor.
        state = _wait_for("the run to suspend", lambda: (s := _run_state(served["api"], run_id)) and s.is_paused() and s)
        assert state.name == "Suspended"
        with KuntaflowSettings().work_queue() as queue:
            [item] = queue.list(process=PROCESS)
            assert item.state is ItemState.DONE and item.payload["title"] == "sairaanhoitaja" and item.payload["laptop_needed"] is True
            employment = served["hr"].state.store.employments[item.output["employment_id"]]
            assert employment["start_date"] == START.isoformat()
            # Prefect keeps the run's parameters; once queued, the henkilötunnus in them is the item's id.
            assert _run_parameters(served["api"], run_id)["employee"]["hetu"] == f"kuntaflow-item:{item.id}"
            page.goto(f"{served['ui']}/v2/runs/flow-run/{run_id}")
            page.get_by_text("Suspended").first.wait_for(timeout=30000)  # what HR sees: the run waits
            page.screenshot(path=str(ARTIFACTS / "employment-start-suspended-run.png"))

            token = confirmation_token(item.output["confirmation_item_id"], 100101, EmploymentStartSettings())
            answer = TestClient(create_staff()).post(f"/vahvistus/{token}", data={"confirmed_by": "Satu Lehtonen", "plan_confirmed": "true"})
            assert answer.status_code == 200
            final = _wait_for("the resumed run to finish", lambda: (s := _run_state(served["api"], run_id)) and s.is_final() and s)
            assert final.is_completed(), final
            assert [e.actor for e in queue.audit(item.id) if e.action == "supervisor_confirmed"] == ["Satu Lehtonen (sähköpostilinkki)"]
        browser.close()
