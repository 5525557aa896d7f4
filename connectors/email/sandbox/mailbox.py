"""The e-mail sandbox's store: every message the SMTP sandbox accepted, kept in memory and optionally as .eml files.

Tests read it through ``sandbox.mailbox`` (or ``app.state.store`` of the web app): ``messages``,
``to(address)``, ``by_message_id(id)``. A Message-ID is delivered once: a second copy is counted in
``duplicates`` and not stored again. Every method takes the lock: the SMTP server runs in its own
thread and the web pages in another.
"""

from __future__ import annotations

import threading
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from functools import cached_property
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class ReceivedAttachment:
    filename: str
    content_type: str
    content: bytes = field(repr=False)


@dataclass(repr=False)
class ReceivedMessage:
    """One accepted message: the envelope as given in SMTP, and the raw bytes as received."""

    number: int
    mail_from: str
    recipients: list[str]
    raw: bytes
    received_at: datetime

    def __repr__(self) -> str:
        return f"ReceivedMessage({self.number}, message_id={self.message_id!r}, recipients={len(self.recipients)})"

    @cached_property
    def parsed(self) -> EmailMessage:
        # SMTP carries CRLF; the parsed parts read better (and compare easier) with plain newlines.
        message = BytesParser(policy=policy.default).parsebytes(self.raw.replace(b"\r\n", b"\n"))
        assert isinstance(message, EmailMessage)
        return message

    @property
    def message_id(self) -> str | None:
        value = self.parsed["Message-ID"]
        return str(value).strip() if value else None

    @property
    def subject(self) -> str:
        return str(self.parsed["Subject"] or "")

    @property
    def sender(self) -> str:
        return str(self.parsed["From"] or self.mail_from)

    @property
    def text(self) -> str | None:
        part = self.parsed.get_body(preferencelist=("plain",))
        return part.get_content() if part is not None else None  # type: ignore[union-attr]

    @property
    def html(self) -> str | None:
        part = self.parsed.get_body(preferencelist=("html",))
        return part.get_content() if part is not None else None  # type: ignore[union-attr]

    @cached_property
    def attachments(self) -> list[ReceivedAttachment]:
        found = []
        for part in self.parsed.iter_attachments():
            payload = part.get_payload(decode=True)
            found.append(ReceivedAttachment(part.get_filename() or "liite", part.get("Content-Type", part.get_content_type()), payload or b""))
        return found

    def summary(self) -> dict[str, Any]:
        """The JSON the sandbox's API gives for a message."""
        return {
            "number": self.number,
            "message_id": self.message_id,
            "mail_from": self.mail_from,
            "recipients": list(self.recipients),
            "from": self.sender,
            "to": str(self.parsed["To"] or ""),
            "cc": str(self.parsed["Cc"] or ""),
            "reply_to": str(self.parsed["Reply-To"] or "") or None,
            "subject": self.subject,
            "received_at": self.received_at.isoformat(),
            "attachments": [
                {"index": i, "filename": a.filename, "content_type": a.content_type, "size": len(a.content)} for i, a in enumerate(self.attachments)
            ],
        }

    def details(self) -> dict[str, Any]:
        return self.summary() | {"text": self.text, "html": self.html}


class Mailbox:
    """Everything the SMTP sandbox accepted. ``data_dir`` set: each message is also written as ``NNNNNN.eml``."""

    def __init__(self, *, data_dir: Path | None = None, refused_domains: tuple[str, ...] = (".invalid",)) -> None:
        self.lock = threading.Lock()
        self.messages: list[ReceivedMessage] = []
        self.duplicates: Counter[str] = Counter()
        self.unknown_recipients: set[str] = set()
        self.refused_domains = tuple(d.lower() for d in refused_domains)
        self.data_dir = data_dir
        self._by_id: dict[str, ReceivedMessage] = {}

    def accepts(self, address: str) -> bool:
        """Whether a recipient exists: addresses in a refused domain (``*.invalid``) or listed as unknown do not."""
        lowered = address.strip().lower()
        return lowered not in self.unknown_recipients and not lowered.endswith(self.refused_domains)

    def deliver(self, mail_from: str, recipients: list[str], raw: bytes) -> tuple[ReceivedMessage, bool]:
        """Keep a message; returns (message, True) when its Message-ID was delivered before (and keeps nothing new)."""
        with self.lock:
            candidate = ReceivedMessage(len(self.messages) + 1, mail_from, list(recipients), bytes(raw), datetime.now(UTC))
            message_id = candidate.message_id
            if message_id and message_id in self._by_id:
                self.duplicates[message_id] += 1
                return self._by_id[message_id], True
            self.messages.append(candidate)
            if message_id:
                self._by_id[message_id] = candidate
            if self.data_dir is not None:
                self.data_dir.mkdir(parents=True, exist_ok=True)
                (self.data_dir / f"{candidate.number:06d}.eml").write_bytes(candidate.raw)
            return candidate, False

    def to(self, address: str) -> list[ReceivedMessage]:
        """Messages whose envelope names ``address`` (case-insensitive), oldest first."""
        wanted = address.strip().lower()
        with self.lock:
            return [m for m in self.messages if wanted in (r.lower() for r in m.recipients)]

    def by_message_id(self, message_id: str) -> ReceivedMessage | None:
        with self.lock:
            return self._by_id.get(message_id.strip())

    def get(self, number: int) -> ReceivedMessage | None:
        with self.lock:
            return self.messages[number - 1] if 1 <= number <= len(self.messages) else None

    def recipients(self) -> list[tuple[str, int]]:
        """Every recipient address with its message count, alphabetically."""
        counts: Counter[str] = Counter()
        with self.lock:
            for message in self.messages:
                counts.update({r.lower() for r in message.recipients})
        return sorted(counts.items())

    def clear(self) -> None:
        with self.lock:
            self.messages.clear()
            self._by_id.clear()
            self.duplicates.clear()
