"""Typed client for the Suomi.fi Messages REST API: mailbox check, v2 messages, attachments, events.

Contract: shared/specs/suomifi/messages-rest/messages-api.yaml (OpenAPI 3.0.1, info.version
1.0.0): ``POST /v1/token`` (in :mod:`.auth`), ``POST /v1/change-password``, ``POST
/v1/mailboxes/active``, ``POST /v2/messages/electronic``, ``POST /v2/messages``, ``POST
/v2/paper-mail-without-id``, ``POST /v2/attachments``, ``GET /v2/events``, ``GET
/v2/messages/{id}``, ``GET /v1/attachments/{id}`` and ``GET /v1/messages/id``.

Idempotency: ``externalId`` is the key. "If the same externalId is used more than once, a 409
response is returned, containing the original messageId … These HTTP 409 responses should be
handled equally as HTTP 200 responses." So a send returns a :class:`SendResult` with
``already_sent=True`` on 409, and sends are resent after timeouts and 5xx ("your system should
automatically retry all requests that receive a HTTP 500 series response").

Privacy: the recipient's hetu is turned into text only inside the request body; it is never in a
log line, an error message or a ``business_ids`` entry.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Iterator
from typing import Any

import httpx
from pydantic import SecretStr

from connectors.errors import AutomationError, IntegrationError
from connectors.http import ConnectorClient, ErrorDetails, RetryPolicy
from connectors.letters.pdf import PostalAddress
from connectors.suomifi_viestit.auth import PasswordSource, ViestitTokenAuth
from connectors.suomifi_viestit.errors import (
    AttachmentTooLargeError,
    MailboxNotInUseError,
    RepliedMessageNotFoundError,
    UnsupportedAttachmentError,
    ViestitAuthenticationError,
    ViestitRejectedError,
    ViestitUnavailableError,
)
from connectors.suomifi_viestit.models import (
    ATTACHMENT_MAX_BYTES,
    ATTACHMENT_MEDIA_TYPES,
    MAILBOX_BATCH_LIMIT,
    AccessTokenResponse,
    AttachmentReference,
    ElectronicMessage,
    EndUsersWithActiveMailbox,
    EventsPage,
    MessageAlreadyExistsResponse,
    MessageFromEndUser,
    MessageIdResponse,
    MessageResponse,
    NewElectronicMessage,
    NewMultichannelMessage,
    NewPaperMailWithoutId,
    PaperMail,
    SendResult,
)
from connectors.suomifi_viestit.settings import ViestitSettings
from schemas.hetu import Hetu

logger = logging.getLogger("connectors.suomifi_viestit")
SYSTEM = "suomifi_viestit"


class ViestitClient(ConnectorClient):
    """Suomi.fi Messages REST API. Contract: shared/specs/suomifi/messages-rest/messages-api.yaml."""

    def __init__(
        self,
        settings: ViestitSettings | None = None,
        *,
        transport: httpx.BaseTransport | None = None,
        retry: RetryPolicy | None = None,
        passwords: PasswordSource | None = None,
    ) -> None:
        """``passwords`` gives the password(s) to try at each token fetch (a rotated password's store);
        by default the settings' one."""
        self.settings = settings or ViestitSettings()
        self.auth = ViestitTokenAuth(self.settings.base_url, self.settings.username, passwords or self.settings.password)
        options: dict[str, Any] = {
            "system": SYSTEM,
            "transport": transport,
            "retry": retry,
            "error_mapper": _map_viestit_error,
            "transient_error": ViestitUnavailableError,
        }
        self.api = self.api_client(self.settings, auth=self.auth, **options)
        # /v1/token and /v1/change-password carry their credentials in the body, not in Authorization.
        self.account_api = self.api_client(self.settings, **options)

    def close(self) -> None:
        self.account_api.close()
        super().close()

    # ------------------------------------------------------------------ the system's password

    def password_works(self, password: SecretStr) -> bool:
        """Whether ``POST /v1/token`` accepts the system's username with ``password`` (400: it does not)."""
        response = self.account_api.request(
            "POST", "/v1/token", json={"username": self.settings.username, "password": password.get_secret_value()}, accept={400}, resend=True
        )
        return response.status_code == 200

    def change_password(self, current: SecretStr, new: SecretStr) -> None:
        """``POST /v1/change-password``: a token got with ``current`` goes in the body with both passwords.

        Not resent after a lost answer: the service may have changed the password already, and then
        ``current`` no longer works. Whoever calls this keeps ``new`` until it is known whether the
        service took it (see ``password_works``).

        Raises:
            ViestitAuthenticationError: ``current`` is refused.
            ViestitRejectedError: the service refused the change (the policy, or too soon after the last one).
            ViestitUnavailableError: 5xx or no answer.
        """
        login = {"username": self.settings.username, "password": current.get_secret_value()}
        answer = self.account_api.request("POST", "/v1/token", json=login, accept={400}, resend=True)
        if answer.status_code == 400:
            raise ViestitAuthenticationError(f"{SYSTEM}: POST /v1/token refused the current password; the password was not changed", status_code=400)
        token = self.account_api.decode(answer, AccessTokenResponse)
        body = {"accessToken": token.access_token, "currentPassword": current.get_secret_value(), "newPassword": new.get_secret_value()}
        self.account_api.request("POST", "/v1/change-password", json=body, resend=False)
        logger.info("%s: the system's password was changed", SYSTEM)

    # ------------------------------------------------------------------ mailboxes

    def active_mailboxes(self, people: Iterable[Hetu | str]) -> set[Hetu]:
        """Which of these people have an active Suomi.fi mailbox (checked in batches of 10 000).

        The spec asks that this be used "only in the context of sending messages".

        Raises:
            ValueError: an entry is not a valid henkilötunnus (the value is not echoed).
            ViestitUnavailableError, ViestitAuthenticationError, IntegrationError.
        """
        unique = list(dict.fromkeys(Hetu(person) for person in people))
        active: set[Hetu] = set()
        for start in range(0, len(unique), MAILBOX_BATCH_LIMIT):
            batch = {hetu.value: hetu for hetu in unique[start : start + MAILBOX_BATCH_LIMIT]}
            answer = self.api.request_model(
                EndUsersWithActiveMailbox,
                "POST",
                "/v1/mailboxes/active",
                json={"endUsers": [{"id": code} for code in batch]},
                resend=True,  # a read: resending it cannot do harm
            )
            for end_user in answer.end_users_with_active_mailbox:
                if end_user.id not in batch:
                    raise IntegrationError(f"{SYSTEM}: POST /v1/mailboxes/active answered an id that was not asked about", code="UNEXPECTED_RESPONSE")
                active.add(batch[end_user.id])
        return active

    def has_active_mailbox(self, person: Hetu | str) -> bool:
        """Whether one person has an active Suomi.fi mailbox."""
        return bool(self.active_mailboxes([person]))

    # ------------------------------------------------------------------ messages

    def send_electronic(self, message: NewElectronicMessage) -> SendResult:
        """Send an electronic-only message (``POST /v2/messages/electronic``).

        Raises:
            MailboxNotInUseError: the recipient has no active mailbox (use :meth:`send_multichannel`).
            RepliedMessageNotFoundError: ``in_reply_to_message_id`` names a message that is gone.
            ViestitRejectedError: any other 400 (something to fix in what we built).
            ViestitUnavailableError: 5xx or no answer, after the retry policy.
        """
        body = self._message_body(message.external_id, message.recipient, message.electronic)
        return self._send("/v2/messages/electronic", body, message.external_id)

    def send_multichannel(self, message: NewMultichannelMessage) -> SendResult:
        """Send electronically if the mailbox is active, otherwise as a printed letter (``POST /v2/messages``).

        The paper part carries exactly one PDF attachment, the Posti credentials and cost pool
        from settings, the recipient's address and the sender's (settings unless the message
        gives one).

        Raises:
            ViestitRejectedError: a 400 (e.g. the attachment is gone or not a PDF).
            ViestitUnavailableError: 5xx or no answer, after the retry policy.
        """
        body = self._message_body(message.external_id, message.recipient, message.electronic)
        body["paperMail"] = self._paper_mail(message.paper_mail)
        return self._send("/v2/messages", body, message.external_id)

    # ------------------------------------------------------------------ attachments

    def upload_attachment(self, filename: str, content: bytes, media_type: str) -> AttachmentReference:
        """Upload a file to attach to a message (``POST /v2/attachments``); unused ones are removed after 24 h.

        The filename is shown to the recipient as is.

        Raises:
            AttachmentTooLargeError: the upload would exceed 10 485 760 bytes (checked before sending).
            UnsupportedAttachmentError: a type the service does not accept, an empty file, or a
                "PDF" that is not one.
        """
        media_type = media_type.split(";")[0].strip().lower()
        if media_type not in ATTACHMENT_MEDIA_TYPES:
            raise UnsupportedAttachmentError(f"{SYSTEM}: attachments of type {media_type or '(none)'} are not accepted")
        if not content:
            raise UnsupportedAttachmentError(f"{SYSTEM}: the attachment {filename!r} is empty")
        if media_type == "application/pdf" and not content.startswith(b"%PDF-"):
            raise UnsupportedAttachmentError(f"{SYSTEM}: the attachment {filename!r} is not a PDF file")
        if not filename.strip():
            raise UnsupportedAttachmentError(f"{SYSTEM}: an attachment needs a filename (the recipient sees it)")
        files = {"file": (filename, content, media_type)}
        # The limit is on the whole HTTP body, multipart framing included.
        size = int(httpx.Request("POST", "http://size.invalid/", files=files).headers["Content-Length"])
        if size > ATTACHMENT_MAX_BYTES:
            raise AttachmentTooLargeError(
                f"{SYSTEM}: the attachment {filename!r} makes a {size}-byte upload; Suomi.fi Messages takes at most {ATTACHMENT_MAX_BYTES}"
            )
        # Resending after a lost answer only leaves an unused copy, which the service removes after 24 h.
        return self.api.request_model(AttachmentReference, "POST", "/v2/attachments", files=files, resend=True)

    def send_paper_mail_without_id(self, message: NewPaperMailWithoutId) -> SendResult:
        """Print and post a letter to an address, no hetu needed (``POST /v2/paper-mail-without-id``).

        A reused ``externalId`` answers 409 without the messageId here (``ErrorResponseV1``), so it
        is looked up with ``GET /v1/messages/id``; the result is then ``already_sent=True`` as for
        the other sends.
        """
        body = {"externalId": message.external_id, "sender": {"serviceId": self.settings.service_id}, "paperMail": self._paper_mail(message.paper_mail)}
        ids = {"external_id": message.external_id}
        response = self.api.request("POST", "/v2/paper-mail-without-id", json=body, accept={409}, resend=True, business_ids=ids)
        trace_id = response.headers.get("traceId")
        if response.status_code == 409:
            existing = self.message_id_for(message.external_id)
            if existing is None:
                raise IntegrationError(f"{SYSTEM}: externalId {message.external_id} is in use but has no message", code="UNEXPECTED_RESPONSE", business_ids=ids)
            return SendResult(message_id=existing, external_id=message.external_id, already_sent=True, trace_id=trace_id)
        created = self.api.decode(response, MessageResponse, business_ids=ids)
        logger.info("%s: externalId %s posted as paper mail %s", SYSTEM, message.external_id, created.message_id)
        return SendResult(message_id=created.message_id, external_id=message.external_id, already_sent=False, trace_id=trace_id)

    def message_id_for(self, external_id: str) -> int | None:
        """The messageId of the message sent with ``external_id`` (``GET /v1/messages/id``); None if there is none."""
        response = self.api.request("GET", "/v1/messages/id", params={"externalId": external_id}, accept={404}, business_ids={"external_id": external_id})
        if response.status_code == 404:
            return None
        return self.api.decode(response, MessageIdResponse).message_id

    # ------------------------------------------------------------------ messages from citizens

    def message_from_end_user(self, message_id: int) -> MessageFromEndUser:
        """A message a citizen sent us (``GET /v2/messages/{id}``), e.g. a reply; its id comes from an event.

        Raises:
            NotFoundError: no such message, or older than 60 days.
        """
        return self.api.request_model(MessageFromEndUser, "GET", f"/v2/messages/{message_id}", business_ids={"message_id": message_id})

    def end_user_attachment(self, attachment_id: str) -> bytes:
        """The content of a file a citizen attached (``GET /v1/attachments/{id}``), kept 60 days."""
        response = self.api.request("GET", f"/v1/attachments/{attachment_id}", headers={"Accept": "*/*"}, business_ids={"attachment_id": attachment_id})
        return response.content

    # ------------------------------------------------------------------ events

    def events(self, continuation_token: str | None = None) -> EventsPage:
        """One page of events (``GET /v2/events``): at most 1000; store the returned token for the next poll.

        Raises:
            ViestitRejectedError: the service did not accept the continuation token.
        """
        params = {"continuationToken": continuation_token} if continuation_token else None
        return self.api.request_model(EventsPage, "GET", "/v2/events", params=params)

    def poll_events(self, continuation_token: str | None = None) -> Iterator[EventsPage]:
        """Pages of events until the service has nothing more for now (an empty page is not yielded).

        Handle each page, then store its ``continuation_token``: stopping half-way loses nothing.
        """
        while True:
            page = self.events(continuation_token)
            if not page.events:
                return
            yield page
            continuation_token = page.continuation_token

    # ------------------------------------------------------------------ internals

    def _send(self, path: str, body: dict[str, Any], external_id: str) -> SendResult:
        response = self.api.request("POST", path, json=body, accept={409}, resend=True, business_ids={"external_id": external_id})
        trace_id = response.headers.get("traceId")
        if response.status_code == 409:
            existing = self.api.decode(response, MessageAlreadyExistsResponse, business_ids={"external_id": external_id})
            logger.info("%s: externalId %s was already sent as message %s", SYSTEM, external_id, existing.message_id)
            return SendResult(message_id=existing.message_id, external_id=external_id, already_sent=True, trace_id=trace_id)
        created = self.api.decode(response, MessageResponse, business_ids={"external_id": external_id})
        logger.info("%s: externalId %s sent as message %s", SYSTEM, external_id, created.message_id)
        return SendResult(message_id=created.message_id, external_id=external_id, already_sent=False, trace_id=trace_id)

    def _message_body(self, external_id: str, recipient: Hetu, electronic: ElectronicMessage) -> dict[str, Any]:
        return {
            "externalId": external_id,
            "recipient": {"id": recipient.value},  # the only place the hetu becomes text
            "sender": {"serviceId": self.settings.service_id},
            "electronic": _electronic_part(electronic),
        }

    def _paper_mail(self, paper: PaperMail) -> dict[str, Any]:
        settings = self.settings
        service: dict[str, Any] = {
            "postiMessaging": {
                "username": settings.posti_username,
                "password": settings.posti_password.get_secret_value(),
                "contactDetails": {"email": settings.posti_contact_email},
            }
        }
        if cost_pool := paper.cost_pool or settings.cost_pool:
            service["costPool"] = cost_pool
        return {
            "attachments": [{"attachmentId": str(paper.attachment.attachment_id)}],
            "colorPrinting": paper.color_printing,
            "createAddressPage": paper.create_address_page,
            "rotateLandscapePages": paper.rotate_landscape_pages,
            "twoSidedPrinting": paper.two_sided_printing,
            "messageServiceType": paper.message_service_type,
            "printingAndEnvelopingService": service,
            "recipient": {"address": _address(paper.recipient_address)},
            "sender": {"address": _address(paper.sender_address or settings.sender_address)},
        }


def _electronic_part(electronic: ElectronicMessage) -> dict[str, Any]:
    notifications: dict[str, Any] = {
        "senderDetailsInNotifications": electronic.notifications.sender_details_in_notifications,
        "unreadMessageNotification": {"reminder": electronic.notifications.reminder},
    }
    if custom := electronic.notifications.customised_new_message_notification:
        notifications["customisedNewMessageNotification"] = custom.model_dump(mode="json")
    part: dict[str, Any] = {
        "title": electronic.title,
        "body": electronic.body,
        "bodyFormat": electronic.body_format,
        "messageServiceType": electronic.message_service_type,
        "replyAllowedBy": electronic.reply_allowed_by,
        "visibility": electronic.visibility,
        "attachments": [{"attachmentId": str(reference.attachment_id)} for reference in electronic.attachments],
        "notifications": notifications,
    }
    if electronic.in_reply_to_message_id is not None:
        part["inReplyToMessageId"] = electronic.in_reply_to_message_id
    return part


def _address(address: PostalAddress) -> dict[str, str]:
    out = {
        "name": address.name,
        "streetAddress": address.street_address,
        "zipCode": address.zip_code,
        "city": address.city,
        "countryCode": address.country_code,
    }
    if address.additional_name:
        out["additionalName"] = address.additional_name
    return out


def _map_viestit_error(response: httpx.Response, details: ErrorDetails) -> AutomationError | None:
    """Suomi.fi Messages' own cases, before the shared status table."""
    details = ErrorDetails(**{**details, "request_id": response.headers.get("traceId") or details["request_id"]})
    where = f"{response.request.method} {response.request.url.path}"
    status = response.status_code
    if status == 400:
        payload = _json_object(response)
        # A gateway or a changed service may send anything here: only a list of objects counts.
        listed = payload.get("validationErrors")
        items = [item for item in listed if isinstance(item, dict)] if isinstance(listed, list) else []
        codes = {item.get("errorCode") for item in items if isinstance(item.get("errorCode"), str)}
        if "MAILBOX_NOT_IN_USE" in codes:
            return MailboxNotInUseError(f"{SYSTEM}: {where}: the recipient has no active Suomi.fi mailbox", **details)
        if "MESSAGE_BEING_REPLIED_TO_NOT_FOUND" in codes:
            return RepliedMessageNotFoundError(f"{SYSTEM}: {where}: the message being replied to does not exist", **details)
        reason = payload.get("reason") if isinstance(payload.get("reason"), str) else "no reason given"
        problems = [item["error"] for item in items if isinstance(item.get("error"), str)]
        detail = f"{reason} ({'; '.join(problems)})" if problems and problems != [reason] else reason
        return ViestitRejectedError(f"{SYSTEM}: {where} answered 400: {detail}", **details)
    if status == 401:
        return ViestitAuthenticationError(f"{SYSTEM}: {where} answered 401 even with a fresh token", **details)
    if status == 413:
        return AttachmentTooLargeError(f"{SYSTEM}: {where} answered 413: over {ATTACHMENT_MAX_BYTES} bytes", **details)
    if status == 415:
        return UnsupportedAttachmentError(f"{SYSTEM}: {where} answered 415: unsupported media type", **details)
    return None


def _json_object(response: httpx.Response) -> dict[str, Any]:
    try:
        payload = json.loads(response.content)
    except ValueError:
        return {}
    return payload if isinstance(payload, dict) else {}
