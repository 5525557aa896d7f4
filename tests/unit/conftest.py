"""What the domain services' unit tests share: an e-mail client at the boundary, and no retry backoff."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import stamina

from connectors.email.errors import RecipientRefusedError
from connectors.email.models import OutgoingEmail, SendResult

#: The address FakeEmail's mail server refuses, as a real one refuses an unknown mailbox.
REFUSED_ADDRESS = "refused@example.org"


class FakeEmail:
    """The e-mail client's one method: keeps what was sent, refuses ``REFUSED_ADDRESS``, and delivers
    a resend of the same idempotency key once (as the real client does with its Message-ID)."""

    def __init__(self) -> None:
        self.sent: list[OutgoingEmail] = []

    def send(self, email: OutgoingEmail) -> SendResult:
        if REFUSED_ADDRESS in email.to:
            raise RecipientRefusedError("email: every recipient refused", refused=dict.fromkeys(email.to, 550))
        message_id = f"<{email.idempotency_key}@test>"
        if any(earlier.idempotency_key == email.idempotency_key for earlier in self.sent):
            return SendResult(message_id=message_id, accepted=len(email.to), already_delivered=True)
        self.sent.append(email)
        return SendResult(message_id=message_id, accepted=len(email.to))


@pytest.fixture
def email() -> FakeEmail:
    return FakeEmail()


@pytest.fixture
def no_backoff() -> Iterator[None]:
    with stamina.set_testing(True, attempts=1, cap=True):
        yield


@pytest.fixture
def viestit_sandbox():
    """A fresh Suomi.fi Messages sandbox app, no injected faults unless a test asks (``app.state.faults``)."""
    from connectors.sandbox_support import FaultSpec
    from connectors.suomifi_viestit.sandbox import create_app

    return create_app(faults=FaultSpec())
