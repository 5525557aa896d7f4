"""Helbit connector against its sandbox: the open-jobs shape, the applications API, group-interview
booking (capacity, concurrent robots, lost answers), the recruiter UI and its Excel export."""

from __future__ import annotations

import io
import threading
from datetime import date
from typing import Any

import httpx
import pytest
import stamina
from openpyxl import load_workbook

from connectors.helbit import (
    EXPORT_COLUMNS,
    ExportedApplicant,
    HelbitAuthenticationError,
    HelbitClient,
    HelbitSettings,
    HelbitValidationError,
    JobNotFoundError,
    OpenJobsError,
    SlotFullError,
)
from connectors.helbit.sandbox import create_app
from connectors.helbit.sandbox.seed import recruitment_world
from connectors.sandbox_support import SyncASGITransport
from connectors.servers import serve_in_thread
from schemas.redaction import HETU_PATTERN

TODAY = date(2026, 11, 25)
SMALL = "sote-05-1142-26"


@pytest.fixture(autouse=True)
def _no_retry_waits():
    stamina.set_testing(True, attempts=3)
    yield
    stamina.set_testing(False)


@pytest.fixture
def app() -> Any:
    return create_app(today=TODAY)


def client_for(app: Any, **settings: Any) -> HelbitClient:
    return HelbitClient(HelbitSettings(base_url="http://helbit.test", **settings), transport=SyncASGITransport(app))


def browser_for(app: Any) -> httpx.Client:
    return httpx.Client(transport=SyncASGITransport(app), base_url="http://helbit.test")


def ui_login(app: Any, username: str = "rekrytoija", password: str = "rekry2026") -> httpx.Client:
    browser = browser_for(app)
    response = browser.post("/ui/login", data={"username": username, "password": password}, follow_redirects=False)
    assert response.status_code == 303
    return browser


def test_open_jobs_have_helbits_published_shape(app):
    raw = browser_for(app).get("/portal-api/recruitment/v2.3/open-jobs", params={"client": "helsinki", "lang": "fi_FI"}).json()
    assert raw["status"] == "OK"
    first = raw["jobAdvertisements"][0]
    assert set(first) == {"jobAdvertisement", "link"}
    assert {"id", "title", "jobDesc", "postalCode", "publicationStarts", "publicationEnds", "organizationDesc"} <= set(first["jobAdvertisement"])
    jobs = client_for(app).open_jobs()
    assert [job.key for job in jobs] == ["sote-03-2180-26", "sote-03-2201-26", "sote-05-1142-26", "sote-04-0977-26"]
    with pytest.raises(OpenJobsError):
        client_for(app, client="espoo").open_jobs()


def test_job_by_key_needs_a_job_key_and_an_open_job(app):
    helbit = client_for(app)
    job = helbit.job_by_key("SOTE-03-2180-26")
    assert (job.id, job.custom("required_professions"), job.recruiter_emails) == (
        4101,
        ["Sairaanhoitaja", "Terveydenhoitaja"],
        ["rekrytointi.kotihoito@hel.fi"],
    )
    with pytest.raises(ValueError, match="sote-03-2180-22"):
        helbit.job_by_key("kotihoito")
    with pytest.raises(JobNotFoundError):
        helbit.job_by_key("sote-09-9999-26")


def test_applications_are_read_across_pages(app):
    applications = client_for(app).list_applications(4101, per_page=30)
    assert len(applications) == 200 and len({a.id for a in applications}) == 200
    assert {a.status for a in client_for(app).list_applications(4104, status="hired")} == {"hired"}


def test_a_wrong_token_and_a_write_without_on_behalf_of_are_refused(app):
    with pytest.raises(HelbitAuthenticationError):
        client_for(app, api_token="wrong").list_jobs()
    response = browser_for(app).post("/api/v1/applications/41030001/reject", json={"rejection_reason_id": 801}, auth=("helbit-sandbox-api-token", ""))
    assert response.status_code == 403


def test_a_move_resent_or_already_done_is_not_an_error_but_a_wrong_from_stage_is(app):
    helbit = client_for(app)
    stages = {s.kind: s.id for s in helbit.job_stages(4103)}
    moved = helbit.move_application(41030001, from_stage_id=stages["new"], to_stage_id=stages["review"], idempotency_key="t:1:move")
    again = helbit.move_application(41030001, from_stage_id=stages["new"], to_stage_id=stages["review"], idempotency_key="t:1:move")
    other_key = helbit.move_application(41030001, from_stage_id=stages["new"], to_stage_id=stages["review"], idempotency_key="t:1:move-b")
    assert moved.current_stage.id == again.current_stage.id == other_key.current_stage.id == stages["review"]
    with pytest.raises(HelbitValidationError):
        helbit.move_application(41030001, from_stage_id=stages["new"], to_stage_id=stages["interview"], idempotency_key="t:1:move-c")


def test_rejected_stays_rejected_and_cannot_be_hired(app):
    helbit = client_for(app)
    first = helbit.reject_application(41030002, rejection_reason_id=801, notes="LICENCE_EXPIRED", idempotency_key="t:2:reject")
    second = helbit.reject_application(41030002, rejection_reason_id=801, notes="LICENCE_EXPIRED", idempotency_key="t:2:reject-b")
    assert first.status == second.status == "rejected"
    with pytest.raises(HelbitValidationError):
        helbit.hire_application(41030002, start_date=TODAY, idempotency_key="t:2:hire")


def test_a_slot_takes_its_capacity_and_no_more_and_a_candidate_is_booked_once(app):
    helbit = client_for(app)
    slot = helbit.interview_slots(4103)[0]
    for number in range(1, slot.capacity + 1):
        assert helbit.book_interview(41030000 + number, slot.id, idempotency_key=f"t:{number}:i").created
    assert helbit.book_interview(41030001, slot.id, idempotency_key="t:1:i-again").created is False
    with pytest.raises(SlotFullError):
        helbit.book_interview(41030010, slot.id, idempotency_key="t:10:i")
    booked = helbit.book_first_free_slot(41030010, 4103, idempotency_key="t:10:first-free")
    assert booked.created and booked.interview.interview_slot_id != slot.id


def test_concurrent_robots_over_real_http_never_overbook(app):
    """Six robots book the same 20 applicants into 3 slots × 4 seats at once: 12 seats, each taken once."""
    applicants = [41030000 + n for n in range(1, 21)]
    results: list[tuple[int, int | None]] = []
    lock = threading.Lock()
    with serve_in_thread(app) as url:

        def robot(order: list[int]) -> None:
            seats: dict[int, int] = {}  # each robot's own, soon stale, view of the free seats
            with HelbitClient(HelbitSettings(base_url=url)) as helbit:
                for application_id in order:
                    booked = helbit.book_first_free_slot(application_id, 4103, idempotency_key=f"t:{application_id}:interview", free_seats=seats)
                    with lock:
                        results.append((application_id, booked.interview.interview_slot_id if booked else None))

        threads = [threading.Thread(target=robot, args=(applicants[n:] + applicants[:n],)) for n in range(0, 18, 3)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    store = app.state.store
    scheduled = [i for i in store.interviews.values() if i["status"] == "scheduled"]
    assert len(scheduled) == 12
    assert len({i["application_id"] for i in scheduled}) == 12
    assert all(store.booked(slot.slot_id) == slot.capacity for slot in store.slots_of(4103))
    # Every robot saw the same answer for an applicant: the seat it has, or none.
    seat = {i["application_id"]: i["interview_slot_id"] for i in scheduled}
    assert all(slot_id == seat.get(application_id) for application_id, slot_id in results)


def test_a_booking_whose_answer_was_lost_is_made_once(app):
    helbit = client_for(app)
    app.state.faults.fail_next(1, kind="lost_response", path_prefix="/api/v2/scheduled_interviews")
    booked = helbit.book_first_free_slot(41030003, 4103, idempotency_key="t:3:interview")
    assert booked is not None
    assert [i["application_id"] for i in app.state.store.interviews.values()] == [41030003]


def test_transient_faults_are_retried(app):
    app.state.faults.fail_next(2, kind="error")
    assert len(client_for(app).job_stages(4101)) == 4


def test_the_ui_needs_a_login_and_says_plainly_when_it_fails(app):
    browser = browser_for(app)
    assert browser.get("/ui/jobs", follow_redirects=False).headers["location"].endswith("/ui/login")
    refused = browser.post("/ui/login", data={"username": "rekrytoija", "password": "väärä"})
    assert refused.status_code == 401 and "Väärä käyttäjätunnus tai salasana" in refused.text


def test_the_excel_export_holds_every_filtered_applicant_in_the_documented_columns(app):
    browser = ui_login(app)
    page = browser.get(f"/ui/jobs/{SMALL}")
    assert 'id="export-excel"' in page.text and '<span id="applicant-count">20</span>' in page.text
    export = browser.get(f"/ui/jobs/{SMALL}/export.xlsx")
    assert export.headers["content-disposition"] == f'attachment; filename="hakijat-{SMALL}.xlsx"'
    sheet = load_workbook(io.BytesIO(export.content)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert list(rows[0]) == list(EXPORT_COLUMNS)
    exported = [ExportedApplicant.from_row(dict(zip(rows[0], row, strict=True))) for row in rows[1:]]
    seeds = {a.application_id: a for a in recruitment_world(TODAY).applicants_of(SMALL)}
    assert {e.application_id for e in exported} == set(seeds)
    for row in exported:
        seed = seeds[row.application_id]
        assert (row.last_name, row.birth_date, row.registration_number, row.reference_consent) == (
            seed.last_name,
            seed.birth_date,
            seed.registration_number,
            seed.reference_consent,
        )
        assert row.languages["suomi"] == seed.languages[[s.language for s in seed.languages].index("fi")].level
    assert not any(HETU_PATTERN.search(str(cell)) for row in rows for cell in row if cell is not None)
    filtered = browser.get(f"/ui/jobs/{SMALL}/export.xlsx", params={"status": "rejected"})
    assert load_workbook(io.BytesIO(filtered.content)).active.max_row == 1


def test_bulk_actions_need_the_sessions_csrf_token(app):
    browser = ui_login(app)
    refused = browser.post(f"/ui/jobs/{SMALL}/bulk", data={"action": "reject:801", "application_ids": ["41030001"], "csrf": "x"})
    assert refused.status_code == 403
    token = browser.get(f"/ui/jobs/{SMALL}").text.split('name="csrf" value="')[1].split('"')[0]
    done = browser.post(
        f"/ui/jobs/{SMALL}/bulk", data={"action": "move:41032", "application_ids": ["41030001", "41030002"], "csrf": token}, follow_redirects=True
    )
    assert "2 hakemusta päivitetty" in done.text
    assert {app.state.store.applications[i].stage_id for i in (41030001, 41030002)} == {41032}
