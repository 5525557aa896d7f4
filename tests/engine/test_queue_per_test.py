"""Each test has its own queue database unless it asks to share one, and the queue says whether ``add``
created an item and finds ids without opening payloads."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from cryptography.fernet import Fernet
from pydantic import SecretStr

from kuntaflow.settings import KuntaflowSettings
from kuntaflow.workitems import PayloadError, WorkQueue


@pytest.fixture(scope="module", autouse=True)
def a_leaked_database_url(tmp_path_factory) -> Iterator[str]:
    """A URL left in the environment for the whole module, as a module fixture or a shell would leave it."""
    url = f"sqlite:///{tmp_path_factory.mktemp('leaked') / 'queue.db'}"
    with pytest.MonkeyPatch.context() as env:
        env.setenv("KUNTAFLOW_DATABASE_URL", url)
        yield url


@pytest.mark.parametrize("run", [1, 2])
def test_each_test_gets_an_empty_queue_of_its_own(run, tmp_path, a_leaked_database_url):
    settings = KuntaflowSettings()
    assert settings.queue_url != a_leaked_database_url and str(tmp_path) in settings.queue_url
    with settings.work_queue() as queue:
        assert queue.counts() == {}
        queue.add("isolation", reference="the-same-reference", payload={"run": run})


@pytest.mark.shared_queue
def test_a_test_that_asks_shares_the_modules_queue(a_leaked_database_url):
    assert KuntaflowSettings().queue_url == a_leaked_database_url


def test_add_says_whether_it_created_the_item_and_find_ids_reads_no_payload(tmp_path):
    url = f"sqlite:///{tmp_path / 'queue.db'}"
    with WorkQueue(url, payload_key=SecretStr(Fernet.generate_key().decode())) as queue:
        first = queue.add("p", reference="r1", payload={"x": 1})
        again = queue.add("p", reference="r1", payload={"x": 2})
        assert first.created and not again.created and again.id == first.id and again.payload == {"x": 1}
        second = queue.add("p", reference="r2", payload={"x": 3})
    with WorkQueue(url, payload_key=SecretStr(Fernet.generate_key().decode())) as wrong_key:  # payloads cannot be opened
        with pytest.raises(PayloadError):
            wrong_key.find("p", "r1")
        assert wrong_key.find_ids("p", ["r1", "r2", "r3", "r1"]) == {"r1": first.id, "r2": second.id}
        assert wrong_key.exists("p", "r2") and not wrong_key.exists("p", "r3") and not wrong_key.exists("other", "r1")
