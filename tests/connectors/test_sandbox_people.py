"""The shared sandbox population: valid test hetus, deterministic, and the same people in every sandbox."""

from __future__ import annotations

from collections import Counter

import pytest
from pydantic import SecretStr

from connectors.koha.sandbox import create_app as create_koha
from connectors.sandbox_people import NAMED, REFERENCE_DATE, Population, SandboxPerson, population, sandbox_population
from connectors.suomifi_viestit.sandbox import create_app as create_viestit
from connectors.suomifi_viestit.sandbox.seed import citizens_of
from schemas import Hetu, hetu_key
from schemas.redaction import redact


def test_everyone_has_a_valid_test_hetu_and_the_generated_people_are_a_mix():
    people = sandbox_population(300, seed=11)
    assert len(people) == len(NAMED) + 300 and len({person.hetu for person in people if person.hetu}) == len(people) - 1  # Erik has none
    for person in people:
        assert set(person.description) == {"fi", "sv", "en"} and redact(repr(person)) == repr(person)
        if person.hetu is not None:
            info = Hetu(person.hetu).info()
            assert 900 <= info.individual_number <= 999 and info.temporary
    generated = people.generated
    assert [person.key for person in generated[:2]] == ["p0001", "p0002"]
    assert all(15 <= person.age_on(REFERENCE_DATE) <= 90 and person.address and person.municipality for person in generated)
    counts = Counter(
        flag for person in generated for flag in ("mailbox" * person.messages_mailbox, "no-email" * (person.email is None), "koha" * bool(person.koha))
    )
    assert 180 <= counts["mailbox"] <= 270 and 20 <= counts["no-email"] <= 80 and 10 <= counts["koha"] <= 60
    assert len({person.municipality.number for person in generated}) >= 6
    assert len({Hetu(person.hetu).value[6] for person in generated}) > 2  # the 2023 century signs too


def test_the_population_is_deterministic_per_seed():
    assert [(p.key, p.hetu, p.email) for p in population(50, seed=3)] == [(p.key, p.hetu, p.email) for p in population(50, seed=3)]
    assert [p.hetu for p in population(50, seed=3)] != [p.hetu for p in population(50, seed=4)]
    assert sandbox_population(5, seed=1) is sandbox_population(5, seed=1)
    with pytest.raises(ValueError):
        population(-1)


def test_the_settings_choose_the_population(monkeypatch):
    monkeypatch.setenv("KUNTAFLOW_SANDBOX_POPULATION_SIZE", "7")
    monkeypatch.setenv("KUNTAFLOW_SANDBOX_POPULATION_SEED", "99")
    assert [p.hetu for p in sandbox_population().generated] == [p.hetu for p in population(7, seed=99)]


def test_children_live_with_their_guardians():
    people = sandbox_population(0)
    for guardian in people:
        for child in people.children_of(guardian.key):
            assert (child.address, child.municipality) == (guardian.address, guardian.municipality)
    assert [guardian.key for guardian in people.guardians_of("eetu")] == ["mikko"]
    with pytest.raises(ValueError, match="not in the population"):
        Population([SandboxPerson(key="lonely", first_names="A", surname="B", description={}, children=("ghost",))])


def test_messages_and_koha_know_the_same_people():
    people = sandbox_population(40, seed=5)
    salt = SecretStr("population-salt")
    viestit = create_viestit(citizens=citizens_of(people)).state.store
    for person in people:
        if person.hetu is not None:
            assert viestit.has_active_mailbox(person.hetu) is person.messages_mailbox
    koha = create_koha(salt=salt, people=people).state.store
    keys = {attribute["value"] for attribute in koha.attributes.values() if attribute["type"] == "SOTU"}
    patrons = [person for person in people if person.koha]
    assert any(person.generated for person in patrons)
    assert {hetu_key(person.hetu, salt) for person in patrons} <= keys
    named_only = create_koha(salt=salt, people=sandbox_population(0)).state.store
    assert len(koha.patrons) - len(named_only.patrons) == sum(person.generated for person in patrons)
