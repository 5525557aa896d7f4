"""Mass recruitment, one job of 1,000 applicants (``sote-03-2201-26``): total time and where it goes.

Starts the Helbit, register and SMTP sandboxes on real local ports, queues the job's night and runs
one robot batch exactly as the flow's ``run_robot`` task does (kuntaflow.batches.process_batch:
claim, robot subprocess, release), on SQLite in a temporary data directory. Then it reads the
robot's ``output.xml`` and prints the split:

- **UI**: the headless-Chromium export from the recruiter UI, and reading the .xlsx (RPA.Excel.Files);
- **API**: register lookups, Helbit API (bookings, stages, hires), SMTP letters, the report;
- **engine**: claiming and releasing, starting the robot process and Robot Framework, loading the
  libraries, and the per-candidate checkpoint writes inside the steps (each step logs them).

    .venv/bin/python bench/mass_recruitment_bench.py [--job sote-03-2201-26]

Nothing is asserted: the figures are printed for the benchmark report (bench/README.md).
"""

from __future__ import annotations

import argparse
import os
import re
import tempfile
import time
import xml.etree.ElementTree as ET
from datetime import date
from pathlib import Path

STEPS = {
    "Open Job Of Work Item": "api",
    "Export Applicants From Recruiter UI": "ui",
    "Read Applicants From Excel": "ui",
    "Screen Applicants Against Job Requirements": "api",
    "Book Group Interviews For Eligible Candidates": "api",
    "Move Candidates To Their Stages": "api",
    "Send Invitations And Rejections": "api",
    "Pass Hired Candidates To Employment Start": "api",
    "Write Recruiter Report": "api",
    "Close Job Work Item": "engine",
}
_CHECKPOINTS = re.compile(r"Checkpoints: (\d+) in ([0-9.]+) s")


def step_times(output_xml: Path) -> tuple[dict[str, float], dict[str, tuple[int, float]]]:
    """Elapsed seconds per step keyword, and (checkpoints written, seconds) inside each."""
    elapsed: dict[str, float] = {}
    checkpoints: dict[str, tuple[int, float]] = {}
    for kw in ET.parse(output_xml).iter("kw"):
        name = kw.get("name")
        if name not in STEPS:
            continue
        status = kw.find("status")
        elapsed[name] = elapsed.get(name, 0.0) + float(status.get("elapsed", 0))
        for msg in kw.iter("msg"):
            if match := _CHECKPOINTS.search(msg.text or ""):
                count, seconds = checkpoints.get(name, (0, 0.0))
                checkpoints[name] = (count + int(match.group(1)), seconds + float(match.group(2)))
    return elapsed, checkpoints


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--job", default="sote-03-2201-26")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="kuntaflow-mr-bench-"))
    os.environ.update(KUNTAFLOW_DATA_DIR=str(work / "data"), HOME=str(work / "home"), SE_OFFLINE="true", SE_AVOID_STATS="true")
    os.environ.pop("KUNTAFLOW_DATABASE_URL", None)

    from connectors.email.sandbox import SmtpSandbox
    from connectors.helbit.sandbox import create_app as create_helbit
    from connectors.servers import serve_in_thread
    from connectors.valvira.sandbox import create_app as create_valvira
    from kuntaflow.batches import process_batch
    from kuntaflow.settings import KuntaflowSettings
    from schemas.recruitment import PROCESS, JobToScreen

    night = date.today()
    helbit = create_helbit(today=night)
    with serve_in_thread(helbit) as helbit_url, serve_in_thread(create_valvira(today=night)) as valvira_url, SmtpSandbox() as smtp:
        os.environ.update(
            KUNTAFLOW_HELBIT_BASE_URL=helbit_url,
            KUNTAFLOW_VALVIRA_BASE_URL=f"{valvira_url}/api/v1",
            KUNTAFLOW_EMAIL_HOST=smtp.host,
            KUNTAFLOW_EMAIL_PORT=str(smtp.port),
        )
        with KuntaflowSettings().work_queue() as queue:
            job = JobToScreen(job_key=args.job, night=night)
            item = queue.add(PROCESS, reference=job.reference, payload=job)
            started = time.perf_counter()
            report = process_batch(PROCESS, batch_size=1)
            total = time.perf_counter() - started
            done = queue.get(item.id)
        messages = len(smtp.mailbox.messages)
    if report.robot_log is None or done.output is None:
        raise SystemExit(f"the robot did not finish the job: {done.state.value} {done.error_code} {done.error_message}")
    elapsed, checkpoints = step_times(report.robot_log.with_name("output.xml"))
    out = done.output
    print(
        f"Mass recruitment bench: job {args.job}, {out['exported']} applicants, {out['processed']} screened "
        f"({out['eligible']} eligible / {out['not_eligible']} not / {out['needs_review']} review), {out['booked']} seats booked, "
        f"{messages} e-mails; work item {done.state.value}"
    )
    print(f"{'step':48} {'kind':7} {'seconds':>8} {'checkpoints':>12} {'their s':>8}")
    for name, kind in STEPS.items():
        count, seconds = checkpoints.get(name, (0, 0.0))
        print(f"{name:48} {kind:7} {elapsed.get(name, 0.0):8.2f} {count:12d} {seconds:8.2f}")
    checkpoint_seconds = sum(s for _, s in checkpoints.values())
    ui = sum(t for n, t in elapsed.items() if STEPS[n] == "ui")
    api = sum(t for n, t in elapsed.items() if STEPS[n] == "api") - checkpoint_seconds
    engine = total - ui - api
    print(f"{'total (claim → robot → release)':48} {'':7} {total:8.2f}")
    print(
        f"split: UI {ui:.1f} s ({ui / total:.0%}), API {api:.1f} s ({api / total:.0%}), "
        f"engine {engine:.1f} s ({engine / total:.0%}; of it {checkpoint_seconds:.1f} s for "
        f"{sum(c for c, _ in checkpoints.values())} checkpoint writes)"
    )
    print(f"per applicant: {total / max(out['exported'], 1) * 1000:.0f} ms; robot log {report.robot_log}")


if __name__ == "__main__":
    main()
