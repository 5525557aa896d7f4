"""The e-service's parts on their own: translations, language choice, masked codes and queue
references, the server-side session store, triggers, the status texts, and the CSS contrast."""

from __future__ import annotations

import re
import threading
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from eservice_support import ScriptedKoha
from pydantic import SecretStr
from sqlalchemy import create_engine, text

from apps.eservice.i18n import LANGUAGES, load_catalog, negotiate
from apps.eservice.libraries import LibrariesUnavailableError, LibraryChoice, LibraryDirectory
from apps.eservice.people import masked_hetu, person_reference
from apps.eservice.sessions import Kind, SessionStore
from apps.eservice.status import Phase, describe
from apps.eservice.trigger import (
    BackgroundFlowTrigger,
    BackgroundTaskTrigger,
    DeploymentRunTrigger,
    PrefectEventTrigger,
    Triggers,
    fire,
    trigger_from_settings,
    workitem_resource,
)
from apps.eservice.web import Urls, safe_next
from flows.installation_check import sample_identity_code
from kuntaflow.workitems import WorkQueue
from schemas.hetu import Hetu, hetu_key
from schemas.library_card import PROCESS, Language, VerifiedPerson

ADULT = sample_identity_code(date(1985, 3, 15), 904)
CHILD = sample_identity_code(date(2016, 4, 2), 907)
SALT = SecretStr("test-salt-for-the-eservice")


# --------------------------------------------------------------------------- translations


def test_every_language_has_every_finnish_key_with_the_same_placeholders():
    catalog = load_catalog()  # raises CatalogError otherwise
    assert set(catalog.tables) == set(LANGUAGES)
    assert all(catalog.tables[language].keys() == catalog.tables[Language.FI].keys() for language in LANGUAGES)


def test_translations_differ_between_languages():
    catalog = load_catalog()
    fi, sv, en = (catalog.translator(code) for code in ("fi", "sv", "en"))
    assert fi("start_title") == "Hae kirjastokorttia"
    assert sv("start_title") == "Ansök om bibliotekskort"
    assert en("start_title") == "Apply for a library card"
    untranslated = [key for key in fi.texts if fi.texts[key] in (sv.texts[key], en.texts[key])]
    assert untranslated == ["date_format"], untranslated  # only the numeric date reads the same


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("sv-FI,sv;q=0.9,en;q=0.8", Language.SV),
        ("de-DE,de;q=0.9,en;q=0.5", Language.EN),
        ("en;q=0.2,fi;q=0.9", Language.FI),
        ("fr, de", Language.FI),
        ("sv;q=0", Language.FI),
        ("", Language.FI),
        (None, Language.FI),
        ("en;q=abc, sv", Language.SV),
    ],
)
def test_the_browser_language_picks_fi_sv_or_en(header, expected):
    assert negotiate(header) is expected


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("/apply", "/apply"),
        ("/status?x=1", "/status?x=1"),
        ("//evil.example/x", "/"),
        ("https://evil.example/", "/"),
        ("/\\evil.example", "/"),
        ("apply", "/"),
        (None, "/"),
    ],
)
def test_the_language_switch_returns_only_to_a_local_path(path, expected):
    assert safe_next(path, "") == expected


def test_urls_carry_the_root_path():
    assert Urls("/kirjasto")("start") == "/kirjasto/"
    assert Urls("/kirjasto")("language", "sv") == "/kirjasto/language/sv"
    assert Urls("")("static", "style.css") == "/static/style.css"


# --------------------------------------------------------------------------- people


def test_the_masked_code_shows_the_birth_date_part_only():
    assert masked_hetu(Hetu(ADULT)) == ADULT[:7] + "****"
    assert masked_hetu(Hetu(CHILD)).startswith("020416A")
    assert masked_hetu(None) is None


def test_the_queue_reference_is_the_salted_hetu_key_or_a_keyed_eidas_hash():
    person = VerifiedPerson(hetu=ADULT, first_names="Aino", surname="Testinen")
    assert person_reference(person, SALT) == hetu_key(ADULT, SALT)
    assert ADULT not in person_reference(person, SALT)
    eidas = VerifiedPerson(eidas_person_identifier="SE/FI/199001011234", date_of_birth=date(1990, 1, 1), first_names="Sven", surname="Svensson")
    key = person_reference(eidas, SALT)
    assert key.startswith("eidas-") and "199001011234" not in key
    assert key == person_reference(eidas, SALT) != person_reference(eidas, SecretStr("another-salt"))
    with pytest.raises(ValueError, match="salt is empty"):
        person_reference(eidas, SecretStr(""))


# --------------------------------------------------------------------------- sessions


@pytest.fixture
def store(queue_url):
    """A session store on each backend (SQLite, and the real PostgreSQL)."""
    store = SessionStore(queue_url, SecretStr("x" * 40))
    yield store
    store.dispose()


def test_a_session_row_is_sealed_and_keyed_by_a_hash_of_its_token(store, queue_url):
    token = store.create(Kind.SESSION, {"person": {"hetu": ADULT}}, ttl=timedelta(minutes=5))
    assert store.load(Kind.SESSION, token) == {"person": {"hetu": ADULT}}
    engine = create_engine(queue_url)
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT kind, key, data FROM eservice_sessions")).all()
    engine.dispose()
    assert len(rows) == 1
    assert token not in rows[0].key and ADULT not in rows[0].data and "person" not in rows[0].data


def test_a_login_is_popped_once_and_kinds_do_not_mix(store):
    token = store.create(Kind.LOGIN, {"request_id": "id-1"}, ttl=timedelta(minutes=5))
    assert store.load(Kind.SESSION, token) is None
    assert store.pop(Kind.LOGIN, token) == {"request_id": "id-1"}
    assert store.pop(Kind.LOGIN, token) is None
    assert store.pop(Kind.LOGIN, None) is None and store.load(Kind.LOGIN, "") is None


def test_concurrent_pops_hand_a_login_to_one_caller_only(store):
    token = store.create(Kind.LOGIN, {"request_id": "id-2"}, ttl=timedelta(minutes=5))
    results: list[object] = []
    barrier = threading.Barrier(8)

    def pop() -> None:
        barrier.wait()
        results.append(store.pop(Kind.LOGIN, token))

    threads = [threading.Thread(target=pop) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert [r for r in results if r is not None] == [{"request_id": "id-2"}]


def test_expired_rows_are_gone_and_idle_time_slides(store):
    expired = store.create(Kind.SESSION, {"a": 1}, ttl=timedelta(seconds=-1))
    assert store.load(Kind.SESSION, expired) is None and store.pop(Kind.SESSION, expired) is None
    live = store.create(Kind.SESSION, {"a": 2}, ttl=timedelta(seconds=30))
    assert store.load(Kind.SESSION, live, extend=timedelta(hours=1)) == {"a": 2}
    store.save(Kind.SESSION, live, {"a": 3})
    assert store.load(Kind.SESSION, live) == {"a": 3}


def test_a_row_sealed_under_another_secret_reads_as_absent(store, queue_url):
    token = store.create(Kind.SESSION, {"a": 1}, ttl=timedelta(minutes=5))
    other = SessionStore(queue_url, SecretStr("y" * 40))
    try:
        assert other.load(Kind.SESSION, token) is None
    finally:
        other.dispose()


def test_an_idp_logout_ends_every_session_of_its_subject_only(store):
    subject = store.subject("transient-name-id-1")
    assert subject != store.subject("transient-name-id-2") and "transient" not in subject
    mine = [store.create(Kind.SESSION, {"n": n}, ttl=timedelta(minutes=5), subject=subject) for n in range(2)]
    other = store.create(Kind.SESSION, {"n": 9}, ttl=timedelta(minutes=5), subject=store.subject("transient-name-id-2"))
    assert store.delete_subject(subject) == 2
    assert [store.load(Kind.SESSION, token) for token in mine] == [None, None]
    assert store.load(Kind.SESSION, other) == {"n": 9}


# --------------------------------------------------------------------------- triggers


@pytest.fixture
def queue(tmp_path):
    queue = WorkQueue(f"sqlite:///{tmp_path / 'queue.db'}")
    yield queue
    queue.dispose()


def test_the_background_trigger_runs_once_per_burst_plus_once_after(queue):
    item = queue.add(PROCESS, reference="r1", payload={"a": 1})
    started, release = threading.Event(), threading.Event()
    calls: list[int] = []

    def flow() -> None:
        calls.append(1)
        started.set()
        assert release.wait(10)

    trigger = BackgroundFlowTrigger(flow)
    trigger(item)
    assert started.wait(10)
    for _ in range(5):  # a burst while the first run is going: coalesced into one more run
        trigger(item)
    release.set()
    assert trigger.wait_idle(10)
    assert len(calls) == 2 and trigger.runs == 2 and trigger.errors == []


def test_a_failing_trigger_does_not_fail_the_submission_and_logs_no_personal_data(queue, caplog):
    item = queue.add(PROCESS, reference="r2", payload={"hetu": ADULT})

    def broken(_item) -> None:
        raise RuntimeError(f"boom {ADULT}")

    seen: list[int] = []
    assert fire(broken, item) is False
    Triggers([broken, lambda it: seen.append(it.id)])(item)
    assert seen == [item.id]
    assert "RuntimeError" in caplog.text and ADULT not in caplog.text


def _prefect(call):
    """Run ``call(client)`` against the test Prefect server."""
    import anyio
    from prefect.client.orchestration import get_client

    async def run():
        async with get_client() as client:
            return await call(client)

    return anyio.run(run)


def test_the_prefect_event_reaches_prefect_naming_the_work_item_and_nothing_personal(queue, prefect_harness):
    import time

    from prefect.events.worker import EventsWorker

    item = queue.add(PROCESS, reference=hetu_key(ADULT, SALT), payload={"applicant": {"hetu": ADULT}})
    PrefectEventTrigger()(item)
    EventsWorker.drain_all()
    resource = f"kuntaflow.workitem.{item.id}"

    async def read(client):
        query = {"filter": {"event": {"name": ["kuntaflow.library_card.submitted"]}, "resource": {"id": [resource]}}, "limit": 10}
        return (await client._client.post("/events/filter", json=query)).json()["events"]

    deadline = time.monotonic() + 30
    while not (events := _prefect(read)) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert len(events) == 1
    assert events[0]["resource"] == workitem_resource(item)
    assert ADULT not in str(events[0]) and item.reference not in str(events[0])


def test_the_task_trigger_hands_the_item_id_alone_to_the_warm_paths_background_task(queue, prefect_harness):
    from prefect.client.schemas.filters import TaskRunFilter, TaskRunFilterName

    assert isinstance(trigger_from_settings("task", "unused"), BackgroundTaskTrigger)
    item = queue.add(PROCESS, reference=hetu_key(ADULT, SALT), payload={"applicant": {"hetu": ADULT}})
    trigger = BackgroundTaskTrigger(queue)
    trigger(item)
    assert trigger.wait_idle(timeout=60)
    assert (trigger.submitted, trigger.taken_already) == (1, 0)

    async def read(client):
        # Named by the template once it runs; until a task worker takes it, by the task's name.
        return await client.read_task_runs(task_run_filter=TaskRunFilter(name=TaskRunFilterName(any_=["library-card-decide"])))

    runs = _prefect(read)
    run = max(runs, key=lambda r: r.created)
    assert run.state is not None and run.state.is_scheduled()  # waiting for a task worker (none in this test)
    assert set(run.task_inputs) == {"item_id"}  # the id alone; the value is in Prefect's result storage
    assert ADULT not in str(run) and item.reference not in str(run)


def test_the_task_trigger_hands_nothing_over_for_an_item_a_robot_at_work_took_within_the_grace(queue, prefect_harness):
    from prefect.client.schemas.filters import TaskRunFilter, TaskRunFilterName

    async def read(client):
        return await client.read_task_runs(task_run_filter=TaskRunFilter(name=TaskRunFilterName(any_=["library-card-decide"])))

    before = len(_prefect(read))
    taken = queue.add(PROCESS, reference=hetu_key(ADULT, SALT), payload={"applicant": {"hetu": ADULT}})
    left = queue.add(PROCESS, reference="nobody-took-this-one", payload={"applicant": {"hetu": ADULT}})
    [claimed] = queue.claim(PROCESS, owner="a-lingering-robot", limit=1)  # the oldest, as a lingering robot would
    assert claimed.id == taken.id
    trigger = BackgroundTaskTrigger(queue)
    trigger(taken)
    trigger(left)
    assert trigger.wait_idle(timeout=60)
    assert (trigger.submitted, trigger.taken_already) == (1, 1)
    assert len(_prefect(read)) == before + 1  # one task run, for the item still NEW


def test_while_robots_are_behind_the_task_trigger_keeps_no_more_task_runs_waiting_than_robots_may_run(queue, prefect_harness):
    items = [queue.add(PROCESS, reference=f"behind-{n}", payload={"n": n}) for n in range(6)]
    trigger = BackgroundTaskTrigger(queue, grace_seconds=0, in_flight=2)
    for item in items[:5]:
        trigger(item)
    assert trigger.wait_idle(timeout=60)
    assert (trigger.submitted, trigger.left_to_robots) == (2, 3)  # every one still NEW: runs for two of them
    trigger(items[5])
    assert trigger.wait_idle(timeout=60)
    assert (trigger.submitted, trigger.left_to_robots) == (2, 4)  # both runs' items still NEW: their runs still wait
    assert len(queue.claim(PROCESS, owner="a-robot", limit=6)) == 6  # the robots catch up
    last = queue.add(PROCESS, reference="after-the-backlog", payload={"n": 6})
    trigger(last)
    assert trigger.wait_idle(timeout=60)
    assert (trigger.submitted, trigger.left_to_robots) == (3, 4)  # the backlog taken: a run for the new item


def test_the_deployment_trigger_creates_a_run_once_and_skips_a_missing_deployment(queue, prefect_harness, caplog):
    from prefect import flow
    from prefect.client.schemas.filters import DeploymentFilter, DeploymentFilterId

    caplog.set_level("INFO", logger="apps.eservice.trigger")
    item = queue.add(PROCESS, reference="deployment-trigger", payload={"a": 1})
    DeploymentRunTrigger("no-such-flow/no-such-deployment")(item)
    assert "No Prefect deployment no-such-flow/no-such-deployment" in caplog.text

    @flow(name="eservice-trigger-test")
    def target() -> None:
        return None

    async def deploy(client):
        flow_id = await client.create_flow(target)
        return await client.create_deployment(flow_id=flow_id, name="library-card")

    deployment_id = _prefect(deploy)
    trigger = DeploymentRunTrigger("eservice-trigger-test/library-card")
    trigger(item)
    trigger(item)  # the same item again: the idempotency key keeps it one run

    async def runs(client):
        return await client.read_flow_runs(deployment_filter=DeploymentFilter(id=DeploymentFilterId(any_=[deployment_id])))

    [run] = _prefect(runs)
    assert "eservice" in run.tags and run.idempotency_key == f"kuntaflow-workitem-{item.id}"


# --------------------------------------------------------------------------- status texts


class FixedLibraries(LibraryDirectory):
    def __init__(self) -> None:
        super().__init__(lambda: None)  # type: ignore[arg-type,return-value]

    def choices(self) -> tuple[LibraryChoice, ...]:
        return (LibraryChoice("JYVPK", "Jyväskylän pääkirjasto"), LibraryChoice("JYVVAA", "Vaajakosken kirjasto"))


def _application(**changes) -> dict:
    return {
        "applicant": {"hetu": ADULT, "first_names": "Aino", "surname": "Testinen"},
        "home_library": "JYVVAA",
        "rules_accepted": True,
        "submitted_at": datetime(2026, 11, 25, 10, 5, tzinfo=UTC).isoformat(),
        **changes,
    }


@pytest.mark.parametrize("language", ["fi", "sv", "en"])
def test_each_queue_state_reads_as_a_plain_language_step(queue, language):
    t = load_catalog().translator(language)
    libraries = FixedLibraries()
    item = queue.add(PROCESS, reference="s1", payload=_application())
    view = describe(item, {}, libraries, t)
    assert (view.phase, view.title, view.library_name) == (Phase.RECEIVED, t("status_received_title"), "Vaajakosken kirjasto")
    assert view.in_progress and view.submitted_at.startswith("25.11.2026") and "12.05" in view.submitted_at  # Helsinki time

    [claimed] = queue.claim(PROCESS, owner="robot")
    assert describe(claimed, {}, libraries, t).phase is Phase.PROCESSING
    queue.fail_application(claimed.id, code="KOHA_DOWN", message="Koha 503", owner="robot")
    assert describe(queue.get(claimed.id), {}, libraries, t).phase is Phase.PROCESSING  # waits for its retry


def test_a_granted_card_says_where_to_collect_it_and_that_the_pin_is_given_in_person(queue):
    t = load_catalog().translator("fi")
    item = queue.add(PROCESS, reference="s2", payload=_application())
    queue.claim(PROCESS, owner="robot")
    queue.complete(item.id, output={"reason": "CARD_GRANTED", "library_id": "JYVVAA", "expiry_date": "2031-11-25"}, owner="robot")
    view = describe(queue.get(item.id), {"rules_checked": {"library_name": "Vaajakosken kirjasto"}}, FixedLibraries(), t)
    assert view.phase is Phase.READY and not view.in_progress
    assert view.title == "Kirjastokorttisi on valmis"
    text = " ".join(view.paragraphs)
    assert "Vaajakosken kirjasto" in text and "25.11.2031" in text
    assert "kuvallinen henkilöllisyystodistus" in text and "PIN-koodi" in text


def test_a_business_outcome_explains_why_and_what_to_do_with_the_schema_texts(queue):
    t = load_catalog().translator("sv")
    item = queue.add(PROCESS, reference="s3", payload=_application())
    queue.claim(PROCESS, owner="robot")
    queue.fail_business(item.id, code="ALREADY_A_PATRON", message="work item: already a patron", owner="robot")
    view = describe(queue.get(item.id), {"patron_lookup": {"existing_patron_id": 7, "existing_library_id": "JYVPK"}}, FixedLibraries(), t)
    assert view.phase is Phase.DECLINED
    assert view.title == "Du har redan ett bibliotekskort"
    assert "Jyväskylän pääkirjasto" in " ".join(view.paragraphs)


def test_a_guardians_application_speaks_about_the_child(queue):
    t = load_catalog().translator("en")
    guardian = {
        "hetu": ADULT,
        "first_names": "Mikko",
        "surname": "Testinen",
        "relationship_verified_by": "vtj",
        "relationship_verified_at": "2026-11-25T10:00:00+02:00",
    }
    payload = _application(applicant={"hetu": CHILD, "first_names": "Ella", "surname": "Testinen"}, guardian=guardian)
    item = queue.add(PROCESS, reference="s4", payload=payload)
    queue.claim(PROCESS, owner="robot")
    queue.fail_business(item.id, code="GUARDIANSHIP_NOT_VERIFIED", message="staff", owner="robot")
    view = describe(queue.get(item.id), {}, FixedLibraries(), t)
    assert (view.phase, view.child_first_names) == (Phase.REVIEW, "Ella")
    assert "Ella" in " ".join(view.paragraphs)


def test_an_unreadable_or_abandoned_case_says_staff_will_look_into_it(queue):
    t = load_catalog().translator("fi")
    item = queue.add(PROCESS, reference="s5", payload={"not": "an application"})
    queue.claim(PROCESS, owner="robot")
    queue.fail_business(item.id, code="INVALID_APPLICATION", message="payload invalid", owner="robot")
    view = describe(queue.get(item.id), {}, FixedLibraries(), t)
    assert view.phase is Phase.PROBLEM and view.title == t("status_problem_title")


def test_the_library_list_is_cached_and_outlives_a_koha_outage():
    from connectors.koha.models import Library

    koha = ScriptedKoha([[Library(library_id="B", name="Bee"), Library(library_id="A", name="Aa"), Library(library_id="X", name="Closed", public=False)]])
    directory = LibraryDirectory(koha, ttl_seconds=0)
    assert [c.library_id for c in directory.choices()] == ["A", "B"]  # sorted by name, closed ones left out
    assert directory.name("B") == "Bee" and directory.name("nope") is None  # Koha is down now: the last list serves
    empty = LibraryDirectory(ScriptedKoha([]), ttl_seconds=0)
    with pytest.raises(LibrariesUnavailableError, match="KohaUnavailableError"):
        empty.choices()
    assert empty.name("A") is None


# --------------------------------------------------------------------------- the style sheet


def _luminance(hex_colour: str) -> float:
    channels = [int(hex_colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def _contrast(a: str, b: str) -> float:
    high, low = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def test_the_colour_pairs_of_the_style_sheet_meet_wcag_aa():
    css = (Path(__file__).parents[2] / "apps" / "eservice" / "static" / "style.css").read_text()
    colours = dict(re.findall(r"--([a-z-]+):\s*(#[0-9a-f]{6})", css))
    white = "#ffffff"
    text_pairs = [
        ("text", white),
        ("muted", white),
        ("link", white),
        ("link-visited", white),
        ("error", white),
        ("text", "notice-bg"),
        ("text", "ready-bg"),
        ("text", "warn-bg"),
        ("muted", "ready-bg"),
        ("muted", "warn-bg"),
        ("link", "ready-bg"),
        ("link", "warn-bg"),
        ("error", "warn-bg"),
        (white, "header-bg"),
        (white, "button"),
        (white, "button-hover"),
    ]
    for fg, bg in text_pairs:
        ratio = _contrast(colours.get(fg, fg), colours.get(bg, bg))
        assert ratio >= 4.5, f"{fg} on {bg}: {ratio:.2f}"
    assert _contrast(colours["border"], white) >= 3  # WCAG 1.4.11 control boundaries
    assert _contrast(colours["focus"], colours["text"]) >= 3 and _contrast(colours["text"], white) >= 3  # focus ring
    assert ":focus-visible" in css and "outline: none" not in css.split(":focus-visible")[1].split("}")[0]
