"""In-memory state of the Koha sandbox: patrons, extended attributes, passwords, API keys, tokens.

Rules modelled on Koha (shared/reference/domain.md §1): unique card number and user id (409
``Duplicate ID``), foreign keys to libraries and categories (400 ``Given … does not exist``),
extended-attribute types that may be unique, repeatable or mandatory, ``ChildNeedsGuarantor``
(a child-category patron without a guarantor fails in ``store``: a 500, as the REST controller has
no catch for it), ``autoMemberNum`` card numbers, generated user ids, expiry from the category's
enrolment period. Every method is thread-safe; a test inspects the state directly.
"""

from __future__ import annotations

import calendar
import hashlib
import secrets
import threading
import time
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

HELSINKI = ZoneInfo("Europe/Helsinki")

#: Every field of definitions/patron.yaml that Koha fills from the database (embeds excluded).
PATRON_FIELDS: tuple[str, ...] = (
    "patron_id", "cardnumber", "surname", "firstname", "preferred_name", "middle_name", "title", "other_name",
    "initials", "pronouns", "street_number", "street_type", "address", "address2", "city", "state", "postal_code",
    "country", "email", "phone", "mobile", "fax", "secondary_email", "secondary_phone", "altaddress_street_number",
    "altaddress_street_type", "altaddress_address", "altaddress_address2", "altaddress_city", "altaddress_state",
    "altaddress_postal_code", "altaddress_country", "altaddress_email", "altaddress_phone", "date_of_birth",
    "library_id", "category_id", "date_enrolled", "expiry_date", "date_renewed", "incorrect_address",
    "patron_card_lost", "expired", "restricted", "staff_notes", "relationship_type", "gender", "userid",
    "opac_notes", "altaddress_notes", "statistics_1", "statistics_2", "autorenew_checkouts", "altcontact_firstname",
    "altcontact_surname", "altcontact_address", "altcontact_address2", "altcontact_city", "altcontact_state",
    "altcontact_postal_code", "altcontact_country", "altcontact_phone", "sms_number", "sms_provider_id", "privacy",
    "privacy_guarantor_checkouts", "privacy_guarantor_fines", "check_previous_checkout", "updated_on", "last_seen",
    "lang", "login_attempts", "overdrive_auth_token", "anonymized", "protected",
)  # fmt: skip

READ_ONLY = frozenset({"patron_id", "expired", "restricted", "anonymized", "updated_on"})
DEFAULTS: dict[str, Any] = {
    "autorenew_checkouts": True,
    "privacy": 1,
    "privacy_guarantor_checkouts": False,
    "privacy_guarantor_fines": False,
    "check_previous_checkout": "inherit",
    "lang": "default",
    "login_attempts": 0,
    "incorrect_address": False,
    "patron_card_lost": False,
    "protected": False,
}


class AttributeTable(dict[int, dict[str, Any]]):
    """Extended attributes by id, with the lookups Koha's database has indexes for: a patron's
    attributes, and the attributes holding a value (text matches case-insensitively, as in the
    query language). Without them every search and every new patron scanned all attributes, and a
    run of thousands of applications slowed down with each patron it created.

    Only ``[]=``, ``del`` and :meth:`set_value` change it (the store's methods, under its lock).
    """

    def __init__(self) -> None:
        super().__init__()
        self._by_patron: dict[int, dict[int, dict[str, Any]]] = {}
        self._by_value: dict[str, dict[int, dict[str, Any]]] = {}

    def __setitem__(self, attribute_id: int, record: dict[str, Any]) -> None:
        if attribute_id in self:
            self._unindex(attribute_id)
        super().__setitem__(attribute_id, record)
        self._by_patron.setdefault(record["patron_id"], {})[attribute_id] = record
        self._by_value.setdefault(_text_key(record["value"]), {})[attribute_id] = record

    def __delitem__(self, attribute_id: int) -> None:
        self._unindex(attribute_id)
        super().__delitem__(attribute_id)

    def set_value(self, attribute_id: int, value: str) -> None:
        record = self[attribute_id]
        self._unindex(attribute_id)
        record["value"] = value
        self[attribute_id] = record

    def of_patron(self, patron_id: int) -> list[dict[str, Any]]:
        return list(self._by_patron.get(patron_id, {}).values())

    def with_value(self, value: Any, kind: str | None = None) -> list[dict[str, Any]]:
        """The attributes whose value equals ``value`` as text, case-insensitively (of type ``kind`` if given)."""
        found = self._by_value.get(_text_key(value), {}).values()
        return [a for a in found if kind is None or a["type"] == kind]

    def _unindex(self, attribute_id: int) -> None:
        record = dict.__getitem__(self, attribute_id)
        for index, key in ((self._by_patron, record["patron_id"]), (self._by_value, _text_key(record["value"]))):
            rows = index.get(key, {})
            rows.pop(attribute_id, None)
            if not rows:
                index.pop(key, None)


class PatronTable(dict[int, dict[str, Any]]):
    """Patrons by id, with Koha's unique keys indexed (card number, user id) and the highest
    numeric card number kept, so adding a patron does not scan every patron.

    The store sets ``table[patron_id] = record`` again after changing a record in place.
    """

    def __init__(self) -> None:
        super().__init__()
        self._keys: dict[int, tuple[Any, Any]] = {}
        self._by_cardnumber: dict[Any, set[int]] = {}
        self._by_userid: dict[Any, set[int]] = {}
        self._highest: int | None = None  # the highest numeric card number; recomputed after it goes
        self._highest_stale = False

    def __setitem__(self, patron_id: int, record: dict[str, Any]) -> None:
        self._unindex(patron_id)
        super().__setitem__(patron_id, record)
        keys = (record.get("cardnumber"), record.get("userid"))
        self._keys[patron_id] = keys
        if (number := _numeric(keys[0])) is not None and not self._highest_stale:
            self._highest = number if self._highest is None else max(self._highest, number)
        for index, key in zip((self._by_cardnumber, self._by_userid), keys, strict=True):
            if key is not None:
                index.setdefault(key, set()).add(patron_id)

    def __delitem__(self, patron_id: int) -> None:
        self._unindex(patron_id)
        super().__delitem__(patron_id)

    def holders(self, unique: str, value: Any) -> set[int]:
        """Ids of the patrons whose ``cardnumber`` or ``userid`` is ``value``."""
        index = self._by_cardnumber if unique == "cardnumber" else self._by_userid
        return set(index.get(value, ()))

    def highest_cardnumber(self) -> int | None:
        if self._highest_stale:
            numbers = [number for key in self._by_cardnumber if (number := _numeric(key)) is not None]
            self._highest, self._highest_stale = max(numbers, default=None), False
        return self._highest

    def _unindex(self, patron_id: int) -> None:
        keys = self._keys.pop(patron_id, None)
        if keys is None:
            return
        if self._highest is not None and _numeric(keys[0]) == self._highest:
            self._highest_stale = True
        for index, key in zip((self._by_cardnumber, self._by_userid), keys, strict=True):
            holders = index.get(key)
            if holders is not None:
                holders.discard(patron_id)
                if not holders:
                    del index[key]


def _text_key(value: Any) -> str:
    return str(value).casefold()


def _numeric(cardnumber: Any) -> int | None:
    return int(cardnumber) if isinstance(cardnumber, str) and cardnumber.isdigit() else None


class KohaApiError(Exception):
    """A Koha error response: status and JSON body."""

    def __init__(self, status: int, body: dict[str, Any]) -> None:
        super().__init__(body.get("error", ""))
        self.status = status
        self.body = body


def not_found(what: str = "Patron") -> KohaApiError:
    return KohaApiError(404, {"error": f"{what} not found"})


@dataclass
class AttributeType:
    code: str
    description: str
    unique: bool = False
    repeatable: bool = False
    mandatory: bool = False


@dataclass
class ApiKey:
    """An API key (OAuth2 client) or a staff login (basic auth) with its permissions.

    Permissions are Koha flags (``borrowers``) or ``flag:subpermission`` pairs; a flag grants its
    subpermissions.
    """

    secret: str
    permissions: frozenset[str]

    def allows(self, needed: tuple[str, ...]) -> bool:
        return any(p in self.permissions or p.split(":", 1)[0] in self.permissions for p in needed)


@dataclass
class KohaStore:
    libraries: dict[str, dict[str, Any]] = field(default_factory=dict)
    categories: dict[str, dict[str, Any]] = field(default_factory=dict)
    attribute_types: dict[str, AttributeType] = field(default_factory=dict)
    patrons: PatronTable = field(default_factory=PatronTable)
    attributes: AttributeTable = field(default_factory=AttributeTable)  # id -> {id, patron_id, type, value}
    passwords: dict[int, str] = field(default_factory=dict)  # patron_id -> salted sha256 (a sandbox, not a vault)
    api_keys: dict[str, ApiKey] = field(default_factory=dict)  # OAuth2 client_id -> key
    staff_logins: dict[str, ApiKey] = field(default_factory=dict)  # basic-auth userid -> key
    tokens: dict[str, tuple[str, float]] = field(default_factory=dict)  # token -> (client_id, expires at)
    token_lifetime: int = 3600
    child_needs_guarantor: bool = True
    auto_member_num: bool = True
    guarantor_attribute: str = "TAKAAJA"
    clock: Callable[[], float] = time.monotonic
    today: Callable[[], date] = field(default=lambda: datetime.now(HELSINKI).date())
    lock: threading.RLock = field(default_factory=threading.RLock)
    _next_patron_id: int = 1
    _next_attribute_id: int = 1

    # ------------------------------------------------------------------ auth

    def issue_token(self, client_id: str | None, client_secret: str | None) -> dict[str, Any]:
        with self.lock:
            key = self.api_keys.get(client_id or "")
            if key is None or not secrets.compare_digest(key.secret, client_secret or ""):
                raise KohaApiError(403, {"error": "unauthorized_client"})
            token = secrets.token_urlsafe(24)
            self.tokens[token] = (client_id or "", self.clock() + self.token_lifetime)
            return {"access_token": token, "token_type": "Bearer", "expires_in": self.token_lifetime}

    def key_for_token(self, token: str) -> ApiKey | None:
        with self.lock:
            entry = self.tokens.get(token)
            if entry is None or self.clock() >= entry[1]:
                return None
            return self.api_keys.get(entry[0])

    def key_for_login(self, userid: str, password: str) -> ApiKey | None:
        key = self.staff_logins.get(userid)
        return key if key is not None and secrets.compare_digest(key.secret, password) else None

    def revoke_tokens(self) -> None:
        """Every issued token stops working (as after a key rotation or expiry)."""
        with self.lock:
            self.tokens.clear()

    # ------------------------------------------------------------------ patrons

    def patron(self, patron_id: int) -> dict[str, Any]:
        with self.lock:
            record = self.patrons.get(patron_id)
            if record is None:
                raise not_found()
            return dict(record)

    def patron_attributes(self, patron_id: int) -> list[dict[str, Any]]:
        with self.lock:
            return [self._attribute_api(a) for a in self.attributes.of_patron(patron_id)]

    def add_patron(self, body: dict[str, Any]) -> dict[str, Any]:
        """POST /patrons: the body is already schema-valid."""
        with self.lock:
            body = dict(body)
            attributes = body.pop("extended_attributes", None) or []
            self._check_references(body)
            category = self.categories[body["category_id"]]
            for unique in ("cardnumber", "userid"):
                value = body.get(unique)
                if value is not None and self.patrons.holders(unique, value):
                    raise KohaApiError(409, {"error": "Duplicate ID", "conflict": unique})
            self._check_attributes(None, attributes, replace=True)
            guarantor_ids = [a["value"] for a in attributes if a["type"] == self.guarantor_attribute]
            self._check_guarantors(guarantor_ids)
            if self.child_needs_guarantor and category["category_type"] == "C" and not guarantor_ids:
                # Koha::Patron->store throws NoGuarantor; Patrons#add has no catch for it.
                raise KohaApiError(500, {"error": "Something went wrong, check Koha logs for details.", "error_code": "internal_server_error"})
            patron_id = self._next_patron_id
            self._next_patron_id += 1
            today = self.today()
            record = dict.fromkeys(PATRON_FIELDS) | DEFAULTS | {k: v for k, v in body.items() if k not in READ_ONLY}
            record["patron_id"] = patron_id
            record["date_enrolled"] = record["date_enrolled"] or today.isoformat()
            record["expiry_date"] = record["expiry_date"] or self._expiry(category, date.fromisoformat(record["date_enrolled"]))
            if record["cardnumber"] is None and self.auto_member_num:
                record["cardnumber"] = self._next_cardnumber()
            if record["userid"] is None:
                record["userid"] = self._generate_userid(record)
            self.patrons[patron_id] = record
            self._touch(record)
            for attribute in attributes:
                self._insert_attribute(patron_id, attribute)
            return dict(record)

    def update_patron(self, patron_id: int, body: dict[str, Any]) -> dict[str, Any]:
        """PUT /patrons/{id}: set the given fields (Koha's set_from_api), attributes untouched."""
        with self.lock:
            record = self.patrons.get(patron_id)
            if record is None:
                raise not_found()
            body = {k: v for k, v in body.items() if k not in READ_ONLY and k != "extended_attributes"}
            self._check_references(body)
            for unique in ("cardnumber", "userid"):
                value = body.get(unique)
                if value is not None and self.patrons.holders(unique, value) - {patron_id}:
                    raise KohaApiError(409, {"error": "Duplicate ID", "conflict": unique})
            record.update(body)
            self.patrons[patron_id] = record  # re-indexes the card number and user id
            self._touch(record)
            return dict(record)

    def delete_patron(self, patron_id: int) -> None:
        with self.lock:
            if patron_id not in self.patrons:
                raise not_found()
            if self.attributes.with_value(str(patron_id), self.guarantor_attribute):
                raise KohaApiError(409, {"error": "Patron is a guarantor and cannot be deleted", "error_code": "has_guarantees"})
            del self.patrons[patron_id]
            self.passwords.pop(patron_id, None)
            for attribute in self.attributes.of_patron(patron_id):
                del self.attributes[attribute["extended_attribute_id"]]

    def set_password(self, patron_id: int, password: str, password_2: str) -> None:
        with self.lock:
            record = self.patrons.get(patron_id)
            if record is None:
                raise not_found()
            if password != password_2:
                raise KohaApiError(400, {"error": "Passwords don't match"})
            minimum = int(self.categories[record["category_id"]].get("min_password_length") or 8)
            if len(password) < minimum:
                raise KohaApiError(400, {"error": f"Password length ({len(password)}) is shorter than required ({minimum})"})
            salt = secrets.token_hex(8)
            self.passwords[patron_id] = f"{salt}${hashlib.sha256((salt + password).encode()).hexdigest()}"

    def check_password(self, patron_id: int, password: str) -> bool:
        stored = self.passwords.get(patron_id)
        if stored is None:
            return False
        salt, digest = stored.split("$", 1)
        return secrets.compare_digest(digest, hashlib.sha256((salt + password).encode()).hexdigest())

    # ------------------------------------------------------------------ extended attributes

    def add_attribute(self, patron_id: int, attribute: dict[str, Any]) -> dict[str, Any]:
        with self.lock:
            if patron_id not in self.patrons:
                raise not_found()
            self._check_attributes(patron_id, [attribute], replace=False, conflict_status=409)
            if attribute["type"] == self.guarantor_attribute:
                self._check_guarantors([attribute["value"]])
            return self._attribute_api(self._insert_attribute(patron_id, attribute))

    def overwrite_attributes(self, patron_id: int, attributes: list[dict[str, Any]]) -> list[dict[str, Any]]:
        with self.lock:
            if patron_id not in self.patrons:
                raise not_found()
            self._check_attributes(patron_id, attributes, replace=True)
            for attribute in self.attributes.of_patron(patron_id):
                del self.attributes[attribute["extended_attribute_id"]]
            return [self._attribute_api(self._insert_attribute(patron_id, a)) for a in attributes]

    def update_attribute(self, patron_id: int, attribute_id: int, value: str) -> dict[str, Any]:
        with self.lock:
            current = self.attributes.get(attribute_id)
            if patron_id not in self.patrons or current is None or current["patron_id"] != patron_id:
                raise not_found("Attribute")
            kind = self.attribute_types[current["type"]]
            if kind.unique and any(a["extended_attribute_id"] != attribute_id and a["value"] == value for a in self.attributes.with_value(value, kind.code)):
                raise KohaApiError(409, {"error": f"{kind.code} is unique and the value is already in use", "error_code": "attribute_not_unique"})
            self.attributes.set_value(attribute_id, value)
            return self._attribute_api(current)

    def delete_attribute(self, patron_id: int, attribute_id: int) -> None:
        with self.lock:
            current = self.attributes.get(attribute_id)
            if patron_id not in self.patrons or current is None or current["patron_id"] != patron_id:
                raise not_found("Attribute")
            del self.attributes[attribute_id]

    # ------------------------------------------------------------------ internals

    def _check_references(self, body: dict[str, Any]) -> None:
        if "library_id" in body and body["library_id"] not in self.libraries:
            raise KohaApiError(400, {"error": "Given library_id does not exist"})
        if "category_id" in body and body["category_id"] not in self.categories:
            raise KohaApiError(400, {"error": "Given category_id does not exist"})

    def _check_attributes(self, patron_id: int | None, attributes: list[dict[str, Any]], *, replace: bool, conflict_status: int = 400) -> None:
        existing = self.attributes.of_patron(patron_id) if not replace and patron_id is not None else []
        combined = existing + [{"type": a["type"], "value": a["value"]} for a in attributes]
        for attribute in attributes:
            kind = self.attribute_types.get(attribute["type"])
            if kind is None:
                raise KohaApiError(400, {"error": f"Tried to use an invalid attribute type. type={attribute['type']}", "error_code": "invalid_attribute_type"})
            if not kind.repeatable and sum(1 for a in combined if a["type"] == kind.code) > 1:
                raise KohaApiError(conflict_status, {"error": f"{kind.code} is non-repeatable", "error_code": "non_repeatable_attribute"})
            if kind.unique and any(
                a["value"] == attribute["value"] and a["patron_id"] != patron_id for a in self.attributes.with_value(attribute["value"], kind.code)
            ):
                raise KohaApiError(conflict_status, {"error": f"{kind.code} is unique and the value is already in use", "error_code": "attribute_not_unique"})
        if replace:
            for kind in self.attribute_types.values():
                if kind.mandatory and not any(a["type"] == kind.code for a in combined):
                    raise KohaApiError(400, {"error": f"Missing mandatory attribute of type {kind.code}", "error_code": "missing_mandatory_attribute"})

    def _check_guarantors(self, guarantor_ids: list[str]) -> None:
        for value in guarantor_ids:
            if not value.isdigit() or int(value) not in self.patrons:
                raise KohaApiError(400, {"error": "Given guarantor_id does not exist"})
            guarantor = self.patrons[int(value)]
            if self.categories[guarantor["category_id"]]["category_type"] == "C":
                raise KohaApiError(400, {"error": "Child patron cannot be a guarantor", "error_code": "invalid_guarantor"})

    def _insert_attribute(self, patron_id: int, attribute: dict[str, Any]) -> dict[str, Any]:
        record = {"extended_attribute_id": self._next_attribute_id, "patron_id": patron_id, "type": attribute["type"], "value": attribute["value"]}
        self.attributes[self._next_attribute_id] = record
        self._next_attribute_id += 1
        return record

    @staticmethod
    def _attribute_api(record: dict[str, Any]) -> dict[str, Any]:
        return {"extended_attribute_id": record["extended_attribute_id"], "type": record["type"], "value": record["value"]}

    def _expiry(self, category: dict[str, Any], enrolled: date) -> str | None:
        if category.get("enrolment_period_date"):
            return category["enrolment_period_date"]
        months = int(category.get("enrolment_period") or 0)
        if not months:
            return None
        month_index = enrolled.month - 1 + months
        year, month = enrolled.year + month_index // 12, month_index % 12 + 1
        return date(year, month, min(enrolled.day, calendar.monthrange(year, month)[1])).isoformat()

    def _next_cardnumber(self) -> str:
        highest = self.patrons.highest_cardnumber()
        return str((2400000000 if highest is None else highest) + 1)

    def _generate_userid(self, record: dict[str, Any]) -> str:
        """Koha's generate_userid: firstname.surname, lower case, a number appended while taken."""
        base = ".".join(part for part in (record.get("firstname"), record.get("surname")) if part)
        base = unicodedata.normalize("NFKD", base).encode("ascii", "ignore").decode().lower().replace(" ", "")
        candidate, n = base, 0
        while self.patrons.holders("userid", candidate):
            n += 1
            candidate = f"{base}{n}"
        return candidate

    def _touch(self, record: dict[str, Any]) -> None:
        record["updated_on"] = datetime.now(HELSINKI).isoformat(timespec="seconds")
        expiry = record.get("expiry_date")
        record["expired"] = bool(expiry and date.fromisoformat(expiry) < self.today())
        record["restricted"] = bool(record.get("restricted"))
        record["anonymized"] = bool(record.get("anonymized"))
