"""The flow tests' harness: sandboxes up on real ports, robot subprocesses counted, a robot killed at a chosen step.

- ``library_sandboxes_running(env)``: Koha, Suomi.fi Messages and the SMTP sandbox on real local ports,
  the connectors' settings pointed at them through the environment the robot inherits; ``*_app`` may wrap
  a sandbox (a :class:`Gate`). Yields :class:`LibrarySystems` with the queue and what each sandbox recorded.
- ``robot_processes(suite)``: the robot subprocesses this test process's flows started for ``suite``.
- :class:`Gate` holds the first ``method path`` request (with ``after_app``: after the sandbox acted on it,
  a crash between the call and the checkpoint), :class:`DeliveryGate` the SMTP sandbox's answer to the
  first message it kept; ``kill_robot_at(gate, suite, run)`` runs a flow in a thread and SIGKILLs its
  robot while the gate holds it.
"""

from __future__ import annotations

import os
import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import anyio
import pytest
from pydantic import SecretStr

from connectors.email.sandbox import SmtpSandbox
from connectors.koha.sandbox import create_app as create_koha
from connectors.servers import serve_in_thread
from connectors.suomifi_viestit.sandbox import create_app as create_viestit
from kuntaflow.settings import KuntaflowSettings
from kuntaflow.workitems import WorkQueue
from schemas.hetu import hetu_key

T = TypeVar("T")


@dataclass
class LibrarySystems:
    koha: Any
    viestit: Any
    smtp: SmtpSandbox
    queue: WorkQueue
    salt: str

    @property
    def patrons(self) -> dict[int, dict[str, Any]]:
        return self.koha.state.store.patrons

    @property
    def messages(self) -> list[Any]:
        return list(self.viestit.state.store.messages.values())

    def patron_with_key(self, hetu: str) -> dict[str, Any]:
        key = hetu_key(hetu, SecretStr(self.salt))
        store = self.koha.state.store
        [patron_id] = [a["patron_id"] for a in store.attributes.values() if a["type"] == "SOTU" and a["value"] == key]
        return {**store.patrons[patron_id], "attributes": {a["type"]: a["value"] for a in store.patron_attributes(patron_id)}}


@contextmanager
def library_sandboxes_running(env: pytest.MonkeyPatch, *, salt: str, koha_app: Any = None, viestit_app: Any = None) -> Iterator[LibrarySystems]:
    """Koha, Messages and SMTP on real ports, no retry backoff, the connectors' retries short."""
    env.setenv("KUNTAFLOW_HETU_SALT", salt)
    env.setenv("KUNTAFLOW_RETRY_BACKOFF_SECONDS", "0")
    env.setenv("KUNTAFLOW_KOHA_RETRY_ATTEMPTS", "2")
    env.setenv("KUNTAFLOW_VIESTIT_RETRY_ATTEMPTS", "2")
    env.setenv("KUNTAFLOW_EMAIL_RETRY_ATTEMPTS", "1")
    koha = create_koha(salt=SecretStr(salt))
    viestit = create_viestit()
    with (
        serve_in_thread(koha_app(koha) if koha_app else koha) as koha_url,
        serve_in_thread(viestit_app(viestit) if viestit_app else viestit) as viestit_url,
        SmtpSandbox() as smtp,
    ):
        env.setenv("KUNTAFLOW_KOHA_BASE_URL", f"{koha_url}/api/v1")
        env.setenv("KUNTAFLOW_VIESTIT_BASE_URL", viestit_url)
        env.setenv("KUNTAFLOW_EMAIL_HOST", smtp.host)
        env.setenv("KUNTAFLOW_EMAIL_PORT", str(smtp.port))
        with KuntaflowSettings().work_queue() as queue:
            yield LibrarySystems(koha, viestit, smtp, queue, salt)


class Gate:
    """Holds the first ``method path`` request until the test opens the gate; with ``after_app`` the
    sandbox acts on it first and only the answer is held (a crash between the call and the checkpoint)."""

    def __init__(self, method: str, path: str, *, after_app: bool = False) -> None:
        self.method, self.path, self.after_app = method, path, after_app
        self.reached, self.opened = threading.Event(), threading.Event()
        self.app: Any = None
        self._armed = True

    def wrap(self, app: Any) -> Gate:
        self.app = app
        return self

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if not (scope["type"] == "http" and self._armed and scope["method"] == self.method and scope["path"] == self.path):
            await self.app(scope, receive, send)
            return
        self._armed = False
        if not self.after_app:
            self.reached.set()
            await self._wait()
            await self.app(scope, receive, send)
            return
        held: list[dict[str, Any]] = []

        async def keep(message: dict[str, Any]) -> None:
            held.append(message)

        await self.app(scope, receive, keep)
        self.reached.set()
        await self._wait()
        for message in held:
            await send(message)

    async def _wait(self) -> None:
        while not self.opened.is_set():
            await anyio.sleep(0.02)


def kill_robot_at(gate: Gate | DeliveryGate, suite: str, run: Callable[[], T]) -> T:
    """Run ``run`` (a flow) in a thread, SIGKILL its ``suite`` robot while the gate holds it, and return what the run returned."""
    result: dict[str, T] = {}
    worker = threading.Thread(target=lambda: result.setdefault("value", run()))
    worker.start()
    try:
        assert gate.reached.wait(90), "the robot never reached the gate"
        [pid] = robot_processes(suite)
        os.kill(pid, signal.SIGKILL)
        worker.join(90)
    finally:
        gate.opened.set()
    assert not worker.is_alive()
    return result["value"]


def robot_processes(suite: str) -> list[int]:
    """Robot subprocesses of this test process (started by a flow's robot task) running ``suite``."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            parent = int(stat.read_text().rsplit(")", 1)[1].split()[1])
            command = (stat.parent / "cmdline").read_bytes().split(b"\0")
        except (OSError, IndexError, ValueError):
            continue
        if parent == os.getpid() and b"robot" in command and any(suite.encode() in part for part in command):
            found.append(int(stat.parent.name))
    return found


class DeliveryGate:
    """Holds the SMTP sandbox's answer to the first message it delivers to ``to`` (the mail is kept, the
    sender does not hear so), so a test can kill the robot after sending and before its checkpoint."""

    def __init__(self, mailbox: Any, to: str) -> None:
        self.reached, self.opened = threading.Event(), threading.Event()
        self._deliver = mailbox.deliver
        self._to = to
        self._armed = True
        mailbox.deliver = self._hold

    def _hold(self, mail_from: str, recipients: list[str], raw: bytes) -> Any:
        delivered = self._deliver(mail_from, recipients, raw)
        if self._armed and self._to in recipients:
            self._armed = False
            self.reached.set()
            self.opened.wait(120)
        return delivered
