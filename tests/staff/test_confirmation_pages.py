"""The supervisor's confirmation page follows the person's language and shows dates the Finnish way."""

from __future__ import annotations

from datetime import date

import pytest
from fastapi.testclient import TestClient

from apps.i18n import finnish_date
from apps.staff import create_app
from kuntaflow.settings import KuntaflowSettings
from processes.employment_start.confirmation import ConfirmationPayload, EmploymentStartSettings, confirmation_token
from schemas.employee import CONFIRMATION_PROCESS

PAYLOAD = ConfirmationPayload(
    employment_item_id=7,
    supervisor_id=100101,
    supervisor_name="Satu Lehtonen",
    supervisor_email="satu.lehtonen@kaupunki.example",
    employee_name="Aino Testinen",
    title="sairaanhoitaja",
    unit_name="Laakson sairaala",
    start_date=date(2027, 1, 4),
    escalate_after_working_days=2,
)


@pytest.fixture
def staff_and_token(tmp_path, monkeypatch):
    monkeypatch.setenv("KUNTAFLOW_DATABASE_URL", f"sqlite:///{tmp_path / 'queue.db'}")
    with KuntaflowSettings().work_queue() as queue:
        item = queue.add(CONFIRMATION_PROCESS, reference="c-7", payload=PAYLOAD)
    return TestClient(create_app()), confirmation_token(item.id, PAYLOAD.supervisor_id, EmploymentStartSettings())


def test_the_page_is_finnish_with_a_finnish_date_and_switches_to_swedish_keeping_the_link(staff_and_token):
    staff, token = staff_and_token
    page = staff.get(f"/vahvistus/{token}")
    assert page.status_code == 200 and '<html lang="fi">' in page.text
    assert "aloittaa 4.1.2027" in page.text and "2027-01-04" not in page.text
    switched = staff.get(f"/kieli/sv?seuraava=/vahvistus/{token}", follow_redirects=False)
    assert switched.headers["location"] == f"/vahvistus/{token}"
    swedish = staff.get(f"/vahvistus/{token}")
    assert '<html lang="sv">' in swedish.text and "börjar 4.1.2027" in swedish.text and "Bekräfta" in swedish.text
    incomplete = staff.post(f"/vahvistus/{token}", data={"confirmed_by": "Satu Lehtonen"})
    assert incomplete.status_code == 422 and "kryssa för" in incomplete.text and 'role="alert"' in incomplete.text
    assert staff.post(f"/vahvistus/{token}", data={"confirmed_by": "Satu Lehtonen", "plan_confirmed": "true"}).text.count("Tack!") >= 1


def test_the_browser_language_decides_until_a_choice_is_made(staff_and_token):
    staff, token = staff_and_token
    english = staff.get(f"/vahvistus/{token}", headers={"Accept-Language": "en-GB,en;q=0.9"})
    assert '<html lang="en">' in english.text and "starts on 4.1.2027" in english.text
    expired = staff.get(f"/vahvistus/{token[:-2]}xx", headers={"Accept-Language": "en"})
    assert expired.status_code == 400 and "The link is wrong" in expired.text


def test_pages_carry_the_security_headers(staff_and_token):
    staff, token = staff_and_token
    headers = staff.get(f"/vahvistus/{token}").headers
    assert "script-src 'none'" in headers["content-security-policy"] and "frame-ancestors 'none'" in headers["content-security-policy"]
    assert headers["cache-control"] == "no-store" and headers["referrer-policy"] == "same-origin"


@pytest.mark.parametrize(
    ("value", "shown"),
    [(date(2026, 12, 4), "4.12.2026"), ("2026-12-04T08:30:00+02:00", "4.12.2026"), (None, ""), ("ei päivä", "ei päivä")],
)
def test_finnish_dates(value, shown):
    assert finnish_date(value) == shown
