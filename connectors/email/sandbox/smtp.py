"""The SMTP half of the e-mail sandbox: an aiosmtpd server that keeps every message in a :class:`Mailbox`.

Behaviour a client can rely on:

- ``RCPT`` to an address in a ``.invalid`` domain (or in ``mailbox.unknown_recipients``) →
  ``550 5.1.1 Recipient address rejected: User unknown``.
- ``DATA`` with a Message-ID already delivered → ``250 2.0.0 Already delivered <message-id>;
  not delivered again``: a success, and the copy is counted in ``mailbox.duplicates`` instead of
  being stored. ``EmailClient`` reports it as ``already_delivered=True``.
- Otherwise ``250 2.0.0 Ok: queued as <number>``.
- Optional SMTP AUTH (PLAIN/LOGIN) when ``credentials`` are given; wrong ones → 535.

Faults use the shared injector (connectors/sandbox_support.py, ``KUNTAFLOW_SANDBOX_FAULT_*``),
decided once per message at DATA (path ``/smtp``): ``error`` → ``451 4.3.0`` temporary failure,
``rate_limit`` → ``421 4.7.0`` too many messages, ``timeout`` → silence for ``hang_seconds`` then
``451 4.4.2``, ``drop`` → the connection is cut before the message is kept, ``lost_response`` →
the message is kept and the connection cut before the ``250``. No STARTTLS/SSL: the sandbox is
plain SMTP on 127.0.0.1.
"""

from __future__ import annotations

import asyncio
import hmac
import logging
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session

from connectors.email.sandbox.mailbox import Mailbox
from connectors.sandbox_support import FaultInjector, FaultSpec
from kuntaflow.servers import free_port

FAULT_PATH = "/smtp"
MAX_MESSAGE_BYTES = 25 * 1024 * 1024
logger = logging.getLogger("connectors.email.sandbox")


class SandboxHandler:
    """aiosmtpd handler hooks: recipient checks, de-duplication by Message-ID, faults."""

    def __init__(self, mailbox: Mailbox, faults: FaultInjector) -> None:
        self.mailbox = mailbox
        self.faults = faults

    async def handle_RCPT(self, server: SMTP, session: Session, envelope: Envelope, address: str, rcpt_options: list[str]) -> str:
        if not self.mailbox.accepts(address):
            return "550 5.1.1 Recipient address rejected: User unknown"
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        spec, kind = self.faults.decide("DATA", FAULT_PATH, None)
        if spec.latency_ms:
            await asyncio.sleep(spec.latency_ms / 1000)
        if kind == "error":
            return "451 4.3.0 Sandbox fault: temporary failure, try again later"
        if kind == "rate_limit":
            return "421 4.7.0 Sandbox fault: too many messages, try again later"
        if kind == "timeout":
            await asyncio.sleep(spec.hang_seconds)
            return "451 4.4.2 Sandbox fault: timed out"
        if kind == "drop":
            return _hang_up(server)
        content = envelope.original_content or b""
        message, duplicate = self.mailbox.deliver(envelope.mail_from or "", list(envelope.rcpt_tos), content)
        if kind == "lost_response":
            return _hang_up(server)
        if duplicate:
            return f"250 2.0.0 Already delivered {message.message_id}; not delivered again"
        return f"250 2.0.0 Ok: queued as {message.number}"


def _hang_up(server: SMTP) -> str:
    """Cut the connection; aiosmtpd then has nowhere to write the reply it is given."""
    if server.transport is not None:
        server.transport.abort()
    return "451 4.3.0 connection lost"


class SmtpSandbox:
    """A local SMTP server on a free port (or the one given), running in its own thread.

    Use as a context manager::

        with SmtpSandbox() as smtp:
            client = EmailClient(smtp.settings())
            ...
            assert smtp.mailbox.to("aino@example.org")

    Args:
        mailbox: where messages go; a new in-memory one by default (share the web app's
            ``app.state.store`` to see them on its pages).
        faults: fault spec; by default from ``KUNTAFLOW_SANDBOX_FAULT_*``.
        credentials: username → password; when given, AUTH is required.
    """

    def __init__(
        self,
        mailbox: Mailbox | None = None,
        *,
        host: str = "127.0.0.1",
        port: int | None = None,
        faults: FaultSpec | None = None,
        credentials: dict[str, str] | None = None,
        max_message_bytes: int = MAX_MESSAGE_BYTES,
    ) -> None:
        self.mailbox = mailbox if mailbox is not None else Mailbox()
        self.faults = FaultInjector(faults)
        self.host = host
        self.port = port or free_port(host)
        self._credentials = dict(credentials or {})
        options: dict[str, Any] = {"data_size_limit": max_message_bytes, "enable_SMTPUTF8": True}
        if self._credentials:
            options |= {"authenticator": self._authenticate, "auth_required": True, "auth_require_tls": False}
        self._controller = Controller(SandboxHandler(self.mailbox, self.faults), hostname=host, port=self.port, server_hostname="smtp.sandbox.kuntaflow", **options)
        self._running = False

    def _authenticate(self, server: SMTP, session: Session, envelope: Envelope, mechanism: str, auth_data: Any) -> AuthResult:
        if not isinstance(auth_data, LoginPassword):
            return AuthResult(success=False, handled=False)
        login = auth_data.login.decode("utf-8", errors="replace")
        expected = self._credentials.get(login)
        ok = expected is not None and hmac.compare_digest(expected.encode("utf-8"), auth_data.password)
        return AuthResult(success=ok, handled=False)

    def start(self) -> SmtpSandbox:
        # aiosmtpd traces every command at INFO/DEBUG, addresses and all: not for Kuntaflow's logs.
        logging.getLogger("mail.log").setLevel(logging.WARNING)
        if not self._running:
            self._controller.start()
            self._running = True
        return self

    def stop(self) -> None:
        if self._running:
            self._controller.stop()
            self._running = False

    def __enter__(self) -> SmtpSandbox:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def settings(self, **overrides: Any) -> Any:
        """``EmailSettings`` pointing at this sandbox (retry waits and timeout kept short)."""
        from connectors.email.settings import EmailSettings

        values: dict[str, Any] = {"host": self.host, "port": self.port, "timeout_seconds": 5.0}
        return EmailSettings(**(values | overrides))
