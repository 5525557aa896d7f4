"""The front door: ``kuntaflow run`` and ``kuntaflow up`` as a person starts them, in subprocesses.

Both start the real local stack (Prefect server, ``prefect deploy``, a worker, the sandboxes and the
e-service) in one temporary data directory, so the second start finds Prefect's database made.
``run`` is given a small sample (every named case, a few generated adults, the repeat).
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
from datetime import date
from pathlib import Path

import httpx
import pytest

from schemas.redaction import HETU_PATTERN

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
KUNTAFLOW = [sys.executable, "-m", "apps.cli.main"]


@pytest.fixture(scope="module")
def environment(tmp_path_factory) -> dict[str, str]:
    data = tmp_path_factory.mktemp("front-door")
    env = {key: value for key, value in os.environ.items() if not key.startswith(("PREFECT_", "KUNTAFLOW_"))}
    return env | {"KUNTAFLOW_DATA_DIR": str(data), "KUNTAFLOW_SANDBOX_POPULATION_SIZE": "20", "PYTHONWARNINGS": "ignore"}


@pytest.fixture(scope="module")
def main_run(environment) -> str:
    """``kuntaflow run`` of every process (12 library-card and 12 employment-start samples, the 200-applicant job, the cards that run out soon)."""
    done = subprocess.run([*KUNTAFLOW, "run", "--samples", "12", "--staff-port", "0"], cwd=ROOT, env=environment, capture_output=True, text=True, timeout=900)
    output = done.stdout + done.stderr
    assert done.returncode == 0, output
    return output


@pytest.mark.timeout(900)  # the first test pays for the whole run (about 3 minutes here)
def test_run_submits_applications_through_the_eservice_and_the_deployment_decides_them(main_run):
    output = main_run
    assert "12 citizens went through the e-service with a Suomi.fi login" in output
    assert "1 repeat showed the existing application, 1 refused on the form" in output
    assert "Every case decided as the library's rules say (13 of 13)" in output
    # A reason code shown to a person comes with what it means.
    assert re.search(r"DONE\s+CARD_GRANTED\s+\d+\s+the library card was granted", output)
    assert re.search(r"BUSINESS_FAILED\s+INVALID_APPLICATION\s+1\s+the application's data broke the rules of its form", output)
    assert re.search(r"batch run\(s\) of the library-card deployment \(", output)  # decided on the warm path; batch runs for information
    # What waits for a person, and where staff open it (Kuntaflow Desk).
    assert re.search(r"Cases waiting for a person: \d+ \(.*library_card \d+.*\)\.\n  Staff handle them in Kuntaflow Desk: KUNTAFLOW_DATABASE_URL=", output)
    assert "Traceback" not in output
    assert not HETU_PATTERN.search(output), "a henkilötunnus in the summary"


def test_run_onboards_the_employment_starts_and_screens_the_job(main_run):
    starts = [line for line in main_run.splitlines() if "confirmed through the e-mail link (recorded), run Completed" in line]
    assert len(starts) == 12 and all(": DONE – HR employment " in line for line in starts)
    assert re.search(r"sote-03-2180-26: 200 screened of 200 exported: \d+ eligible \(\d+ booked\)", main_run)
    assert "checked against the Helbit and e-mail sandboxes: as it should be" in main_run
    assert re.search(r"Card-expiry reminders: the run of .*\n\s+\d+ expiring cards, flow run \S+: Completed", main_run)
    assert "checked against the Koha and e-mail sandboxes: one reminder per card, none twice" in main_run
    assert "Every application reached DONE or BUSINESS_FAILED, decided as the rules say." in main_run


def test_privacy_sweep_nothing_the_run_wrote_holds_a_henkilotunnus(main_run, environment):
    """The privacy sweep over the data directory (queue and Prefect databases with their WAL files, robot
    outputs, workbooks, letters, logs) holds no valid henkilötunnus and none of the sample people's."""
    from apps.demo.employment_start import HIRES, employee_parameters
    from connectors.sandbox_people import DEFAULT_POPULATION_SEED, sandbox_population
    from kuntaflow.privacy_sweep import files_swept, sweep

    data = Path(environment["KUNTAFLOW_DATA_DIR"])
    size = int(environment["KUNTAFLOW_SANDBOX_POPULATION_SIZE"])
    people = [p.hetu for p in sandbox_population(size, seed=DEFAULT_POPULATION_SEED) if p.hetu]
    hires = [employee_parameters(HIRES[n % len(HIRES)], n, date.today())["hetu"] for n in range(12)]
    assert len(people) > 20 and len(set(hires)) == 12
    written = files_swept(data)
    assert written > 50 and list(data.rglob("*.xlsx")) and list(data.glob("prefect/prefect.db"))
    findings = sweep(data, known=people + hires)
    assert not findings, "\n".join(map(str, findings))


def test_up_serves_every_address_until_ctrl_c(environment):
    process = subprocess.Popen(
        [*KUNTAFLOW, "up", "--eservice-port", "0", "--sandbox-port", "0", "--prefect-port", "0", "--staff-port", "0"],
        cwd=ROOT,
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    lines: list[str] = []
    ready, ended = threading.Event(), threading.Event()

    def read() -> None:
        for line in process.stdout:
            lines.append(line)
            if line.startswith("Applications sent on the e-service"):
                ready.set()
        ended.set()  # the process closed its output: it will never be ready

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        deadline = time.monotonic() + 240  # under pytest-timeout, so a failure shows what `up` printed
        while not ready.wait(1) and not ended.is_set() and time.monotonic() < deadline:
            pass
        assert ready.is_set(), f"`kuntaflow up` not ready (exit code {process.poll()}):\n" + "".join(lines)
        addresses = {
            what.strip(): url for what, url in (re.match(r"  (.+?)\s+(http://\S+)$", line).groups() for line in lines if re.match(r"  .+http://", line))
        }
        for wanted in (
            "E-service",
            "Sandboxes (index)",
            "Suomi.fi e-Identification: Test persons",
            "Suomi.fi Messages: Mailboxes",
            "E-mail: Mailboxes",
            "Prefect UI",
        ):
            [url] = [url for what, url in addresses.items() if what.startswith(wanted)]
            assert httpx.get(url, timeout=30).status_code == 200, (wanted, url)
        assert httpx.get(f"{addresses['Prefect UI']}/api/health", timeout=30).status_code == 200
        # The Desk sends a person to the OIDC sandbox's staff picker, with its registered callback.
        [desk] = [url for what, url in addresses.items() if what.startswith("Kuntaflow Desk")]
        sign_in = httpx.get(f"{desk}/kirjaudu", timeout=30)
        assert sign_in.status_code == 302 and sign_in.headers["location"].startswith(f"{addresses['Sandboxes (index)']}oidc/protocol/openid-connect/auth?")
        assert httpx.get(sign_in.headers["location"], timeout=30).status_code == 200
        # Served mode: Prefect's API (and so the UI) answers only with the password from settings.
        password = Path(environment["KUNTAFLOW_DATA_DIR"], "prefect-ui.password").read_text().strip()
        assert f"log in with 'kuntaflow:' followed by the password in {environment['KUNTAFLOW_DATA_DIR']}" in "".join(lines)
        assert password not in "".join(lines)
        assert httpx.get(f"{addresses['Prefect UI']}/api/admin/version", timeout=30).status_code == 401
        assert httpx.get(f"{addresses['Prefect UI']}/api/admin/version", auth=("kuntaflow", "not-it"), timeout=30).status_code == 401
        assert httpx.get(f"{addresses['Prefect UI']}/api/admin/version", auth=("kuntaflow", password), timeout=30).status_code == 200
        process.send_signal(signal.SIGINT)
        assert process.wait(120) == 0, "".join(lines)
    finally:
        if process.poll() is None:
            process.kill()
    reader.join(10)
    output = "".join(lines)
    assert output.rstrip().endswith("Stopped."), output
    assert "Traceback" not in output
    with pytest.raises(httpx.TransportError):
        httpx.get(addresses["Sandboxes (index)"], timeout=2)
