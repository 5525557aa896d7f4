"""E-mail over SMTP (RFC 5321, with STARTTLS RFC 3207 and AUTH RFC 4954), std-lib ``smtplib``.

There is no spec file: the contract is SMTP itself. The client speaks the envelope commands one by
one (MAIL, RCPT per recipient, DATA) rather than ``sendmail()``, to read the server's final reply
to DATA: the sandbox (and any server that de-duplicates on Message-ID) answers a message it has
already received with ``250 2.0.0 Already delivered <message-id>``, which is a success here with
``already_delivered=True``.

Errors: connection failures, timeouts, hang-ups and 4xx replies are :class:`EmailUnavailableError`
(transient, retried with backoff); 535 is :class:`EmailAuthenticationError`; 5xx for every
recipient is :class:`RecipientRefusedError`; 5xx for the message is :class:`MessageRejectedError`.
A send is retried after any transient failure, even after DATA: the Message-ID, made from the
caller's idempotency key, lets the receiver recognise the copy.
"""

from __future__ import annotations

import logging
import smtplib
import ssl
import time
from collections.abc import Callable
from email.message import EmailMessage
from email.utils import formataddr, formatdate

import stamina

from connectors.email.errors import EmailAuthenticationError, EmailUnavailableError, MessageRejectedError, RecipientRefusedError
from connectors.email.models import OutgoingEmail, SendResult, message_id_for
from connectors.email.settings import EmailSettings
from connectors.errors import AutomationError

logger = logging.getLogger("connectors.email")

#: The final DATA reply by which a de-duplicating server says it already has this Message-ID.
ALREADY_DELIVERED_MARKER = "Already delivered"

SmtpFactory = Callable[[EmailSettings], smtplib.SMTP]


def connect(settings: EmailSettings) -> smtplib.SMTP:
    """Open an SMTP connection the settings describe (SSL, STARTTLS, AUTH)."""
    # Loading the system's CA certificates takes tens of milliseconds: only when TLS is asked for.
    context = ssl.create_default_context(cafile=settings.ca_file) if settings.use_ssl or settings.starttls else None
    if settings.use_ssl:
        smtp: smtplib.SMTP = smtplib.SMTP_SSL(settings.host, settings.port, timeout=settings.timeout_seconds, context=context)
    else:
        smtp = smtplib.SMTP(settings.host, settings.port, timeout=settings.timeout_seconds)
    try:
        smtp.ehlo()
        if settings.starttls:
            smtp.starttls(context=context)
            smtp.ehlo()
        if settings.username and settings.password:
            smtp.login(settings.username, settings.password.get_secret_value())
    except BaseException:
        smtp.close()
        raise
    return smtp


class EmailClient:
    """Send :class:`OutgoingEmail` over SMTP. One connection per message; safe to share between threads."""

    def __init__(self, settings: EmailSettings | None = None, *, smtp_factory: SmtpFactory = connect) -> None:
        self.settings = settings or EmailSettings()
        self._connect = smtp_factory

    def build_message(self, email: OutgoingEmail) -> EmailMessage:
        """The MIME message that :meth:`send` hands over: text, optional HTML alternative, attachments."""
        settings = self.settings
        message = EmailMessage()
        message["From"] = formataddr((settings.from_name, settings.from_address))
        message["To"] = ", ".join(email.to)
        if email.cc:
            message["Cc"] = ", ".join(email.cc)
        if reply_to := email.reply_to or settings.reply_to:
            message["Reply-To"] = reply_to
        message["Subject"] = email.subject
        message["Date"] = formatdate(localtime=False, usegmt=True)
        message["Message-ID"] = message_id_for(email.idempotency_key, settings.id_domain)
        message["Auto-Submitted"] = "auto-generated"  # RFC 3834: out-of-office robots should not answer
        message.set_content(email.text)
        if email.html is not None:
            message.add_alternative(email.html, subtype="html")
        for attachment in email.attachments:
            maintype, subtype, params = attachment.mime_parts
            message.add_attachment(attachment.content, maintype=maintype, subtype=subtype, filename=attachment.filename, params=params)
        return message

    def send(self, email: OutgoingEmail) -> SendResult:
        """Send one message, retrying transient failures; a resend of the same key is not delivered twice.

        Raises:
            EmailUnavailableError: the server stayed unreachable or answered 4xx through every attempt.
            EmailAuthenticationError: the server refused our credentials.
            RecipientRefusedError: every recipient was refused (5xx); ``error.refused`` has the codes.
            MessageRejectedError: the server refused the message itself (5xx: too large, policy).
        """
        message = self.build_message(email)
        recipients = [*email.to, *email.cc]
        settings = self.settings
        for attempt in stamina.retry_context(
            on=EmailUnavailableError,
            attempts=settings.retry_attempts,
            timeout=settings.retry_timeout_seconds,
            wait_initial=0.5,
            wait_max=10.0,
        ):
            with attempt:
                return self._send_once(message, recipients, email.idempotency_key)
        raise AssertionError("unreachable: stamina re-raises the last error")  # pragma: no cover

    def _send_once(self, message: EmailMessage, recipients: list[str], key: str) -> SendResult:
        message_id = str(message["Message-ID"])
        ids = {"idempotency_key": key, "message_id": message_id}
        started = time.perf_counter()
        try:
            smtp = self._connect(self.settings)
        except ssl.SSLCertVerificationError:
            raise EmailAuthenticationError(
                "email: the SMTP server's TLS certificate is not trusted; check KUNTAFLOW_EMAIL_HOST and KUNTAFLOW_EMAIL_CA_FILE",
                code="TLS_UNTRUSTED",
                business_ids=ids,
            ) from None
        except smtplib.SMTPNotSupportedError as error:
            raise EmailAuthenticationError(f"email: the SMTP server does not support what the settings ask for ({error})", business_ids=ids) from None
        except (OSError, smtplib.SMTPException) as error:
            raise _smtp_error(error, "connect", ids) from None
        try:
            result = self._envelope(smtp, message, recipients, ids)
        except (OSError, smtplib.SMTPException) as error:
            raise _smtp_error(error, "send", ids) from None
        finally:
            _quit_quietly(smtp)
        logger.info(
            "email: %s %s to %d recipient(s) in %.0f ms",
            "already had" if result.already_delivered else "sent",
            message_id,
            result.accepted,
            (time.perf_counter() - started) * 1000,
        )
        return result

    def _envelope(self, smtp: smtplib.SMTP, message: EmailMessage, recipients: list[str], ids: dict[str, str]) -> SendResult:
        sender = self.settings.from_address
        data = message.as_bytes(policy=message.policy.clone(linesep="\r\n"))
        code, reply = smtp.mail(sender, [f"size={len(data)}"] if smtp.has_extn("size") else [])
        _check(code, reply, "MAIL", ids)
        refused: dict[str, int] = {}
        for recipient in recipients:
            code, reply = smtp.rcpt(recipient)
            if code in (250, 251):
                continue
            if code < 500:
                raise _reply_error(code, reply, "RCPT", ids)
            refused[recipient] = code
        if len(refused) == len(recipients):
            smtp.rset()
            codes = sorted(set(refused.values()))
            raise RecipientRefusedError(
                f"email: the server refused all {len(recipients)} recipient(s) ({', '.join(map(str, codes))})",
                refused=refused,
                status_code=codes[0],
                business_ids=ids,
            )
        code, reply = smtp.data(data)
        _check(code, reply, "DATA", ids)
        text = reply.decode("utf-8", errors="replace")
        return SendResult(
            message_id=str(message["Message-ID"]),
            accepted=len(recipients) - len(refused),
            refused=refused,
            already_delivered=ALREADY_DELIVERED_MARKER.lower() in text.lower(),
            server_reply=text,
        )


def _quit_quietly(smtp: smtplib.SMTP) -> None:
    """Say goodbye; once the message is accepted, a server that hangs up at QUIT changes nothing."""
    try:
        smtp.quit()
    except (OSError, smtplib.SMTPException):
        pass
    finally:
        smtp.close()


def _check(code: int, reply: bytes, command: str, ids: dict[str, str]) -> None:
    if not 200 <= code < 300:
        raise _reply_error(code, reply, command, ids)


def _reply_error(code: int, reply: bytes | str, stage: str, ids: dict[str, str]) -> AutomationError:
    """4xx (and smtplib's -1, no reply) is worth another try; 5xx is final; 530/535 are our credentials."""
    message = f"email: {stage} answered {code} {_enhanced(reply)}".rstrip()
    if code in (530, 535):
        return EmailAuthenticationError(f"{message}; check KUNTAFLOW_EMAIL_USERNAME and KUNTAFLOW_EMAIL_PASSWORD", status_code=code, business_ids=ids)
    if code >= 500:
        return MessageRejectedError(message, code=f"EMAIL_REJECTED_{code}", status_code=code, business_ids=ids)
    return EmailUnavailableError(message, code=f"SMTP_{code}", status_code=code, business_ids=ids)


def _enhanced(reply: bytes | str) -> str:
    """The enhanced status code (e.g. ``5.1.1``) from a reply: the rest may quote an address.

    smtplib hands over the server's bytes, but its own complaints (``Line too long.``) as text.
    """
    text = reply.decode("utf-8", errors="replace") if isinstance(reply, bytes) else str(reply)
    first = text.split(" ", 1)[0]
    parts = first.split(".")
    return first if len(parts) == 3 and all(part.isdigit() for part in parts) else ""


def _smtp_error(error: BaseException, stage: str, ids: dict[str, str]) -> AutomationError:
    """The connector error for an exception smtplib or the socket raised."""
    if isinstance(error, smtplib.SMTPResponseException):
        return _reply_error(error.smtp_code, error.smtp_error, stage, ids)
    # smtplib turns a socket timeout while waiting for a reply into SMTPServerDisconnected.
    if isinstance(error, TimeoutError) or isinstance(error.__context__, TimeoutError):
        name = "TIMEOUT"
    elif isinstance(error, ConnectionRefusedError):
        name = "CONNECT_FAILED"
    elif isinstance(error, (smtplib.SMTPServerDisconnected, ConnectionError)):
        name = "CONNECTION_DROPPED"
    elif isinstance(error, ssl.SSLError):
        name = "TLS_FAILED"
    else:
        name = "SMTP_ERROR"
    return EmailUnavailableError(f"email: {stage} failed ({name}: {type(error).__name__})", code=name, business_ids=ids)


__all__ = ["ALREADY_DELIVERED_MARKER", "EmailClient", "connect"]
