"""The library-card run keeps watching the queue for ``settle_seconds``: the applications whose events
the deployment's trigger coalesced into this run are seen by it, and an idle queue lets it end."""

from __future__ import annotations

import threading
import time

import pytest
from cryptography.fernet import Fernet

from flows.library_card import new_applications_before
from kuntaflow.settings import KuntaflowSettings
from schemas.library_card import PROCESS


@pytest.fixture
def queue(tmp_path, monkeypatch):
    monkeypatch.setenv("KUNTAFLOW_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("KUNTAFLOW_DATABASE_URL", f"sqlite:///{tmp_path / 'queue.db'}")
    monkeypatch.setenv("KUNTAFLOW_PAYLOAD_KEY", Fernet.generate_key().decode())
    with KuntaflowSettings().work_queue() as queue:
        yield queue


def test_an_application_queued_while_the_run_watches_is_seen(queue):
    later = threading.Timer(0.3, lambda: queue.add(PROCESS, reference="late", payload={}))
    later.start()
    try:
        assert new_applications_before(time.monotonic() + 20, poll_seconds=0.1)
    finally:
        later.cancel()


def test_an_idle_queue_ends_the_watch_at_the_deadline_and_no_watch_is_kept_after_it(queue):
    started = time.monotonic()
    assert not new_applications_before(started + 0.3, poll_seconds=0.1)
    assert not new_applications_before(time.monotonic() - 1)  # settle_seconds=0: not even a look
    queue.add(PROCESS, reference="claimed-elsewhere", payload={})
    [claimed] = queue.claim(PROCESS, owner="another-run")
    assert claimed.reference == "claimed-elsewhere"
    assert not new_applications_before(time.monotonic() + 0.3, poll_seconds=0.1), "an item another run holds is not new"
