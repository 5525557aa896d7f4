"""Cases the unit tests of the domain services and the flow tests share: the same seed data, so the two
layers assert the same expectations (tests/ is on sys.path through its conftest)."""

from __future__ import annotations

from datetime import date
from typing import Any

from connectors.hr.sandbox.seed import test_hetu as make_hetu
from flows.installation_check import sample_identity_code
from schemas.hetu import helsinki_today
from schemas.workdays import add_working_days

# --------------------------------------------------------------------------- employment start

SUPERVISOR = 100101  # Satu Johanna Lehtonen, Laakson sairaala osasto 7 (HR sandbox seed)
START = add_working_days(helsinki_today(), 10)
EMPLOYEE_BORN = date(1994, 6, 15)


def new_employee(individual: int, **changes: Any) -> dict[str, Any]:
    """A nurse starting in ten working days on ward 7, as HR's form sends her."""
    return {
        "first_names": "Aino Maria",
        "last_name": f"Testinen{individual}",
        "hetu": make_hetu(EMPLOYEE_BORN, individual),
        "date_of_birth": EMPLOYEE_BORN.isoformat(),
        "personal_email": f"aino.{individual}@example.org",
        "phone": "+358 40 123 4567",
        "start_date": START.isoformat(),
        "title": "sairaanhoitaja",
        "unit_id": "SOTE-LAAKSO-OS7",
        "supervisor_id": SUPERVISOR,
        "workplace_address": "Lääkärinkatu 8, 00250 Helsinki",
        "licence_number": "10012345678",
        "keys_needed": ["Osasto 7 lääkehuone"],
        "work_clothes": True,
        "name_badge": True,
        **changes,
    }


# --------------------------------------------------------------------------- mass recruitment

NIGHT = date(2026, 11, 25)
SMALL = "sote-05-1142-26"  # 20 applicants, 3 slots × 4 seats
MIDWIVES = "sote-04-0977-26"  # 40 applicants, 10 screened on an earlier night, 3 of them hired
#: What screening must find for each seed profile: (outcome, reason codes).
EXPECTED = {
    "fits": ("ELIGIBLE", []),
    "no_number": ("ELIGIBLE", []),
    "namesake": ("NEEDS_REVIEW", ["LICENCE_NOT_FOUND"]),
    "number_unknown": ("NEEDS_REVIEW", ["LICENCE_NOT_FOUND"]),
    "number_typo": ("NEEDS_REVIEW", ["LICENCE_DETAILS_MISMATCH"]),
    "limited": ("NEEDS_REVIEW", ["LICENCE_LIMITED"]),
    "partly_available": ("NEEDS_REVIEW", ["PARTLY_AVAILABLE"]),
    "no_consent": ("NEEDS_REVIEW", ["NO_REFERENCE_CONSENT"]),
    "expired": ("NOT_ELIGIBLE", ["LICENCE_EXPIRED"]),
    "wrong_profession": ("NOT_ELIGIBLE", ["WRONG_PROFESSION"]),
    "no_qualification": ("NOT_ELIGIBLE", ["QUALIFICATION_MISSING"]),
    "weak_finnish": ("NOT_ELIGIBLE", ["FINNISH_INSUFFICIENT"]),
    "not_available": ("NOT_ELIGIBLE", ["NOT_AVAILABLE"]),
}


# --------------------------------------------------------------------------- library card

LIBRARY_APPLICANT_HETU = sample_identity_code(date(1990, 5, 17), 931)


def library_application(**changes: Any) -> dict[str, Any]:
    """An adult's library-card application with a Finnish address, as the e-service queues it."""
    return {
        "applicant": {
            "hetu": LIBRARY_APPLICANT_HETU,
            "first_names": "Aino",
            "surname": "Meikäläinen",
            "permanent_address": {"street_address": "Kauppakatu 1", "postal_code": "40100", "post_office": "Jyväskylä"},
        },
        "home_library": "JYVPK",
        "email": "aino@example.org",
        "rules_accepted": True,
        "submitted_at": "2026-11-24T21:30:00+02:00",
        **changes,
    }
