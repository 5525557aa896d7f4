"""SMTP oddities from the mail server: a greeting that is not SMTP, replies without a code, codes out of
place (354 to RCPT, 250 to DATA), a reply line longer than smtplib takes, bytes that are not UTF-8, a
hang-up mid-reply. Each ends as a typed e-mail error (connectors/email/errors.py), never an exception
out of ``EmailClient.send``, and no error names the recipient's address.

The server is a few lines of socket code that answers each command from a script, so the oddity is
exactly the one under test.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from connectors.email import EmailClient, EmailSettings
from connectors.email.errors import EmailUnavailableError, MessageRejectedError
from connectors.email.models import OutgoingEmail
from connectors.errors import AutomationError

ADDRESS = "aino.virtanen@example.org"
GOOD = {
    "greeting": b"220 mail.example.org ESMTP\r\n",
    "EHLO": b"250-mail.example.org\r\n250 SIZE 1000000\r\n",
    "HELO": b"250 mail.example.org\r\n",
    "MAIL": b"250 2.1.0 Ok\r\n",
    "RCPT": b"250 2.1.5 Ok\r\n",
    "DATA": b"354 End data with <CR><LF>.<CR><LF>\r\n",
    "end of data": b"250 2.0.0 Ok: queued\r\n",
    "RSET": b"250 Ok\r\n",
    "QUIT": b"221 Bye\r\n",
}


@contextmanager
def scripted_smtp(**changes: bytes | None) -> Iterator[int]:
    """A one-connection SMTP server answering from GOOD with ``changes``; None hangs up instead, and a
    reply without its line end is sent and then the line is dropped."""
    script = {**GOOD, **{key.replace("_", " "): value for key, value in changes.items()}}
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    listener.settimeout(5)

    def serve() -> None:
        try:
            connection, _ = listener.accept()
        except OSError:
            return
        with connection, connection.makefile("rb") as reader:
            connection.settimeout(5)

            def say(key: str) -> bool:
                reply = script[key]
                if reply is None:
                    return False
                connection.sendall(reply)
                return reply.endswith(b"\n")  # a reply cut short is followed by a hang-up

            if not say("greeting"):
                return
            while line := reader.readline():
                verb = line.split(b" ", 1)[0].strip().upper().decode("ascii", "replace").split(":")[0]
                if not say(verb if verb in script else "RSET"):
                    return
                if verb == "DATA" and script["DATA"] and script["DATA"].startswith(b"354"):
                    while (body := reader.readline()) and body != b".\r\n":
                        pass
                    if not say("end of data"):
                        return
                if verb == "QUIT":
                    return

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield listener.getsockname()[1]
    finally:
        listener.close()
        thread.join(5)


def send(port: int) -> AutomationError | object:
    client = EmailClient(EmailSettings(host="127.0.0.1", port=port, retry_attempts=1, timeout_seconds=3))
    email = OutgoingEmail(to=[ADDRESS], subject="Päätös", text="Hei!\n", idempotency_key="library_card:1:decision")
    try:
        return client.send(email)
    except AutomationError as error:
        return error


def test_the_script_itself_delivers():
    with scripted_smtp() as port:
        result = send(port)
    assert not isinstance(result, AutomationError) and result.accepted == 1


ODDITIES = {
    "a greeting that is not SMTP": ({"greeting": b"HTTP/1.1 400 Bad Request\r\n\r\n"}, EmailUnavailableError),
    "a greeting without a code": ({"greeting": b"hello\r\n"}, EmailUnavailableError),
    "no greeting, a hang-up": ({"greeting": None}, EmailUnavailableError),
    "a permanent refusal at the greeting": ({"greeting": b"554 5.7.1 no service for you\r\n"}, MessageRejectedError),
    "EHLO and HELO refused": ({"EHLO": b"502 not implemented\r\n", "HELO": b"502 not implemented\r\n"}, None),
    "MAIL answered with garbage": ({"MAIL": b"ok then\r\n"}, EmailUnavailableError),
    "MAIL answered with a code out of range": ({"MAIL": b"999 what\r\n"}, MessageRejectedError),
    "RCPT answered 354": ({"RCPT": b"354 go ahead\r\n"}, EmailUnavailableError),
    "DATA answered 250 instead of 354": ({"DATA": b"250 fine\r\n"}, EmailUnavailableError),
    "a reply line longer than smtplib reads": ({"RCPT": b"250 " + b"x" * 9000 + b"\r\n"}, AutomationError),
    "a reply that is not UTF-8": ({"end of data": b"250-\xff\xfe\xfa queued as \x80\r\n250 ok\r\n"}, None),
    "a hang-up after DATA": ({"end of data": None}, EmailUnavailableError),
    "a hang-up mid-reply": ({"RCPT": b"250-mail.example"}, EmailUnavailableError),
    "a hang-up at QUIT after delivery": ({"QUIT": None}, None),
}


@pytest.mark.parametrize("oddity", sorted(ODDITIES))
def test_an_odd_mail_server_gives_a_typed_error_or_a_delivery_never_a_crash(oddity):
    changes, expected = ODDITIES[oddity]
    with scripted_smtp(**changes) as port:
        result = send(port)
    if expected is None:
        assert not isinstance(result, AutomationError), result  # odd but delivered
        return
    assert isinstance(result, expected), f"{oddity}: {result!r}"
    assert ADDRESS not in str(result) and "aino" not in repr(result).lower()
