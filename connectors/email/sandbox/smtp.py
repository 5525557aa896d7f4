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
the message is kept and the connection cut before the ``250``. The sandbox speaks
plain SMTP unless ``tls=True``, which offers STARTTLS with a self-signed certificate for
127.0.0.1/localhost made on the spot (``smtp.ca_file`` is the file a client trusts) and then
takes AUTH only over TLS, as a real submission server does.
"""

from __future__ import annotations

import asyncio
import datetime
import hmac
import ipaddress
import logging
import ssl
import tempfile
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from connectors.email.sandbox.mailbox import Mailbox
from connectors.email.settings import EmailSettings
from connectors.sandbox_support import FaultInjector, FaultSpec
from connectors.servers import free_port

FAULT_PATH = "/smtp"
MAX_MESSAGE_BYTES = 25 * 1024 * 1024
logger = logging.getLogger("connectors.email.sandbox")


class SandboxHandler:
    """aiosmtpd handler hooks: recipient checks, de-duplication by Message-ID, faults."""

    def __init__(self, mailbox: Mailbox, faults: FaultInjector) -> None:
        self.mailbox = mailbox
        self.faults = faults

    async def handle_RCPT(self, server: SMTP, session: Session, envelope: Envelope, address: str, rcpt_options: list[str]) -> str:  # noqa: N802 (aiosmtpd calls its handler hooks by these names)
        if not self.mailbox.accepts(address):
            return "550 5.1.1 Recipient address rejected: User unknown"
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:  # noqa: N802 (aiosmtpd calls its handler hooks by these names)
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
        tls: offer STARTTLS with a throwaway self-signed certificate (``ca_file``).
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
        tls: bool = False,
    ) -> None:
        self.mailbox = mailbox if mailbox is not None else Mailbox()
        self.faults = FaultInjector(faults)
        self.host = host
        self.port = port or free_port(host)
        self._credentials = dict(credentials or {})
        options: dict[str, Any] = {"data_size_limit": max_message_bytes, "enable_SMTPUTF8": True}
        self._tls_dir: tempfile.TemporaryDirectory[str] | None = None
        self.ca_file: Path | None = None
        if tls:
            self._tls_dir = tempfile.TemporaryDirectory(prefix="kuntaflow-smtp-tls-")
            self.ca_file, key_file = _self_signed(Path(self._tls_dir.name), host)
            context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            context.load_cert_chain(self.ca_file, key_file)
            options["tls_context"] = context
        if self._credentials:
            options |= {"authenticator": self._authenticate, "auth_required": True, "auth_require_tls": tls}
        self._controller = Controller(
            SandboxHandler(self.mailbox, self.faults), hostname=host, port=self.port, server_hostname="smtp.sandbox.kuntaflow", **options
        )
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
        if self._tls_dir is not None:
            self._tls_dir.cleanup()
            self._tls_dir = None

    def __enter__(self) -> SmtpSandbox:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def settings(self, **overrides: Any) -> Any:
        """``EmailSettings`` pointing at this sandbox (retry waits and timeout kept short)."""
        values: dict[str, Any] = {"host": self.host, "port": self.port, "timeout_seconds": 5.0}
        if self.ca_file is not None:
            values |= {"starttls": True, "ca_file": self.ca_file}
        return EmailSettings(**(values | overrides))


def _self_signed(directory: Path, host: str) -> tuple[Path, Path]:
    """A one-day certificate for ``host``, localhost and 127.0.0.1, and its key, written to ``directory``."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "smtp.sandbox.kuntaflow")])
    now = datetime.datetime.now(datetime.UTC)
    alternatives: list[x509.GeneralName] = [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
    try:
        alternatives.append(x509.IPAddress(ipaddress.ip_address(host)))
    except ValueError:
        alternatives.append(x509.DNSName(host))
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName(list(dict.fromkeys(alternatives))), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = directory / "cert.pem", directory / "key.pem"
    cert_file.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    return cert_file, key_file
