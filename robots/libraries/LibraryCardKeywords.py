"""Keywords of the library-card robot (robots/library_card/tasks.robot): one per business step.

Each keyword takes the case, does one step through a connector (Koha REST API v1, Suomi.fi
Messages REST API, e-mail) and returns. The rules themselves live in ``schemas.library_card``.
Every side effect is checkpointed on the work item the moment it is done (``patron_lookup``,
``guarantor_registered``, ``patron_created``, ``decision_sent``) and skipped on a retry, and
the decision message carries a stable ``externalId`` so a crash between sending and the
checkpoint sends nothing twice.

Failures leave as the three names the work-item library sorts on: ``BusinessRuleError`` (the
case goes to a person), ``TransientError`` (retried with backoff) and ``IntegrationError``; the
message names the work item, never the person.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from datetime import date
from typing import Any, TypeVar

from pydantic import Field, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict
from robot.api import logger
from robot.api.deco import keyword, library
from robot.libraries.BuiltIn import BuiltIn

from connectors.email.client import EmailClient
from connectors.email.errors import MessageRejectedError, RecipientRefusedError
from connectors.email.models import OutgoingEmail
from connectors.email.settings import EmailSettings
from connectors.errors import AutomationError, BusinessRuleError, IntegrationError, TransientError
from connectors.koha import (
    DuplicatePatronError,
    GuarantorLink,
    KohaClient,
    KohaSettings,
    Library,
    Patron,
    PatronCategory,
    PatronCreate,
)
from connectors.letters import Letter, PostalAddress, render_letter
from connectors.suomifi_viestit import (
    ElectronicMessage,
    MailboxNotInUseError,
    NewElectronicMessage,
    NewMultichannelMessage,
    PaperMail,
    ViestitClient,
    ViestitSettings,
)
from kuntaflow.settings import KuntaflowSettings
from schemas.hetu import hetu_key
from schemas.library_card import (
    ApplicationDecision,
    CategoryConfigurationError,
    Channel,
    DecisionFacts,
    DecisionText,
    Language,
    LibraryCardApplication,
    ReasonCode,
    VerifiedPerson,
    card_expiry,
    check_library_rules,
    choose_category,
    choose_channel,
    decided_on,
    decision_text,
    needs_guarantor,
)

F = TypeVar("F", bound=Callable[..., Any])

#: Koha's notice languages for the e-service's languages.
KOHA_LANGUAGES = {Language.FI: "fi-FI", Language.SV: "sv-SE", Language.EN: "en"}


class LibraryCardSettings(BaseSettings):
    """The library's own choices for this process (env prefix ``KUNTAFLOW_LIBRARY_CARD_``)."""

    model_config = SettingsConfigDict(env_prefix="KUNTAFLOW_LIBRARY_CARD_", extra="ignore")

    adult_category: str = Field(default="HENKILO", description="Koha patron category for 15 and over.")
    child_category: str = Field(default="LAPSI", description="Koha patron category for under-15s (needs a guarantor).")
    guardian_relationship: str = Field(default="huoltaja", description="Koha relationship_type of a child to its guarantor.")
    external_id_prefix: str = Field(default="kuntaflow-library-card", description="Suomi.fi Messages externalId prefix; the work item id follows.")


class LibraryCardCase:
    """One application on its way through the robot. Its repr names the work item only."""

    def __init__(self, item_id: int, application: LibraryCardApplication, checkpoints: dict[str, dict[str, Any]]) -> None:
        self.item_id = item_id
        self.application = application
        self.checkpoints = checkpoints
        rules = checkpoints.get("rules_checked", {})
        self.decided_on: date = date.fromisoformat(rules["decided_on"]) if "decided_on" in rules else decided_on(application.submitted_at)
        self.reason: ReasonCode = ReasonCode(rules["reason"]) if "reason" in rules else ReasonCode.CARD_GRANTED
        self.library_name: str = rules.get("library_name", application.home_library)
        self.decision = ApplicationDecision(reason=self.reason, library_id=application.home_library)
        self.existing_library_name: str | None = None

    def __repr__(self) -> str:
        return f"LibraryCardCase(work item {self.item_id}: {self.reason.value})"

    def set_reason(self, reason: ReasonCode) -> None:
        self.reason = reason
        self.decision.reason = reason


def _re_raise_for_robot(method: F) -> F:
    """Re-raise connector errors as the hierarchy's three names, with the work item in the message."""

    @functools.wraps(method)
    def wrapper(self: LibraryCardKeywords, *args: Any, **kwargs: Any) -> Any:
        try:
            return method(self, *args, **kwargs)
        except AutomationError as error:
            if type(error) in (TransientError, BusinessRuleError, IntegrationError) and error.message.startswith("work item "):
                raise  # raised here, already named for the robot and the case
            # A connector's error, even one of the three base classes (e.g. ApiClient's INVALID_JSON): name the case.
            raise _for_robot(error, self._work_item_id()) from error
        except CategoryConfigurationError as error:
            raise IntegrationError(f"work item {self._work_item_id()}: {error}", code="CATEGORY_CONFIGURATION") from error
        except ValidationError as error:
            # A model we build for a connector refused our data: our bug, not the citizen's.
            raise IntegrationError(f"work item {self._work_item_id()}: {error.title} refused the data: {_problems(error)}", code="UNEXPECTED_DATA") from None

    return wrapper  # type: ignore[return-value]


def _problems(error: ValidationError) -> str:
    """Field paths and error codes, never the values (they are personal data)."""
    return ", ".join(f"{'.'.join(map(str, e['loc'])) or '(whole)'} ({e['type']})" for e in error.errors(include_input=False))


def _for_robot(error: AutomationError, item_id: int | None) -> AutomationError:
    kind: type[AutomationError]
    if isinstance(error, TransientError):
        kind = TransientError
    elif isinstance(error, BusinessRuleError):
        kind = BusinessRuleError
    else:
        kind = IntegrationError
    where = f"work item {item_id}: " if item_id is not None else ""
    extra = {"retry_after": error.retry_after} if isinstance(error, TransientError) else {}
    return kind(
        f"{where}{error.message}",
        code=error.code,
        status_code=error.status_code,
        request_id=error.request_id,
        business_ids={**error.business_ids, "work_item_id": item_id},
        body=error.body,
        **extra,
    )


@library(scope="GLOBAL", auto_keywords=False)
class LibraryCardKeywords:
    """Steps of the library-card process. One Koha and one Messages client per robot run."""

    def __init__(self) -> None:
        self.settings = LibraryCardSettings()
        self._engine = KuntaflowSettings()
        self._koha: KohaClient | None = None
        self._viestit: ViestitClient | None = None
        self._email: EmailClient | None = None
        self._libraries: dict[str, Library] | None = None
        self._categories: list[PatronCategory] | None = None

    # ------------------------------------------------------------------ the steps

    @keyword("Check Application Against Library Rules")
    @_re_raise_for_robot
    def check_application_against_library_rules(self) -> LibraryCardCase:
        """Read the current work item's application and apply the library's rules (identity, age,
        guardian, address, home library).

        The payload is read here rather than passed in, so the citizen's details never appear
        in the robot log. The day of the decision and the verdict are kept on the work item, so
        a retry tomorrow decides as today did.
        """
        item_id = self._work_item_id()
        payload = self._work_items().get_work_item_payload()
        try:
            application = LibraryCardApplication.model_validate(payload)
        except ValidationError as error:
            raise BusinessRuleError(f"work item {item_id}: the application is not valid: {_problems(error)}", code="INVALID_APPLICATION") from None
        case = LibraryCardCase(item_id, application, self._checkpoints())
        if "rules_checked" in case.checkpoints:
            logger.info(f"Rules were checked on {case.decided_on} (attempt before this): {case.reason.value}.")
            return case
        reason = check_library_rules(application, today=case.decided_on)
        library = self._library(application.home_library)
        if library is None:
            reason = ReasonCode.UNKNOWN_HOME_LIBRARY if reason is ReasonCode.CARD_GRANTED else reason
        else:
            case.library_name = library.name
        case.set_reason(reason)
        self._save_checkpoint("rules_checked", {"reason": reason.value, "decided_on": case.decided_on.isoformat(), "library_name": case.library_name})
        logger.info(f"Work item {item_id}: the library rules say {reason.value}.")
        return case

    @keyword("Look For Existing Patron")
    @_re_raise_for_robot
    def look_for_existing_patron(self, case: LibraryCardCase) -> None:
        """Find the applicant in Koha by the hetu key; an existing card decides the case.

        The answer is checkpointed before anything is created, so a patron found on a retry
        is known to be the one an interrupted attempt created.
        """
        hetu = case.application.applicant.hetu
        if hetu is None:
            logger.info("No henkilötunnus (eIDAS user): nobody to look up.")
            return
        lookup = case.checkpoints.get("patron_lookup")
        if lookup is None:
            found = self._koha_client().find_patron_by_hetu_key(self._key(hetu))
            lookup = {"existing_patron_id": found.patron_id if found else None, "existing_library_id": found.library_id if found else None}
            self._save_checkpoint("patron_lookup", lookup, case)
        else:
            logger.info("Looked up on an earlier attempt (checkpoint patron_lookup).")
        if lookup["existing_patron_id"] is None:
            logger.info(f"Work item {case.item_id}: no existing patron.")
            return
        case.set_reason(ReasonCode.ALREADY_A_PATRON)
        case.decision.existing_patron_id = lookup["existing_patron_id"]
        case.decision.existing_library_id = lookup["existing_library_id"]
        existing = self._library(lookup["existing_library_id"])
        case.existing_library_name = existing.name if existing else lookup["existing_library_id"]
        logger.info(f"Work item {case.item_id}: already a patron ({lookup['existing_patron_id']} at {lookup['existing_library_id']}).")

    @keyword("Create Patron For Applicant")
    @_re_raise_for_robot
    def create_patron_for_applicant(self, case: LibraryCardCase) -> None:
        """Register the applicant in Koha: category by age, the chosen library, the hetu key, and
        for a child the guardian as guarantor. Skipped when the rules said no, and on a retry
        once the ``patron_created`` checkpoint exists."""
        if not case.reason.registers_patron:
            logger.info(f"No patron to create: {case.reason.value}.")
            return
        done = case.checkpoints.get("patron_created")
        if done is not None:
            logger.info(f"Patron {done['patron_id']} was created on an earlier attempt (checkpoint patron_created); skipped.")
            self._apply_created(case, done)
            return
        application = case.application
        applicant = application.applicant
        age = applicant.age_on(case.decided_on)
        category = choose_category(self._patron_categories(), age=age, adult_category=self.settings.adult_category, child_category=self.settings.child_category)
        guarantor = None
        if needs_guarantor(application, today=case.decided_on):
            guarantor = GuarantorLink(guarantor_id=self._guarantor_for(case), relationship=self.settings.guardian_relationship)
        new = self._patron_create(applicant, application, category_id=category.patron_category_id, item_id=case.item_id)
        assert applicant.hetu is not None  # rules: only hetu holders are registered
        patron = self._create_or_adopt(new, key=self._key(applicant.hetu), guarantor=guarantor, case=case)
        if patron is None:
            case.set_reason(ReasonCode.POSSIBLE_DUPLICATE_STAFF_REVIEW)
            return
        expiry = patron.expiry_date or card_expiry(category, enrolled_on=patron.date_enrolled or case.decided_on)
        created = {
            "patron_id": patron.patron_id,
            "category_id": patron.category_id,
            "library_id": patron.library_id,
            "expiry_date": expiry.isoformat(),
            "guarantor_patron_id": guarantor.guarantor_id if guarantor else None,
        }
        self._save_checkpoint("patron_created", created, case)
        self._apply_created(case, created)
        logger.info(f"Work item {case.item_id}: patron {patron.patron_id} created in {patron.category_id} at {patron.library_id}.")

    @keyword("Send Decision To Citizen")
    @_re_raise_for_robot
    def send_decision_to_citizen(self, case: LibraryCardCase) -> None:
        """Tell the citizen (the guardian, when a guardian applied) the decision, in their language:
        to an active Suomi.fi mailbox, else by e-mail, else as a paper letter. Skipped on a retry
        once ``decision_sent`` exists; the message's externalId makes a resend after a crash a no-op."""
        done = case.checkpoints.get("decision_sent")
        if done is not None:
            logger.info(f"The decision went out on an earlier attempt by {done['channel']} (checkpoint decision_sent); skipped.")
            case.decision.channel, case.decision.message_id = Channel(done["channel"]), done.get("message_id")
            return
        application = case.application
        recipient = application.recipient
        text = decision_text(case.reason, application.language, self._facts(case))
        external_id = f"{self.settings.external_id_prefix}-{case.item_id}-decision"
        # Messages reaches people by henkilötunnus only: no mailbox and no letter without one.
        postal_address = recipient.permanent_address if recipient.hetu is not None else None
        mailbox = recipient.hetu is not None and self._viestit_client().has_active_mailbox(recipient.hetu)
        channel = choose_channel(
            mailbox_active=mailbox,
            preference=application.notification_preference,
            email=application.email,
            postal_address=postal_address,
        )
        message_id: str | None = None
        if channel is Channel.SUOMI_FI:
            message_id = self._send_electronic(external_id, recipient, text)
            if message_id is None:  # the mailbox closed since the check
                channel = choose_channel(
                    mailbox_active=False, preference=application.notification_preference, email=application.email, postal_address=postal_address
                )
        if channel is Channel.EMAIL:
            assert application.email is not None  # choose_channel picks e-mail only with an address
            message_id = self._send_email(external_id, application.email, text)
            if message_id is None:  # the mail server refused the address
                channel = Channel.LETTER if postal_address is not None else Channel.NONE
        if channel is Channel.LETTER:
            message_id = self._send_letter(external_id, recipient, text, self._letter(case, recipient, text))
        if channel is Channel.NONE:
            logger.warn(f"Work item {case.item_id}: no mailbox, e-mail or address to send the decision to.")
        sent = {"channel": channel.value, "message_id": message_id, "external_id": external_id}
        self._save_checkpoint("decision_sent", sent, case)
        case.decision.channel, case.decision.message_id = channel, message_id
        logger.info(f"Work item {case.item_id}: decision {case.reason.value} sent by {channel.value} (message {message_id}).")

    @keyword("Close Application")
    @_re_raise_for_robot
    def close_application(self, case: LibraryCardCase) -> dict[str, Any]:
        """DONE with the decision as output when the card was granted; otherwise a business
        failure with the reason code, for staff to see in the manual-handling view."""
        output = case.decision.model_dump(mode="json", exclude_none=True)
        if case.reason is ReasonCode.CARD_GRANTED:
            self._work_items().complete_work_item(output)
            return output
        facts = ", ".join(f"{k} {v}" for k, v in output.items() if k != "reason")
        raise BusinessRuleError(f"work item {case.item_id}: {_SUMMARIES[case.reason]} ({facts})", code=case.reason.value)

    # ------------------------------------------------------------------ decision helpers

    def _send_electronic(self, external_id: str, recipient: VerifiedPerson, text: DecisionText) -> str | None:
        """Send to the Suomi.fi mailbox; None when the service says the mailbox is not in use."""
        assert recipient.hetu is not None
        try:
            result = self._viestit_client().send_electronic(
                NewElectronicMessage(external_id=external_id, recipient=recipient.hetu, electronic=_electronic(text))
            )
        except MailboxNotInUseError:
            logger.warn("Suomi.fi Messages: the mailbox is no longer in use; falling back.")
            return None
        if result.already_sent:
            logger.info(f"Suomi.fi Messages had {external_id} already (message {result.message_id}): not sent twice.")
        return str(result.message_id)

    def _send_letter(self, external_id: str, recipient: VerifiedPerson, text: DecisionText, letter: Letter) -> str:
        """Upload the letter PDF and send it through Messages' printing service (multichannel: a
        mailbox opened in the meantime gets the electronic part instead)."""
        assert recipient.hetu is not None
        client = self._viestit_client()
        attachment = client.upload_attachment(f"{_FILE_NAME[text.language]}.pdf", render_letter(letter), "application/pdf")
        result = client.send_multichannel(
            NewMultichannelMessage(
                external_id=external_id,
                recipient=recipient.hetu,
                electronic=_electronic(text),
                paper_mail=PaperMail(attachment=attachment, recipient_address=letter.recipient, sender_address=letter.sender),
            )
        )
        return str(result.message_id)

    def _send_email(self, external_id: str, address: str, text: DecisionText) -> str | None:
        """Send by e-mail; None when the mail server refuses the address (the caller falls back)."""
        email = OutgoingEmail(to=[address], subject=text.title, text=text.body, idempotency_key=external_id)
        try:
            return self._email_client().send(email).message_id
        except (RecipientRefusedError, MessageRejectedError) as refused:
            logger.warn(f"The mail server refused the decision e-mail ({refused.code}); falling back.")
            return None

    def _facts(self, case: LibraryCardCase) -> DecisionFacts:
        applicant = case.application.applicant
        return DecisionFacts(
            library_name=case.library_name,
            existing_library_name=case.existing_library_name,
            expiry_date=case.decision.expiry_date,
            child_first_name=applicant.first_names.split()[0] if case.application.guardian is not None else None,
        )

    def _letter(self, case: LibraryCardCase, recipient: VerifiedPerson, text: DecisionText) -> Letter:
        address = recipient.permanent_address
        assert address is not None  # choose_channel picks a letter only with an address
        sender = self._viestit_client().settings.sender_address
        return Letter(
            sender=sender,
            recipient=PostalAddress(name=recipient.full_name, street_address=address.street_address, zip_code=address.postal_code, city=address.post_office),
            dated=case.decided_on,
            title=text.title,
            paragraphs=text.paragraphs,
            reference=f"{_CASE_NAME[text.language]} {case.item_id}",
            signature=sender.name,
        )

    # ------------------------------------------------------------------ Koha helpers

    def _create_or_adopt(self, new: PatronCreate, *, key: str, guarantor: GuarantorLink | None, case: LibraryCardCase) -> Patron | None:
        """Create the patron; a patron already holding this hetu key after a lookup that found
        nobody is the one an interrupted attempt created, and is carried on with. Any other
        duplicate (card number, user id) is for staff: None."""
        koha = self._koha_client()
        try:
            return koha.create_patron(new, hetu_key=key, guarantor=guarantor)
        except DuplicatePatronError as duplicate:
            lookup = case.checkpoints.get("patron_lookup") or {}
            ours = duplicate.conflict == koha.settings.hetu_key_attribute and lookup.get("existing_patron_id") is None
            if ours and duplicate.existing_patron_id is not None:
                logger.info(f"Patron {duplicate.existing_patron_id} already holds this hetu key: created by an interrupted attempt; carried on with.")
                return koha.get_patron(duplicate.existing_patron_id)
            logger.warn(f"Work item {case.item_id}: Koha reports a duplicate ({duplicate.conflict}); staff review.")
            return None

    def _guarantor_for(self, case: LibraryCardCase) -> int:
        """The guardian's patron id: found by the guardian's hetu key, or registered now in the
        adult category (Koha needs a guarantor record; the guardian answers for the loans)."""
        done = case.checkpoints.get("guarantor_registered")
        if done is not None:
            return int(done["patron_id"])
        guardian = case.application.guardian
        assert guardian is not None and guardian.hetu is not None  # needs_guarantor and the model guarantee it
        key = self._key(guardian.hetu)
        koha = self._koha_client()
        found = koha.find_patron_by_hetu_key(key)
        created = found is None
        if found is None:
            new = self._patron_create(guardian, case.application, category_id=self.settings.adult_category, item_id=case.item_id, guarantor=True)
            try:
                found = koha.create_patron(new, hetu_key=key)
            except DuplicatePatronError as duplicate:
                if duplicate.existing_patron_id is None:
                    raise
                found = koha.get_patron(duplicate.existing_patron_id)
                created = False
        self._save_checkpoint("guarantor_registered", {"patron_id": found.patron_id, "created": created}, case)
        logger.info(f"Guarantor: patron {found.patron_id} ({'registered now' if created else 'already a patron'}).")
        return found.patron_id

    def _patron_create(
        self, person: VerifiedPerson, application: LibraryCardApplication, *, category_id: str, item_id: int, guarantor: bool = False
    ) -> PatronCreate:
        """The Koha record: names, birth date, library, contact, address (none under non-disclosure), never the hetu."""
        address = person.permanent_address
        notes = None
        if person.non_disclosure:
            notes = f"Turvakielto: osoitetta ei tallenneta. Kuntaflow, kirjastokorttihakemus (työ {item_id})."
        elif guarantor:
            notes = f"Huoltaja, rekisteröity lapsen kirjastokorttihakemuksesta (Kuntaflow, työ {item_id})."
        return PatronCreate(
            surname=person.surname,
            firstname=person.first_names,
            date_of_birth=person.birth_date,
            library_id=application.home_library,
            category_id=category_id,
            email=application.email,
            phone=application.phone,
            address=address.street_address if address else None,
            postal_code=address.postal_code if address else None,
            city=address.post_office if address else None,
            country="Suomi" if address else None,
            lang=KOHA_LANGUAGES[application.language],
            staff_notes=notes,
        )

    def _apply_created(self, case: LibraryCardCase, created: dict[str, Any]) -> None:
        decision = case.decision
        decision.patron_id = created["patron_id"]
        decision.category_id = created["category_id"]
        decision.library_id = created["library_id"]
        decision.expiry_date = date.fromisoformat(created["expiry_date"])
        decision.guarantor_patron_id = created.get("guarantor_patron_id")

    def _library(self, library_id: str | None) -> Library | None:
        if library_id is None:
            return None
        if self._libraries is None:
            self._libraries = {library.library_id: library for library in self._koha_client().list_libraries()}
        return self._libraries.get(library_id)

    def _patron_categories(self) -> list[PatronCategory]:
        if self._categories is None:
            self._categories = self._koha_client().list_patron_categories()
        return self._categories

    def _viestit_client(self) -> ViestitClient:
        if self._viestit is None:
            self._viestit = ViestitClient(ViestitSettings())
        return self._viestit

    def _email_client(self) -> EmailClient:
        if self._email is None:
            self._email = EmailClient(EmailSettings())
        return self._email

    def _koha_client(self) -> KohaClient:
        if self._koha is None:
            self._koha = KohaClient(KohaSettings())
        return self._koha

    def _key(self, hetu: Any) -> str:
        return hetu_key(hetu, self._engine.salt())

    # ------------------------------------------------------------------ work item helpers

    def _work_items(self) -> Any:
        return BuiltIn().get_library_instance("WorkItems")

    def _work_item_id(self) -> int | None:
        try:
            return self._work_items().get_work_item_id()
        except (RuntimeError, AttributeError):
            return None

    def _checkpoints(self) -> dict[str, dict[str, Any]]:
        return self._work_items().get_work_item_checkpoints()

    def _save_checkpoint(self, step: str, data: dict[str, Any], case: LibraryCardCase | None = None) -> None:
        self._work_items().save_work_item_checkpoint(step, data)
        if case is not None:
            case.checkpoints[step] = data
        logger.info(f"Checkpoint {step} saved.")


def _electronic(text: DecisionText) -> ElectronicMessage:
    return ElectronicMessage(title=text.title, body=text.body)


#: The letter's file name as the recipient sees it.
_FILE_NAME = {Language.FI: "Kirjastokorttipaatos", Language.SV: "Beslut-om-bibliotekskort", Language.EN: "Library-card-decision"}

#: How a letter names the case, by language.
_CASE_NAME = {Language.FI: "Kirjastokorttihakemus", Language.SV: "Ansökan om bibliotekskort", Language.EN: "Library card application"}

#: One line per business outcome for the manual-handling view (English, no personal data).
_SUMMARIES: dict[ReasonCode, str] = {
    ReasonCode.NON_DISCLOSURE_STAFF_REVIEW: "registered without an address (non-disclosure marking); staff to complete the record",
    ReasonCode.ALREADY_A_PATRON: "the applicant already has a library card",
    ReasonCode.UNDER_15_NO_GUARDIAN: "under 15 and applied without a guardian; told to apply through the guardian",
    ReasonCode.GUARDIAN_NOT_ADULT: "the guardian who applied is under 18",
    ReasonCode.GUARDIANSHIP_NOT_VERIFIED: "the guardianship was not verified electronically; staff to check it",
    ReasonCode.NO_PERMANENT_ADDRESS_IN_FINLAND: "no permanent address in Finland",
    ReasonCode.NO_FINNISH_HETU_STAFF_REVIEW: "an eIDAS user without a Finnish henkilötunnus; staff to register in person",
    ReasonCode.UNKNOWN_HOME_LIBRARY: "the chosen home library is not in the library system; staff to choose one",
    ReasonCode.POSSIBLE_DUPLICATE_STAFF_REVIEW: "Koha reports a possible duplicate patron; staff to check",
}
