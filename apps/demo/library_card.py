"""The library-card process's sample cases: citizens apply through the e-service, the deployment decides.

Each sample citizen is a person of the sandbox population (``connectors.sandbox_people``) and goes
the way a browser without JavaScript would: the e-service's start page → *Tunnistaudu Suomi.fi:llä*
→ the sandbox IdP's person picker → its auto-post form → the ACS → (a guardian: whom for, the child picked on Suomi.fi Valtuudet's page) → the
form → submit → the status page. The e-service queues the application and emits its Prefect
event; the ``library-card`` deployment's trigger starts a run on the worker. Nothing here calls
the flow.

The named cases cover each rule (an existing patron, a child through a guardian, a child alone, a
15-year-old, a non-disclosure marking, no mailbox, no e-mail, an address abroad, an eIDAS user, a
repeat application); generated adults make up the rest. An invalid henkilötunnus cannot come
from Suomi.fi, so that one case is queued directly, as an integration would, and its event sent.
"""

from __future__ import annotations

import time
import zlib
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

import httpx

from apps.demo import DemoResult
from apps.demo.browser import Browser, Page, PageError
from apps.eservice.people import person_reference
from apps.eservice.trigger import PrefectEventTrigger, fire
from apps.local_stack import Stack
from connectors.email.models import message_id_for
from connectors.email.settings import EmailSettings
from connectors.sandbox_people import sandbox_population
from kuntaflow.prefect_deploy import wait_for_flow_runs
from schemas.hetu import Hetu
from schemas.library_card import PROCESS, ReasonCode, VerifiedPerson
from schemas.reason_meanings import meaning

DEPLOYMENTS = ("library-card",)
DEPLOYMENT = "library-card/library-card"
DEFAULT_COUNT = 60
#: How long the decisions may take once every application is in (robot batches on two cores).
PROCESSING_TIMEOUT_SECONDS = 300
INVALID_HETU = "150385-904X"  # Aino's birth date with a wrong check character
REFUSED_ON_FORM = "refused on the form"
REPEAT_SHOWN = "existing application shown"
#: The robot's externalId / e-mail idempotency key prefix (LibraryCardKeywords' default): ``<prefix>-<item id>-decision``.
EXTERNAL_ID_PREFIX = "kuntaflow-library-card"


@dataclass(frozen=True)
class Case:
    """One sample citizen: who logs in, for whom, and what the library should decide."""

    what: str
    person: str
    child: str | None = None
    expect: str = "CARD_GRANTED"
    preference: str = "suomifi"
    language: str = "fi"


@dataclass
class Submitted:
    case: Case
    outcome: str  # "queued", REFUSED_ON_FORM, REPEAT_SHOWN
    seconds: float
    reference: str | None = None


@dataclass
class Report:
    submitted: list[Submitted] = field(default_factory=list)
    direct_item: int | None = None
    patrons_before: int = 0


NAMED_CASES = (
    Case("an existing patron", "aino", expect="ALREADY_A_PATRON"),
    Case("a child through a guardian", "sanna", child="onni", preference="email"),
    Case("a child alone (under 15)", "eetu", expect=REFUSED_ON_FORM),  # nobody applied for Eetu: the form refuses him
    Case("a 15-year-old alone", "ella", language="sv"),
    Case("a non-disclosure marking", "tuuli", expect="NON_DISCLOSURE_STAFF_REVIEW"),
    Case("no e-mail and no mailbox", "matti", preference="letter", language="sv"),
    Case("an existing patron without a mailbox", "mikko", expect="ALREADY_A_PATRON", preference="email"),
    Case("a permanent address abroad", "liisa", expect="NO_PERMANENT_ADDRESS_IN_FINLAND", language="en"),
    Case("an eIDAS user without a hetu", "erik", expect="NO_FINNISH_HETU_STAFF_REVIEW", language="en"),
)


def cases(count: int, people: Any) -> list[Case]:
    """``count`` e-service submissions: the named cases, generated adults, and a repeat of the first of them."""
    named = list(NAMED_CASES[: max(count - 1, 0)])
    generated = people.generated[: max(count - len(named) - 1, 0)]
    result = named + [
        Case(
            "a generated adult" if not person.koha else "a generated existing patron",
            person.key,
            expect="ALREADY_A_PATRON" if person.koha else "CARD_GRANTED",
            preference="email" if index % 4 == 3 and person.email else "suomifi",
            language=("fi", "fi", "sv", "en")[index % 4],
        )
        for index, person in enumerate(generated)
    ]
    if len(result) < count:  # the repeat: someone who applied already logs in and tries again
        first = next((case for case in result if case.expect not in (REFUSED_ON_FORM,)), None)
        if first is not None:
            result.append(Case("a repeat application", first.person, child=first.child, expect=REPEAT_SHOWN))
    return result


def run(stack: Stack, *, count: int = DEFAULT_COUNT, citizens_at_once: int = 3) -> DemoResult:
    """Submit ``count`` applications through the e-service, wait for the decisions, report and check them."""
    started_at = datetime.now(UTC)
    people = sandbox_population()  # the same people the sandbox IdP logs in (same settings)
    planned = cases(count, people)
    report = Report(patrons_before=len(stack.sandbox("koha").state.store.patrons))
    with stack.settings.work_queue() as queue:
        clock = time.monotonic()
        first_round = [case for case in planned if case.expect != REPEAT_SHOWN]
        with ThreadPoolExecutor(citizens_at_once) as pool:
            report.submitted = list(pool.map(lambda case: apply(stack, case, people), first_round))
        report.submitted += [apply(stack, case, people) for case in planned if case.expect == REPEAT_SHOWN]
        report.direct_item = enqueue_invalid_hetu(queue)
        submit_seconds = time.monotonic() - clock
        references = references_of(report)
        items = wait_for_decisions(queue, references, report.direct_item, timeout=PROCESSING_TIMEOUT_SECONDS)
        runs = wait_for_flow_runs(DEPLOYMENT, since=started_at, timeout=60)
        decided_seconds = time.monotonic() - clock
        return summarise(stack, report, people, items, queue, runs, started_at, submit_seconds, decided_seconds)


def references_of(report: Report) -> list[str]:
    """The queue references of the applications the e-service queued."""
    return [s.reference for s in report.submitted if s.outcome == "queued" and s.reference]


def apply(stack: Stack, case: Case, people: Any) -> Submitted:
    """One citizen, start page to status page, in their own browser; a page not as expected is the outcome."""
    outcome, seconds = visit(stack.eservice_url, case, people)
    return Submitted(case, outcome, seconds, reference_of(stack, case, people))


def visit(eservice_url: str, case: Case, people: Any, before_sending: Callable[[], None] | None = None) -> tuple[str, float]:
    """``apply``'s browser part alone, with the seconds it took: needs only the e-service's address, so
    a load generator can run it in processes of its own (the stack stays in the process that made it).
    ``before_sending`` is called with the filled-in form on screen, just before it is sent (a load
    generator holds the citizen there until their planned instant)."""
    clock = time.monotonic()
    try:
        outcome = _go_through(eservice_url, case, people[case.person], people, before_sending)
    except (PageError, httpx.HTTPError) as error:
        outcome = f"failed: {error}"
    return outcome, time.monotonic() - clock


def reference_of(stack: Stack, case: Case, people: Any) -> str:
    """The queue reference the e-service gives ``case``'s application (the child's, when for a child)."""
    return _reference(stack, people[case.child] if case.child else people[case.person])


def _go_through(eservice_url: str, case: Case, person: Any, people: Any, before_sending: Callable[[], None] | None = None) -> str:
    with Browser() as browser:
        page = browser.get(f"{eservice_url}/")
        picker = browser.submit(page, "/login")
        choice = {"person": person.key} if not person.generated else {"person": "_other", "person_key": person.key}
        autopost = browser.submit(picker, "/idp/login", {**choice, "action": "login"})
        page = browser.submit(autopost, "/saml/acs")
        if case.child and page.path.endswith("/apply"):
            page = _child_from_valtuudet(browser, page, people[case.child])
        return _fill_in(browser, page, case, person, before_sending)


def _child_from_valtuudet(browser: Browser, page: Page, child: Any) -> Page:
    """The guardian's way: "whom for" → Suomi.fi Valtuudet's page, where the child is picked → back to the form."""
    choose = browser.get(urljoin(page.url, "/apply/for"))
    if "valtuudet" not in choose.choices("applicant", "/apply/for"):
        raise PageError("the e-service does not offer applying for a child through Suomi.fi Valtuudet")
    valtuudet = browser.submit(choose, "/apply/for", {"applicant": "valtuudet"})
    if child.key not in valtuudet.choices("principal", "/oauth/authorize"):
        raise PageError(f"Suomi.fi Valtuudet does not offer the child of the sample case ({child.key}) to the guardian")
    return browser.submit(valtuudet, "/oauth/authorize", {"principal": child.key, "action": "select"})


def _fill_in(browser: Browser, page: Page, case: Case, person: Any, before_sending: Callable[[], None] | None = None) -> str:
    if page.path.endswith("/status"):
        return REPEAT_SHOWN
    try:
        libraries = page.options("home_library", "/apply")
    except PageError:
        if page.path.endswith("/apply") and page.status_code == 200:
            return REFUSED_ON_FORM  # the e-service's "a guardian applies for a child under 15" page
        raise
    email = person.email  # the logged-in person's: a guardian's for a child
    fields = {
        "home_library": libraries[zlib.crc32(person.key.encode()) % len(libraries)],
        "email": email or "",
        "language": case.language,
        "notification_preference": case.preference if (case.preference != "email" or email) else "suomifi",
        "rules_accepted": "yes",
    }
    if before_sending is not None:
        before_sending()
    done = browser.submit(page, "/apply", fields)
    if not done.path.endswith("/status"):
        raise PageError(f"the e-service did not accept the application of sample case '{case.what}' (page {done.path}, {done.status_code})")
    return "queued"


def _reference(stack: Stack, person: Any) -> str:
    """The queue reference the e-service gives an application about ``person`` (a keyed hash)."""
    verified = VerifiedPerson.model_construct(
        hetu=Hetu(person.hetu) if person.hetu else None, eidas_person_identifier=person.eidas_person_identifier, date_of_birth=date.min
    )
    return person_reference(verified, stack.settings.salt())


def enqueue_invalid_hetu(queue: Any) -> int:
    """What an integration (a paper form scanned elsewhere) could send: a hetu with a wrong check character."""
    payload = {
        "applicant": {
            "hetu": INVALID_HETU,
            "first_names": "Paperi Lomake",
            "surname": "Esimerkki",
            "home_municipality_code": "179",
            "home_municipality": "Jyväskylä",
            "permanent_address": {"street_address": "Kauppakatu 1", "postal_code": "40100", "post_office": "JYVÄSKYLÄ"},
        },
        "home_library": "JYVPK",
        "language": "fi",
        "rules_accepted": True,
        "submitted_at": datetime.now(UTC).isoformat(),
    }
    item = queue.add(PROCESS, reference=f"integration-paper-form-{datetime.now(UTC):%Y%m%d%H%M%S}", payload=payload, actor="integration")
    fire(PrefectEventTrigger(), item)
    return item.id


def wait_for_decisions(queue: Any, references: list[str], direct_item: int | None, *, timeout: float) -> list[Any]:
    """The applications' items once each is DONE, BUSINESS_FAILED or ABANDONED (or the timeout passed)."""
    deadline = time.monotonic() + timeout
    while True:
        items = [queue.find(PROCESS, reference) for reference in references]
        if direct_item is not None:
            items.append(queue.get(direct_item))
        finished = [i for i in items if i is not None and i.state.value in ("DONE", "BUSINESS_FAILED", "ABANDONED")]
        if len(finished) == len(items) or time.monotonic() > deadline:
            return items
        time.sleep(1)


def summarise(
    stack: Stack, report: Report, people: Any, items: list[Any], queue: Any, runs: Any, started_at: datetime, submit_seconds: float, decided_seconds: float
) -> DemoResult:
    """Readable lines, checked against the queue, the Messages and e-mail sandboxes and Prefect."""
    problems: list[str] = []
    lines = _submission_lines(report, submit_seconds, problems)
    item_by_reference = {i.reference: i for i in items if i is not None}
    all_items = [i for i in items if i is not None]
    decided, reasons = _decision_lines(items, decided_seconds, problems)
    lines += decided
    lines += _rule_lines(report, item_by_reference, queue, problems)
    lines += _messages(stack, all_items, queue, problems)
    guardians = {s.case.person for s in report.submitted if s.case.child and s.outcome == "queued" and not people[s.case.person].koha}
    granted_for_children = {s.case.person for s in report.submitted if s.case.person in guardians and _granted(item_by_reference.get(s.reference or ""))}
    lines += _koha(stack, report.patrons_before, reasons, len(granted_for_children), problems)
    lines += _prefect_lines(runs, problems)
    lines += _robot_logs(stack, started_at)
    if problems:
        lines.append("NOT OK: " + "; ".join(problems))
    return DemoResult("Library cards", lines, ok=not problems)


def _submission_lines(report: Report, submit_seconds: float, problems: list[str]) -> list[str]:
    """How the citizens got through the e-service."""
    by_outcome = Counter(s.outcome for s in report.submitted)
    lines = [
        f"{len(report.submitted)} citizens went through the e-service with a Suomi.fi login in {submit_seconds:.0f} s "
        f"(median {sorted(s.seconds for s in report.submitted)[len(report.submitted) // 2]:.1f} s each): "
        f"{by_outcome['queued']} applications queued, {by_outcome[REPEAT_SHOWN]} repeat showed the existing application, "
        f"{by_outcome[REFUSED_ON_FORM]} refused on the form (under 15, no guardian).",
        "1 application with an invalid henkilötunnus was queued directly, as an integration would: Suomi.fi cannot produce one.",
    ]
    failed = [s for s in report.submitted if s.outcome.startswith("failed")]
    if failed:
        problems.append(f"{len(failed)} citizens could not get through the e-service")
        lines += [f"  {s.case.what} ({s.case.person}): {s.outcome}" for s in failed[:5]]
    return lines


def _decision_lines(items: list[Any], decided_seconds: float, problems: list[str]) -> tuple[list[str], Counter]:
    """Whether every application was decided, and the outcomes by reason (also returned, for the Koha check)."""
    all_items = [i for i in items if i is not None]
    unfinished = [i for i in all_items if i.state.value not in ("DONE", "BUSINESS_FAILED")]
    missing = len(items) - len(all_items)
    lines = [
        f"All decided in {decided_seconds:.0f} s from the first login."
        if not unfinished and not missing
        else f"{len(unfinished) + missing} not decided after {decided_seconds:.0f} s."
    ]
    if unfinished or missing:
        problems.append(f"{len(unfinished) + missing} applications did not reach DONE or BUSINESS_FAILED")
    lines.append("Outcomes by reason:")
    reasons = Counter((i.state.value, "CARD_GRANTED" if i.state.value == "DONE" else (i.error_code or "-")) for i in all_items)
    for (state, code), number in sorted(reasons.items(), key=lambda row: (-row[1], row[0])):
        lines.append(f"  {state:<16} {code:<32} {number:>3}  {meaning(code)}")
    return lines, reasons


def _rule_lines(report: Report, item_by_reference: dict[str, Any], queue: Any, problems: list[str]) -> list[str]:
    """Each case against what the library's rules say."""
    wrong: list[str] = []
    repeats = [s for s in report.submitted if s.case.expect == REPEAT_SHOWN]
    for submitted in report.submitted:
        expected = submitted.case.expect
        if expected in (REFUSED_ON_FORM, REPEAT_SHOWN):
            if submitted.outcome != expected:
                wrong.append(f"{submitted.case.what}: {submitted.outcome}, expected {expected}")
            continue
        item = item_by_reference.get(submitted.reference or "")
        got = None if item is None else ("CARD_GRANTED" if item.state.value == "DONE" else item.error_code)
        if got != expected:
            wrong.append(f"{submitted.case.what} ({submitted.case.person}): {got}, expected {expected}")
    direct = queue.get(report.direct_item) if report.direct_item else None
    if direct is None or direct.error_code != "INVALID_APPLICATION":
        wrong.append(f"the invalid henkilötunnus: {None if direct is None else direct.error_code}, expected INVALID_APPLICATION")
    in_queue = len(queue.list(process=PROCESS, limit=10_000))
    if repeats and in_queue != len(references_of(report)) + 1:
        wrong.append(f"the queue holds {in_queue} applications, not one per applicant: the repeat made a second item?")
    problems += wrong
    first = (
        f"Every case decided as the library's rules say ({len(report.submitted) + 1 - len(wrong)} of {len(report.submitted) + 1})."
        if not wrong
        else "Cases not decided as the rules say:"
    )
    return [first, *(f"  {line}" for line in wrong)]


def _prefect_lines(runs: Any, problems: list[str]) -> list[str]:
    """The library-card deployment's runs (batch mode): who started them and how they ended. The
    e-service's applications go the warm path (background tasks on the task worker), so a robot that
    is already at work may decide the integration's application too, before its event starts a run."""
    if runs.by_state.get("Completed", 0) != runs.total:
        problems.append("a library-card flow run did not complete")
    return [
        f"Prefect: {runs.total} batch run(s) of the library-card deployment "
        f"({', '.join(f'{n} by {origin}' for origin, n in sorted(runs.by_origin.items())) or 'none'}; "
        f"{', '.join(f'{n} {state}' for state, n in sorted(runs.by_state.items())) or '-'})."
    ]


def _messages(stack: Stack, items: list[Any], queue: Any, problems: list[str]) -> list[str]:
    """Decisions by channel, as the queue's checkpoints say and as the sandboxes received them."""
    viestit = stack.sandbox("suomifi_viestit").state.store
    mailbox = stack.sandbox("email").state.store
    claimed: Counter[str] = Counter()
    found: Counter[str] = Counter()
    for item in items:
        sent = queue.checkpoints(item.id).get("decision_sent")
        if sent is None:
            continue
        channel = str(sent["channel"])
        claimed[channel] += 1
        if channel in ("suomifi", "letter"):
            message = viestit.message_by_external_id(sent["external_id"])
            if message is not None and message.channel == ("electronic" if channel == "suomifi" else "paper"):
                found[channel] += 1
        elif channel == "email":
            if sent.get("message_id") and mailbox.by_message_id(sent["message_id"]) is not None:
                found[channel] += 1
        else:
            found[channel] += 1  # "none": nothing to find
    ours = [m for m in viestit.messages.values() if m.external_id.startswith(f"{EXTERNAL_ID_PREFIX}-")]
    domain = EmailSettings().id_domain
    mail_ids = {message_id_for(f"{EXTERNAL_ID_PREFIX}-{item.id}-decision", domain) for item in items}
    mails = [m for m in mailbox.messages if m.message_id in mail_ids]
    lines = ["Decisions by channel (the queue's checkpoint → found in the sandbox's own records):"]
    names = {
        "suomifi": "Suomi.fi Messages, electronic",
        "letter": "Suomi.fi Messages, printed letter (PDF)",
        "email": "e-mail (SMTP sandbox)",
        "none": "no channel (no hetu, e-mail or address)",
    }
    for channel, number in sorted(claimed.items(), key=lambda row: -row[1]):
        lines.append(f"  {names.get(channel, channel):<42} {number:>3} → {found[channel]:>3}")
        if found[channel] != number:
            problems.append(f"{number - found[channel]} {channel} decision(s) missing from the sandbox")
    sandbox_total = len(ours) + len(mails)
    lines.append(f"  the sandboxes hold {len(ours)} Messages and {len(mails)} e-mails about these applications: none twice")
    if sandbox_total != sum(n for channel, n in claimed.items() if channel != "none"):
        problems.append("the sandboxes hold a different number of decisions than the queue sent")
    return lines


def _granted(item: Any) -> bool:
    return item is not None and item.state.value == "DONE"


def _koha(stack: Stack, before: int, reasons: Counter, new_guarantors: int, problems: list[str]) -> list[str]:
    """Patrons the robot created, from the Koha sandbox's own records: one per card granted (and
    non-disclosure registration), and a guardian who was not a patron yet, as the child's guarantor."""
    store = stack.sandbox("koha").state.store
    created = len(store.patrons) - before
    keys = Counter(a["value"] for a in list(store.attributes.values()) if a["type"] == "SOTU")
    if any(n > 1 for n in keys.values()):
        problems.append("someone has two patron records in Koha")
    expected = new_guarantors + sum(n for (_, code), n in reasons.items() if code in ReasonCode.__members__ and ReasonCode(code).registers_patron)
    if created != expected:
        problems.append(f"Koha has {created} new patrons where the decisions call for {expected}")
    return [
        f"Koha sandbox: {created} patrons created (cards granted, non-disclosure registrations, {new_guarantors} guardian(s) as guarantor); "
        "no second record for anyone."
    ]


def _robot_logs(stack: Stack, started_at: datetime) -> list[str]:
    root = stack.settings.robot_output_dir
    runs = sorted(
        (path for path in root.glob("library_card-*") if path.is_dir() and path.stat().st_mtime >= started_at.timestamp()),
        key=lambda path: path.stat().st_mtime,
    )
    lines = [f"Robot logs ({len(runs)} batch(es)) under {root}:"]
    lines += [f"  {Path(path, 'log.html')}" for path in runs[:8]]
    if len(runs) > 8:
        lines.append(f"  … and {len(runs) - 8} more")
    return lines
