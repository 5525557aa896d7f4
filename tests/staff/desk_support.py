"""TEST-ONLY helpers for the Desk: a member of staff put straight into a signed session, and sample cases.

The staff app's real sign-in is OpenID Connect; these tests exercise the Desk behind it, so they
sign the session cookie themselves with the app's secret, exactly as Starlette's SessionMiddleware
does (``itsdangerous.TimestampSigner`` over base64 JSON). Production code never does this.
"""

from __future__ import annotations

import base64
import json
from datetime import timedelta
from typing import Any

import itsdangerous
from case_data import LIBRARY_APPLICANT_HETU, library_application
from pydantic import SecretStr

from apps.staff import create_app
from apps.staff.identity import SESSION_KEY, Role, StaffMember
from apps.staff.settings import StaffSettings
from kuntaflow.settings import KuntaflowSettings
from kuntaflow.workitems import WorkQueue

SECRET = "desk-test-secret-desk-test-secret-0123456789"
COOKIE = "kuntaflow_staff"
HETU = LIBRARY_APPLICANT_HETU

LIBRARIAN = StaffMember(subject="lib-1", name="Liisa Lainaaja", roles=frozenset({Role.LIBRARIAN}))
OTHER_LIBRARIAN = StaffMember(subject="lib-2", name="Leo Lukija", roles=frozenset({Role.LIBRARIAN}))
HR_OFFICER = StaffMember(subject="hr-1", name="Hanna Henkilöstö", roles=frozenset({Role.HR}))
RECRUITER = StaffMember(subject="rec-1", name="Risto Rekry", roles=frozenset({Role.RECRUITER}))
ADMINISTRATOR = StaffMember(subject="adm-1", name="Aki Ylläpito", roles=frozenset({Role.ADMINISTRATOR}))


def session_cookie(member: StaffMember | None, **extra: Any) -> str:
    """TEST-ONLY: the value of the staff app's session cookie holding ``member`` (and ``extra`` keys)."""
    data = {**extra, **({SESSION_KEY: member.model_dump(mode="json")} if member else {})}
    payload = base64.b64encode(json.dumps(data).encode("utf-8"))
    return itsdangerous.TimestampSigner(SECRET).sign(payload).decode("utf-8")


def desk_app(queue_url: str):
    """The staff app on ``queue_url`` with the test secret (no Prefect server: no flow-run links)."""
    engine = KuntaflowSettings(database_url=queue_url, prefect_api_url="http://127.0.0.1:4200/api")
    return create_app(staff_settings=StaffSettings(secret_key=SecretStr(SECRET)), engine_settings=engine, queue_factory=lambda: WorkQueue(queue_url))


def claim_only(queue: WorkQueue, process: str, item_id: int) -> None:
    """Claim ``item_id`` as robot-1, giving back (unstarted) any other case a claim took along."""
    for other in queue.claim(process, owner="robot-1", limit=1000):
        if other.id != item_id:
            queue.release(other.id, owner="robot-1", reason="another test case")


def refused(queue: WorkQueue, reference: str, code: str = "UNKNOWN_HOME_LIBRARY", *, process: str = "library_card", payload=None) -> int:
    """A case a robot left for a person (BUSINESS_FAILED with ``code``); returns its id."""
    item = queue.add(process, reference=reference, payload=payload if payload is not None else library_application(home_library="XYZ"))
    claim_only(queue, process, item.id)
    queue.checkpoint(item.id, "applicant_checked", {"age": 36})
    queue.fail_business(item.id, code=code, message="home library XYZ is not in Koha", owner="robot-1", output={"flow_run_id": "0b3c-run"})
    return item.id


def failed(queue: WorkQueue, reference: str, code: str = "KOHA_UNAVAILABLE") -> int:
    """A case the robots will retry themselves (APPLICATION_FAILED); returns its id."""
    item = queue.add("library_card", reference=reference, payload=library_application())
    claim_only(queue, "library_card", item.id)
    queue.fail_application(item.id, code=code, message="Koha answered 503", owner="robot-1", retry_in=timedelta(hours=1))
    return item.id
