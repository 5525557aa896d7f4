"""The library-card process in plain Python: the rules, Koha patron adoption, the guarantor, the decision.

``LibraryCardService`` takes its connector clients (Koha REST API v1, Suomi.fi Messages REST, e-mail)
in the constructor, so the keyword library (``robots/libraries/LibraryCardKeywords.py``) hands it the
configured ones and unit tests hand it clients pointed at the in-process sandboxes. Each step reads
its checkpoint first and skips what an earlier attempt did; each side effect is checkpointed the
moment it is done (``processes.library_card.checkpoints``).

Failures are ``connectors.errors`` classes: ``BusinessRuleError`` when the case goes to a person,
connector errors as they come. The messages name the work item, never the person.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import date
from typing import Any

from pydantic import Field, SecretStr, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

from connectors.email.client import EmailClient
from connectors.errors import BusinessRuleError
from connectors.koha import DuplicatePatronError, GuarantorLink, KohaClient, Library, Patron, PatronCategory, PatronCreate
from connectors.suomifi_viestit import ViestitClient
from processes.checkpoints import Checkpoints
from processes.library_card.checkpoints import GuarantorRegistered, PatronCreated, PatronLookup, RulesChecked
from processes.notify import LetterHeading, Notifier, Recipient
from processes.validation import problems
from schemas.hetu import Hetu, hetu_key
from schemas.library_card import (
    PROCESS,
    ApplicationDecision,
    DecisionFacts,
    Language,
    LibraryCardApplication,
    ReasonCode,
    VerifiedPerson,
    card_expiry,
    check_library_rules,
    choose_category,
    decided_on,
    decision_text,
    needs_guarantor,
)
from schemas.person_vault import PersonDetails, PersonVault, Relation, RelationKind

log = logging.getLogger(__name__)

#: The decision letter's file name as the recipient sees it.
FILE_NAME = {Language.FI: "Kirjastokorttipaatos", Language.SV: "Beslut-om-bibliotekskort", Language.EN: "Library-card-decision"}

#: How a decision letter names the case, by language.
CASE_NAME = {Language.FI: "Kirjastokorttihakemus", Language.SV: "Ansökan om bibliotekskort", Language.EN: "Library card application"}

#: Koha's notice languages for the e-service's languages.
KOHA_LANGUAGES = {Language.FI: "fi-FI", Language.SV: "sv-SE", Language.EN: "en"}
#: Why the person vault keeps a patron and a child's guarantor (the access log shows it); who stores them.
PATRON_PURPOSE = "kirjastokortin haltija: päätökset ja ilmoitukset kortista"
GUARANTOR_PURPOSE = "lapsen kirjastokortin takaaja (huoltaja): ilmoitukset lapsen kortista"
VAULT_ACTOR = f"robot:{PROCESS}"


class LibraryCardSettings(BaseSettings):
    """The library's own choices for this process (env prefix ``KUNTAFLOW_LIBRARY_CARD_``)."""

    model_config = SettingsConfigDict(env_prefix="KUNTAFLOW_LIBRARY_CARD_", extra="ignore")

    adult_category: str = Field(default="HENKILO", description="Koha patron category for 15 and over.")
    child_category: str = Field(default="LAPSI", description="Koha patron category for under-15s (needs a guarantor).")
    guardian_relationship: str = Field(default="huoltaja", description="Koha relationship_type of a child to its guarantor.")
    external_id_prefix: str = Field(default="kuntaflow-library-card", description="Suomi.fi Messages externalId prefix; the work item id follows.")


class LibraryCardCase:
    """One application on its way through the robot. Its repr names the work item only.

    ``checkpoints``: the work item's checkpoints; a plain mapping (as stored) is read-only.
    """

    def __init__(self, item_id: int, application: LibraryCardApplication, checkpoints: Checkpoints | Mapping[str, Mapping[str, Any]]) -> None:
        self.item_id = item_id
        self.application = application
        self.checkpoints = checkpoints if isinstance(checkpoints, Checkpoints) else Checkpoints(checkpoints)
        rules = self.checkpoints.get(RulesChecked)
        self.decided_on: date = rules.decided_on if rules else decided_on(application.submitted_at)
        self.reason: ReasonCode = rules.reason if rules else ReasonCode.CARD_GRANTED
        self.library_name: str = rules.library_name if rules else application.home_library
        self.decision = ApplicationDecision(reason=self.reason, library_id=application.home_library)
        self.existing_library_name: str | None = None

    def __repr__(self) -> str:
        return f"LibraryCardCase(work item {self.item_id}: {self.reason.value})"

    def set_reason(self, reason: ReasonCode) -> None:
        self.reason = reason
        self.decision.reason = reason

    def apply_created(self, created: PatronCreated) -> None:
        decision = self.decision
        decision.patron_id = created.patron_id
        decision.category_id = created.category_id
        decision.library_id = created.library_id
        decision.expiry_date = created.expiry_date
        decision.guarantor_patron_id = created.guarantor_patron_id


class LibraryCardService:
    """The steps of one application, over a Koha, a Messages and an e-mail client.

    ``vault``: the person vault a registered patron, an existing patron and a child's guarantor are kept
    in (by their hetu key, the key Koha holds), so processes that start from Koha can reach them; None
    keeps nobody (tests of other steps).
    """

    def __init__(
        self,
        koha: KohaClient,
        viestit: ViestitClient,
        email: EmailClient,
        *,
        salt: SecretStr,
        settings: LibraryCardSettings | None = None,
        vault: PersonVault | None = None,
    ) -> None:
        self.koha = koha
        self.vault = vault
        # A citizen may answer the decision; the answer reaches staff as a citizen_reply work item.
        self.notifier = Notifier(viestit, email, replies_allowed=True)
        self.salt = salt
        self.settings = settings or LibraryCardSettings()
        self._libraries: dict[str, Library] | None = None
        self._categories: list[PatronCategory] | None = None

    # ------------------------------------------------------------------ the steps

    def check_application(self, item_id: int, payload: Any, checkpoints: Checkpoints) -> LibraryCardCase:
        """Read the application and apply the library's rules (identity, age, guardian, address, home library).

        Raises:
            BusinessRuleError: the payload is not a valid application (fields and codes named, never values).
        """
        try:
            application = LibraryCardApplication.model_validate(payload)
        except ValidationError as error:
            raise BusinessRuleError(f"work item {item_id}: the application is not valid: {problems(error)}", code="INVALID_APPLICATION") from None
        case = LibraryCardCase(item_id, application, checkpoints)
        if RulesChecked.STEP in checkpoints:
            log.info("Rules were checked on %s (attempt before this): %s.", case.decided_on, case.reason.value)
            return case
        reason = check_library_rules(application, today=case.decided_on)
        library = self.library(application.home_library)
        if library is None:
            reason = ReasonCode.UNKNOWN_HOME_LIBRARY if reason is ReasonCode.CARD_GRANTED else reason
        else:
            case.library_name = library.name
        case.set_reason(reason)
        checkpoints.record(RulesChecked(reason=reason, decided_on=case.decided_on, library_name=case.library_name))
        log.info("Work item %s: the library rules say %s.", item_id, reason.value)
        return case

    def look_for_existing_patron(self, case: LibraryCardCase) -> None:
        """Find the applicant in Koha by the hetu key; an existing card decides the case.

        The answer is checkpointed before anything is created, so a patron found on a retry is
        known to be the one an interrupted attempt created.
        """
        hetu = case.application.applicant.hetu
        if hetu is None:
            log.info("No henkilötunnus (eIDAS user): nobody to look up.")
            return
        lookup = case.checkpoints.get(PatronLookup)
        if lookup is None:
            found = self.koha.find_patron_by_hetu_key(self.key(hetu))
            lookup = PatronLookup(existing_patron_id=found.patron_id if found else None, existing_library_id=found.library_id if found else None)
            if found is not None:
                self.remember(case, case.application.applicant, patron_id=found.patron_id, purpose=PATRON_PURPOSE)
            case.checkpoints.record(lookup)
        else:
            log.info("Looked up on an earlier attempt (checkpoint patron_lookup).")
        if lookup.existing_patron_id is None:
            log.info("Work item %s: no existing patron.", case.item_id)
            return
        case.set_reason(ReasonCode.ALREADY_A_PATRON)
        case.decision.existing_patron_id = lookup.existing_patron_id
        case.decision.existing_library_id = lookup.existing_library_id
        existing = self.library(lookup.existing_library_id)
        case.existing_library_name = existing.name if existing else lookup.existing_library_id
        log.info("Work item %s: already a patron (%s at %s).", case.item_id, lookup.existing_patron_id, lookup.existing_library_id)

    def create_patron(self, case: LibraryCardCase) -> None:
        """Register the applicant in Koha: category by age, the chosen library, the hetu key, and for a
        child the guardian as guarantor. Skipped when the rules said no, and once ``patron_created`` exists."""
        if not case.reason.registers_patron:
            log.info("No patron to create: %s.", case.reason.value)
            return
        done = case.checkpoints.get(PatronCreated)
        if done is not None:
            log.info("Patron %s was created on an earlier attempt (checkpoint patron_created); skipped.", done.patron_id)
            case.apply_created(done)
            return
        application = case.application
        applicant = application.applicant
        settings = self.settings
        category = choose_category(
            self.patron_categories(),
            age=applicant.age_on(case.decided_on),
            adult_category=settings.adult_category,
            child_category=settings.child_category,
        )
        guarantor = None
        if needs_guarantor(application, today=case.decided_on):
            guarantor = GuarantorLink(guarantor_id=self.guarantor_for(case), relationship=settings.guardian_relationship)
        new = patron_record(applicant, application, category_id=category.patron_category_id, item_id=case.item_id)
        assert applicant.hetu is not None  # rules: only hetu holders are registered
        patron = self.create_or_adopt(new, key=self.key(applicant.hetu), guarantor=guarantor, case=case)
        if patron is None:
            case.set_reason(ReasonCode.POSSIBLE_DUPLICATE_STAFF_REVIEW)
            return
        self.remember(case, applicant, patron_id=patron.patron_id, purpose=PATRON_PURPOSE, guardian=application.guardian if guarantor else None)
        created = PatronCreated(
            patron_id=patron.patron_id,
            category_id=patron.category_id,
            library_id=patron.library_id,
            expiry_date=patron.expiry_date or card_expiry(category, enrolled_on=patron.date_enrolled or case.decided_on),
            guarantor_patron_id=guarantor.guarantor_id if guarantor else None,
        )
        case.checkpoints.record(created)
        case.apply_created(created)
        log.info("Work item %s: patron %s created in %s at %s.", case.item_id, patron.patron_id, patron.category_id, patron.library_id)

    def send_decision(self, case: LibraryCardCase) -> None:
        """Send the citizen (the guardian, when a guardian applied) the decision, in their language
        (``processes.notify``: the channel is checkpointed before sending; ``decision_sent`` skips it on a retry)."""
        text = decision_text(case.reason, case.application.language, self.facts(case))
        external_id = f"{self.settings.external_id_prefix}-{case.item_id}-decision"
        application = case.application
        heading = LetterHeading(FILE_NAME[application.language], f"{CASE_NAME[application.language]} {case.item_id}", case.decided_on)
        sent = self.notifier.notify(recipient_of(application), text, external_id=external_id, checkpoints=case.checkpoints, step="decision", letter=heading)
        case.decision.channel, case.decision.message_id = sent.channel, sent.message_id
        log.info("Work item %s: decision %s sent by %s (message %s).", case.item_id, case.reason.value, sent.channel.value, sent.message_id)

    def outcome(self, case: LibraryCardCase) -> dict[str, Any]:
        """The decision as the item's output when the card was granted.

        Raises:
            BusinessRuleError: any other decision, with its reason code, for staff's manual-handling view.
        """
        output = case.decision.model_dump(mode="json", exclude_none=True)
        if case.reason is ReasonCode.CARD_GRANTED:
            return output
        facts = ", ".join(f"{k} {v}" for k, v in output.items() if k != "reason")
        raise BusinessRuleError(f"work item {case.item_id}: {SUMMARIES[case.reason]} ({facts})", code=case.reason.value)

    # ------------------------------------------------------------------ Koha

    def create_or_adopt(self, new: PatronCreate, *, key: str, guarantor: GuarantorLink | None, case: LibraryCardCase) -> Patron | None:
        """Create the patron; a patron already holding this hetu key after a lookup that found nobody
        is the one an interrupted attempt created, and is carried on with (adopted). Any other
        duplicate (card number, user id) is for staff: None."""
        try:
            return self.koha.create_patron(new, hetu_key=key, guarantor=guarantor)
        except DuplicatePatronError as duplicate:
            lookup = case.checkpoints.get(PatronLookup) or PatronLookup()
            ours = duplicate.conflict == self.koha.settings.hetu_key_attribute and lookup.existing_patron_id is None
            if ours and duplicate.existing_patron_id is not None:
                log.info("Patron %s already holds this hetu key: created by an interrupted attempt; carried on with.", duplicate.existing_patron_id)
                return self.koha.get_patron(duplicate.existing_patron_id)
            log.warning("Work item %s: Koha reports a duplicate (%s); staff review.", case.item_id, duplicate.conflict)
            return None

    def guarantor_for(self, case: LibraryCardCase) -> int:
        """The guardian's patron id: found by the guardian's hetu key, or registered now in the adult
        category (Koha needs a guarantor record; the guardian answers for the loans)."""
        done = case.checkpoints.get(GuarantorRegistered)
        if done is not None:
            return done.patron_id
        guardian = case.application.guardian
        assert guardian is not None and guardian.hetu is not None  # needs_guarantor and the model guarantee it
        key = self.key(guardian.hetu)
        found = self.koha.find_patron_by_hetu_key(key)
        created = found is None
        if found is None:
            new = patron_record(guardian, case.application, category_id=self.settings.adult_category, item_id=case.item_id, guarantor=True)
            try:
                found = self.koha.create_patron(new, hetu_key=key)
            except DuplicatePatronError as duplicate:
                if duplicate.existing_patron_id is None:
                    raise
                found = self.koha.get_patron(duplicate.existing_patron_id)
                created = False
        self.remember(case, guardian, patron_id=found.patron_id, purpose=GUARANTOR_PURPOSE)
        case.checkpoints.record(GuarantorRegistered(patron_id=found.patron_id, created=created))
        log.info("Guarantor: patron %s (%s).", found.patron_id, "registered now" if created else "already a patron")
        return found.patron_id

    def facts(self, case: LibraryCardCase) -> DecisionFacts:
        applicant = case.application.applicant
        return DecisionFacts(
            library_name=case.library_name,
            existing_library_name=case.existing_library_name,
            expiry_date=case.decision.expiry_date,
            child_first_name=applicant.first_names.split()[0] if case.application.guardian is not None else None,
        )

    def library(self, library_id: str | None) -> Library | None:
        """A Koha library by id; the list is read once per service (it changes rarely)."""
        if library_id is None:
            return None
        if self._libraries is None:
            self._libraries = {library.library_id: library for library in self.koha.list_libraries()}
        return self._libraries.get(library_id)

    def patron_categories(self) -> list[PatronCategory]:
        if self._categories is None:
            self._categories = self.koha.list_patron_categories()
        return self._categories

    def key(self, hetu: Hetu | str) -> str:
        """The salted key Koha holds instead of the hetu."""
        return hetu_key(hetu, self.salt)

    def remember(self, case: LibraryCardCase, person: VerifiedPerson, *, patron_id: int, purpose: str, guardian: VerifiedPerson | None = None) -> None:
        """Keep the patron in the person vault (this application and the patron record as the relationships),
        in the application's language, a child naming the guardian's key. Before the step's checkpoint,
        so a retried step stores again (idempotent) rather than never."""
        if self.vault is None or person.hetu is None:
            return
        guardian_key = self.key(guardian.hetu) if guardian and guardian.hetu else None
        details = PersonDetails(hetu=person.hetu, language=case.application.language, guardian_key=guardian_key)
        relations = [
            Relation(kind=RelationKind.WORK_ITEM, ref=str(case.item_id), process=PROCESS, purpose=purpose),
            Relation(kind=RelationKind.LIBRARY_PATRON, ref=str(patron_id), process=PROCESS, purpose=purpose),
        ]
        self.vault.store(details, relations=relations, actor=VAULT_ACTOR)


def recipient_of(application: LibraryCardApplication) -> Recipient:
    """Who hears the decision (the guardian, when a guardian applied) and how they can be reached."""
    person = application.recipient
    return Recipient(
        name=person.full_name,
        language=application.language,
        hetu=person.hetu,
        email=application.email,
        postal_address=person.permanent_address,
        preference=application.notification_preference,
    )


def patron_record(person: VerifiedPerson, application: LibraryCardApplication, *, category_id: str, item_id: int, guarantor: bool = False) -> PatronCreate:
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


#: One line per business outcome for the manual-handling view (English, no personal data).
SUMMARIES: dict[ReasonCode, str] = {
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
