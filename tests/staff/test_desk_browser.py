"""Kuntaflow Desk in headless Chromium: each action, two people on one case, the keyboard alone, axe WCAG 2.1 AA, 320 px.

One served Desk and one browser for the module; each test seeds its own cases.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from accessibility import accessibility_violations, assert_reflows
from chromium_support import launch_chromium
from desk_browser import seed, served_desk, signed_in_context
from desk_support import ADMINISTRATOR, HETU, LIBRARIAN, OTHER_LIBRARIAN

from kuntaflow.workitems import ItemFilter, ItemState, WorkQueue

pytestmark = [pytest.mark.browser, pytest.mark.slow]


class World:
    def __init__(self, url: str, queue: WorkQueue, browser) -> None:
        self.url, self.queue, self.browser = url, queue, browser

    def page(self, member=LIBRARIAN, **options):
        context = signed_in_context(self.browser, self.url, member, **options)
        page = context.new_page()
        page.set_default_timeout(15_000)
        return page


@pytest.fixture(scope="module")
def world(tmp_path_factory) -> Iterator[World]:
    from playwright.sync_api import sync_playwright

    url = f"sqlite:///{tmp_path_factory.mktemp('desk-browser') / 'queue.db'}"
    with WorkQueue(url) as queue, served_desk(url) as base, sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        try:
            yield World(base, queue, browser)
        finally:
            browser.close()


def test_a_librarian_handles_a_refused_application_with_every_action(world):
    from playwright.sync_api import expect

    cases = seed(world.queue)
    page = world.page()
    page.goto(world.url)
    expect(page.get_by_role("heading", level=1)).to_have_text("Yleiskuva")
    page.get_by_role("link", name=re.compile("tapausta odottaa ihmistä")).click()
    page.get_by_role("link", name=f"Tapaus {cases['refused']}", exact=True).click()
    expect(page.get_by_text("valittua kotikirjastoa ei ole kirjastojärjestelmässä")).to_be_visible()

    page.get_by_role("button", name="Käsittelen").click()
    expect(page.get_by_role("status")).to_contain_text("Käsittelet nyt tätä tapausta")
    page.get_by_label("Perustelu: Lisää muistiinpano").fill("Soitin hakijalle, hän valitsi pääkirjaston")
    page.get_by_role("button", name="Lisää muistiinpano").click()
    expect(page.get_by_role("status")).to_contain_text("Muistiinpano lisättiin")

    page.get_by_label("Korjattava tieto").select_option(label="Kotikirjasto")  # its name; the form sends home_library
    page.get_by_label("Uusi arvo").fill("EI KELPAA!")
    page.get_by_label("Perustelu", exact=True).fill("hakijan toive")
    page.get_by_role("button", name="Korjaa tieto").click()
    expect(page.get_by_role("alert")).to_contain_text("Korjausta ei tehty: Kotikirjasto:")
    page.get_by_label("Korjattava tieto").select_option(label="Kotikirjasto")
    page.get_by_label("Uusi arvo").fill("jyvpk")
    page.get_by_label("Perustelu", exact=True).fill("hakijan toive")
    page.get_by_role("button", name="Korjaa tieto").click()
    expect(page.get_by_role("status")).to_contain_text("Tieto korjattiin")

    page.get_by_label("Miksi tarvitset henkilötunnuksen?").fill("tunnistan soittajan")
    page.get_by_role("button", name="Näytä henkilötunnus").click()
    expect(page.get_by_text(HETU)).to_be_visible()
    page.goto(f"{world.url}/tapaukset/{cases['refused']}")
    expect(page.get_by_text(HETU)).to_have_count(0)

    page.get_by_label("Perustelu: Yritä uudelleen").fill("kotikirjasto korjattu")
    page.get_by_role("button", name="Yritä uudelleen").click()
    expect(page.get_by_role("status")).to_contain_text("lähetettiin takaisin roboteille")
    item = world.queue.get(cases["refused"])
    assert (item.state, item.payload["home_library"], item.assignee) == (ItemState.NEW, "JYVPK", LIBRARIAN.actor)
    assert [entry.action for entry in world.queue.audit(item.id)][-4:] == ["take", "note", "edit_payload", "retry"]

    page.goto(f"{world.url}/tapaukset/{cases['duplicate']}")
    page.get_by_label("Perustelu: Merkitse käsitellyksi").fill("sama asiakas, kortti yhdistetty tiskillä")
    page.get_by_role("button", name="Merkitse käsitellyksi").click()
    expect(page.get_by_role("status")).to_contain_text("merkittiin käsitellyksi")
    page.goto(f"{world.url}/tapaukset/{cases['koha0']}")
    page.get_by_label("Perustelu: Keskeytä").fill("hakija peruutti")
    page.get_by_role("button", name="Keskeytä").click()
    expect(page.get_by_role("status")).to_contain_text("keskeytettiin")
    assert world.queue.get(cases["duplicate"]).state is ItemState.DONE
    assert world.queue.get(cases["koha0"]).state is ItemState.ABANDONED
    page.context.close()


def test_bulk_retry_after_an_outage_says_how_many_first(world):
    from playwright.sync_api import expect

    cases = seed(world.queue)
    page = world.page()
    page.goto(f"{world.url}/tapaukset")
    page.get_by_label("Virhekoodi").fill("KOHA_UNAVAILABLE")
    page.get_by_role("button", name="Suodata").click()
    page.get_by_role("link", name=re.compile("Yritä uudelleen kaikki")).click()
    expected, _ = world.queue.count(ItemFilter(processes=frozenset({"library_card"}), error_code="KOHA_UNAVAILABLE"), states=sorted(WorkQueue.RETRYABLE))
    expect(page.locator("p.count")).to_have_text(f"{expected} tapausta lähetetään takaisin roboteille.")
    shown = expected
    page.get_by_label("Perustelu").fill("Koha toimii taas")
    page.get_by_role("button", name=re.compile("^Yritä uudelleen \\d+ tapausta$")).click()
    expect(page.get_by_role("status")).to_have_text(f"{shown} tapausta lähetettiin takaisin roboteille.")
    assert all(world.queue.get(cases[f"koha{n}"]).state is ItemState.NEW for n in range(3))
    page.context.close()


def test_two_people_on_one_case_the_second_is_told_and_overwrites_nothing(world):
    from playwright.sync_api import expect

    cases = seed(world.queue)
    liisa, leo = world.page(LIBRARIAN), world.page(OTHER_LIBRARIAN)
    for page in (liisa, leo):
        page.goto(f"{world.url}/tapaukset/{cases['refused']}")
    liisa.get_by_role("button", name="Käsittelen").click()
    expect(liisa.get_by_role("status")).to_contain_text("Käsittelet nyt")

    leo.get_by_label("Perustelu: Keskeytä").fill("luulin tätä omakseni")
    leo.get_by_role("button", name="Keskeytä").click()
    expect(leo.get_by_role("alert")).to_contain_text("Tapaus muuttui sen jälkeen, kun avasit sivun")
    expect(leo.locator("dl.facts")).to_contain_text(LIBRARIAN.actor)  # the page now shows who has it
    assert world.queue.get(cases["refused"]).state is ItemState.BUSINESS_FAILED

    world.queue.retry(cases["refused"], reason="the robot's retry in between", actor="system")  # as a robot's retry would
    liisa.get_by_label("Perustelu: Merkitse käsitellyksi").fill("tehty tiskillä")
    liisa.get_by_role("button", name="Merkitse käsitellyksi").click()
    expect(liisa.get_by_role("alert")).to_contain_text("Tapaus muuttui")
    assert world.queue.get(cases["refused"]).state is ItemState.NEW
    liisa.context.close()
    leo.context.close()


def test_the_main_path_works_with_the_keyboard_alone(world):
    from playwright.sync_api import expect

    cases = seed(world.queue)
    page = world.page()
    page.goto(f"{world.url}/tapaukset/{cases['refused']}")
    page.keyboard.press("Tab")
    expect(page.get_by_role("link", name="Siirry sisältöön")).to_be_focused()
    for _ in range(30):  # Tab forward to the take button, as a keyboard user would
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.textContent.trim()") == "Käsittelen":
            break
    page.keyboard.press("Enter")
    expect(page.get_by_role("status")).to_contain_text("Käsittelet nyt")
    for _ in range(30):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.id") == "reason-uudelleen":
            break
    page.keyboard.type("kirjasto korjattu Kohaan")
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    expect(page.get_by_role("status")).to_contain_text("lähetettiin takaisin roboteille")
    assert world.queue.get(cases["refused"]).state is ItemState.NEW
    page.context.close()


def _pages(world, cases: dict[str, int]) -> list[tuple[object, str]]:
    return [
        (LIBRARIAN, "/"),
        (LIBRARIAN, "/tapaukset"),
        (LIBRARIAN, "/tapaukset?error_code=KOHA_UNAVAILABLE"),
        (LIBRARIAN, f"/tapaukset/{cases['refused']}"),
        (LIBRARIAN, f"/tapaukset/{cases['done']}"),
        (LIBRARIAN, "/tapaukset/uudelleenyritys?error_code=KOHA_UNAVAILABLE"),
        (LIBRARIAN, "/kayttoloki"),  # the 403 page
        (ADMINISTRATOR, "/kayttoloki"),
        (ADMINISTRATOR, "/"),
        (ADMINISTRATOR, f"/tapaukset/{cases['hire']}"),  # a hire's page: the henkilötunnus's own form
    ]


def test_every_desk_page_passes_axe_and_reflows_at_320_px(world):
    """axe-core's WCAG 2.1 A and AA rules (no serious or critical violation), then the same page at 320 px."""
    cases = seed(world.queue)
    problems = []
    pages = {member: world.page(member, viewport={"width": 1280, "height": 800}) for member in (LIBRARIAN, ADMINISTRATOR)}
    for member, path in _pages(world, cases):
        page = pages[member]
        page.goto(f"{world.url}{path}")
        problems += [f"{path} as {member.name}: {v['id']}" for v in accessibility_violations(page)]
        try:
            assert_reflows(page)
        except AssertionError as error:
            problems.append(str(error))
        if page.locator("details.paths summary").count():  # a case's fields' technical names, opened too
            page.locator("details.paths summary").click()
            problems += [f"{path} (technical names open) as {member.name}: {v['id']}" for v in accessibility_violations(page)]
            try:
                assert_reflows(page)
            except AssertionError as error:
                problems.append(f"{path} (technical names open): {error}")
    for page in pages.values():
        page.context.close()
    assert not problems, "\n".join(problems)
