"""The mass-recruitment flow end to end: queue → Prefect flow → robot subprocess driving headless Chromium
in the Helbit sandbox's recruiter UI → register, Helbit API and SMTP sandboxes on real ports. Assertions are
on the queue, on what the sandboxes recorded, on the e-mails and on the recruiter's Excel report.

Two small jobs only (20 and 40 applicants): the browser is started once per job run."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from case_data import EXPECTED, MIDWIVES, NIGHT, SMALL
from cryptography.fernet import Fernet
from icalendar import Calendar
from openpyxl import load_workbook

from connectors.email.sandbox import SmtpSandbox
from connectors.helbit.sandbox import create_app as create_helbit
from connectors.helbit.sandbox.seed import recruitment_world
from connectors.servers import free_port, serve_in_thread
from connectors.valvira.sandbox import create_app as create_valvira
from flows.mass_recruitment import MassRecruitmentSummary, mass_recruitment
from kuntaflow.settings import KuntaflowSettings
from kuntaflow.workitems import ItemState, WorkQueue
from schemas.recruitment import EMPLOYMENT_START_PROCESS, PROCESS
from schemas.redaction import HETU_PATTERN

pytestmark = [pytest.mark.slow, pytest.mark.browser, pytest.mark.shared_queue]


@dataclass
class Systems:
    helbit: Any
    smtp: SmtpSandbox
    queue: WorkQueue
    env: pytest.MonkeyPatch

    @property
    def store(self) -> Any:
        return self.helbit.state.store

    def item(self, job_key: str) -> Any:
        return self.queue.find(PROCESS, f"{job_key}:{NIGHT.isoformat()}")

    def outcomes(self, job_key: str) -> dict[int, tuple[str, list[str]]]:
        steps = self.queue.checkpoints(self.item(job_key).id)
        return {int(k.split(":")[1]): (v["outcome"], v["reasons"]) for k, v in steps.items() if k.startswith("application:")}

    def messages(self) -> list[Any]:
        return list(self.smtp.mailbox.messages)

    def state(self) -> tuple[Any, ...]:
        """Everything a second run must leave as it is."""
        store = self.store
        return (
            len(self.messages()),
            len(store.interviews),
            store.exports,
            tuple(sorted((a.seed.application_id, a.status, a.stage_id) for a in store.applications.values())),
            tuple(sorted((i.id, i.state.value, i.attempts) for i in self.queue.list(limit=1000))),
        )


@pytest.fixture(scope="module")
def systems(prefect_harness, tmp_path_factory) -> Iterator[Systems]:
    with pytest.MonkeyPatch.context() as env:
        data = tmp_path_factory.mktemp("mass-recruitment")
        env.setenv("KUNTAFLOW_DATA_DIR", str(data))
        env.setenv("KUNTAFLOW_DATABASE_URL", f"sqlite:///{data / 'queue.db'}")
        env.setenv("KUNTAFLOW_PAYLOAD_KEY", Fernet.generate_key().decode())  # each test's own data dir would make its own
        env.setenv("HOME", str(data / "home"))  # Chromium and Selenium write here
        env.setenv("SE_OFFLINE", "true")
        env.setenv("SE_AVOID_STATS", "true")
        env.setenv("KUNTAFLOW_RETRY_BACKOFF_SECONDS", "3600")  # a failed night waits for the operator in these tests
        for system in ("HELBIT", "VALVIRA", "EMAIL"):
            env.setenv(f"KUNTAFLOW_{system}_RETRY_ATTEMPTS", "1")
        helbit = create_helbit(today=NIGHT)
        with serve_in_thread(helbit) as helbit_url, serve_in_thread(create_valvira(today=NIGHT)) as valvira_url, SmtpSandbox() as smtp:
            env.setenv("KUNTAFLOW_HELBIT_BASE_URL", helbit_url)
            env.setenv("KUNTAFLOW_VALVIRA_BASE_URL", f"{valvira_url}/api/v1")
            env.setenv("KUNTAFLOW_EMAIL_HOST", smtp.host)
            env.setenv("KUNTAFLOW_EMAIL_PORT", str(smtp.port))
            with KuntaflowSettings().work_queue() as queue:
                yield Systems(helbit, smtp, queue, env)


@pytest.fixture(scope="module")
def small_night(systems) -> MassRecruitmentSummary:
    return mass_recruitment(job_key=SMALL, night=NIGHT)


def test_every_applicant_of_the_job_ends_with_the_outcome_their_profile_calls_for(systems, small_night):
    [job] = small_night.jobs
    assert (job.job_key, job.state, job.exported, job.processed) == (SMALL, "DONE", 20, 20)
    seeds = {a.application_id: a for a in recruitment_world(NIGHT).applicants_of(SMALL)}
    found = systems.outcomes(SMALL)
    eligible = [a for a, s in seeds.items() if EXPECTED[s.profile][0] == "ELIGIBLE"]
    capacity = sum(slot.capacity for slot in systems.store.slots_of(4103))
    for application_id, seed in seeds.items():
        outcome, reasons = found[application_id]
        if seed.profile in ("fits", "no_number") and eligible.index(application_id) >= capacity:
            assert (outcome, reasons) == ("NEEDS_REVIEW", ["NO_INTERVIEW_SLOT"])
        else:
            assert (outcome, reasons) == EXPECTED[seed.profile], seed.profile
        application = systems.store.applications[application_id]
        expected = {"ELIGIBLE": ("active", 41033), "NEEDS_REVIEW": ("active", 41032), "NOT_ELIGIBLE": ("rejected", 41031)}[outcome]
        assert (application.status, application.stage_id) == expected  # a rejection keeps the stage it was in
    assert job.eligible + job.not_eligible + job.needs_review == 20
    assert small_night.lines()[1].startswith(f"  {SMALL}: 20 screened of 20 exported")


def test_no_seat_is_taken_twice_and_no_slot_is_overbooked(systems, small_night):
    scheduled = [i for i in systems.store.interviews.values() if i["status"] == "scheduled"]
    assert len(scheduled) == small_night.jobs[0].booked == len({i["application_id"] for i in scheduled})
    assert all(systems.store.booked(slot.slot_id) <= slot.capacity for slot in systems.store.slots_of(4103))


def test_the_eligible_get_an_invitation_with_a_calendar_file_and_the_rejected_the_reasons_in_finnish(systems, small_night):
    outcomes = systems.outcomes(SMALL)
    seeds = {a.application_id: a for a in recruitment_world(NIGHT).applicants_of(SMALL)}
    for application_id, (outcome, reasons) in outcomes.items():
        mail = systems.smtp.mailbox.to(seeds[application_id].email)
        if outcome == "NEEDS_REVIEW":
            assert mail == []
            continue
        [message] = mail
        assert message.text.startswith(f"Hei {seeds[application_id].first_names.split()[0]},")
        if outcome == "ELIGIBLE":
            [interview] = [i for i in systems.store.interviews.values() if i["application_id"] == application_id]
            assert message.subject == "Kutsu ryhmähaastatteluun: Fysioterapeutti, kuntoutus (sote-05-1142-26)"
            [ics] = [a for a in message.attachments if a.filename.endswith(".ics")]
            [event] = Calendar.from_ical(ics.content).walk("VEVENT")
            assert event["uid"] == f"helbit-interview-{interview['id']}@kuntaflow"
            assert event.decoded("dtstart").isoformat().replace("+00:00", "Z") == interview["start"]["date_time"]
        else:
            assert "Emme voi valita sinua" in message.text
            expected_phrase = {
                "LICENCE_EXPIRED": "ei ole enää voimassa",
                "WRONG_PROFESSION": "ammattioikeutta",
                "QUALIFICATION_MISSING": "tutkintoa",
                "FINNISH_INSUFFICIENT": "suomen kielen",
                "NOT_AVAILABLE": "et ole käytettävissä",
            }
            assert all(expected_phrase[r] in message.text for r in reasons)
        assert not HETU_PATTERN.search(message.text)


def test_the_recruiter_gets_the_excel_report_and_it_lists_everyone_by_outcome(systems, small_night):
    job = small_night.jobs[0]
    report = Path(job.report)
    book = load_workbook(report)
    assert book.sheetnames == ["Yhteenveto", "Soveltuvat", "Ei soveltuvat", "Tarkistettavat"]
    rows = {name: list(book[name].iter_rows(min_row=2, values_only=True)) for name in book.sheetnames[1:]}
    assert (len(rows["Soveltuvat"]), len(rows["Ei soveltuvat"]), len(rows["Tarkistettavat"])) == (job.eligible, job.not_eligible, job.needs_review)
    assert all(row[5] for row in rows["Soveltuvat"]) and all(row[5] for row in rows["Ei soveltuvat"])
    cells = [str(c) for sheet in book.worksheets for row in sheet.iter_rows(values_only=True) for c in row if c is not None]
    assert not any(HETU_PATTERN.search(c) for c in cells)
    [mail] = systems.smtp.mailbox.to("rekrytointi.kuntoutus@hel.fi")
    assert [a.filename for a in mail.attachments] == [report.name]


def test_the_robot_log_names_no_candidate(systems, small_night):
    seeds = recruitment_world(NIGHT).applicants_of(SMALL)
    [log] = small_night.robot_logs
    texts = "".join(p.read_text(encoding="utf-8") for p in Path(log).parent.glob("*") if p.suffix in (".xml", ".txt"))
    assert not any(s.email in texts or s.last_name in texts or s.birth_date.isoformat() in texts for s in seeds)


def test_running_the_same_night_again_changes_nothing(systems, small_night):
    before = systems.state()
    again = mass_recruitment(job_key=SMALL, night=NIGHT)
    assert systems.state() == before
    assert again.jobs == small_night.jobs and again.batches == 0


def test_a_night_interrupted_by_a_mail_outage_resumes_without_doing_anything_twice(systems, small_night):
    """The midwives' night: the mail server is down, so the night fails after screening, booking and
    stages; the operator retries it once mail is back, and only the letters go out, each once."""
    closed = free_port()
    systems.env.setenv("KUNTAFLOW_EMAIL_PORT", str(closed))
    failed = mass_recruitment(job_key=MIDWIVES, night=NIGHT)
    [job] = failed.jobs
    assert (job.state, job.error_code) == ("APPLICATION_FAILED", "CONNECT_FAILED")
    interviews, statuses = dict(systems.store.interviews), {a: (x.status, x.stage_id) for a, x in systems.store.applications.items()}
    assert len(systems.outcomes(MIDWIVES)) == 30  # the 10 screened on an earlier night are left alone
    systems.env.setenv("KUNTAFLOW_EMAIL_PORT", str(systems.smtp.port))
    systems.queue.retry(job.item_id, reason="mail server back", actor="test")
    resumed = mass_recruitment(job_key=MIDWIVES, night=NIGHT)
    [done] = resumed.jobs
    assert done.state == "DONE" and (done.processed, done.eligible + done.not_eligible + done.needs_review) == (30, 30)
    assert systems.store.interviews == interviews
    assert {a: (x.status, x.stage_id) for a, x in systems.store.applications.items()} == statuses
    seeds = recruitment_world(NIGHT).applicants_of(MIDWIVES)
    letters = [m for s in seeds for m in systems.smtp.mailbox.to(s.email)]
    assert len(letters) == done.letters_sent == done.eligible + done.not_eligible
    assert len({m.message_id for m in letters}) == len(letters)


def test_hires_become_employment_start_items_under_the_jobs_item_once(systems):
    item = systems.item(MIDWIVES)
    if item is None or item.state is not ItemState.DONE:  # run alone, or after the outage test failed
        if item is not None:
            systems.queue.retry(item.id, reason="test run alone", actor="test")
        mass_recruitment(job_key=MIDWIVES, night=NIGHT)
        item = systems.item(MIDWIVES)
    children = systems.queue.children(item.id)
    hired = sorted(a.application_id for a in recruitment_world(NIGHT).applicants_of(MIDWIVES) if a.hired_start)
    assert sorted(c.reference for c in children) == [f"helbit-application-{a}" for a in hired]
    payload = children[0].payload
    assert payload["source"]["job_key"] == MIDWIVES and payload["employment_type"] == "määräaikainen" and payload["title"] == "kätilö"
    assert payload["missing"] == ["hetu", "unit_id", "supervisor_id"]
    assert all(c.process == EMPLOYMENT_START_PROCESS for c in children)


def test_a_refused_ui_login_fails_the_night_with_a_screenshot(systems, tmp_path):
    systems.env.setenv("KUNTAFLOW_HELBIT_UI_PASSWORD", "kf-wrong-pw-4711")
    try:
        summary = mass_recruitment(job_key=SMALL, night=date(2026, 11, 26))
    finally:
        systems.env.delenv("KUNTAFLOW_HELBIT_UI_PASSWORD")
    [job] = summary.jobs
    assert (job.state, job.error_code) == ("APPLICATION_FAILED", "HELBIT_UI_LOGIN_REFUSED")
    [log] = summary.robot_logs
    shots = list(Path(log).parent.glob("helbit-ui-failure-*.png"))
    assert shots and shots[0].stat().st_size > 1000
    assert "kf-wrong-pw-4711" not in Path(log).with_name("output.xml").read_text(encoding="utf-8")


def test_hr_asking_for_a_job_that_is_not_open_gets_a_clear_error_and_nothing_is_queued(systems):
    from flows.mass_recruitment import open_jobs_to_screen

    before = systems.queue.counts()
    with pytest.raises(ValueError, match=r"job sote-09-9999-26 is not open .*open: sote-03-2180-26, "):
        open_jobs_to_screen.fn("SOTE-09-9999-26")
    with pytest.raises(ValueError, match="sote-03-2180-22"):
        open_jobs_to_screen.fn("kotihoito")
    assert systems.queue.counts() == before
