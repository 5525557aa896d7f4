"""Typed client for the Koha REST API v1: patrons, extended attributes, password, libraries, categories.

Contract: shared/specs/koha/api/v1/swagger (paths/patrons.yaml, patrons_extended_attributes.yaml,
patrons_password.yaml, oauth.yaml; definitions/patron.yaml). ``GET /libraries`` and
``GET /patron_categories`` follow Koha's upstream paths/libraries.yaml and
paths/patron_categories.yaml.

The raw henkilötunnus never goes to Koha: patrons are found and created by the hetu *key*
(``schemas.hetu_key``) in the extended attribute ``settings.hetu_key_attribute`` (Koha-Suomi's
"Sotu-avain"). A child is linked to its guarantor with ``relationship_type`` and the extended
attribute ``settings.guarantor_attribute`` holding the guarantor's patron_id.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from datetime import date
from typing import Any, TypeVar

import httpx
from pydantic import SecretStr

from connectors.errors import AutomationError, IntegrationError
from connectors.http import ConnectorClient, ErrorDetails, RetryPolicy
from connectors.koha.auth import auth_for
from connectors.koha.errors import (
    AmbiguousPatronError,
    DuplicatePatronError,
    KohaAuthenticationError,
    KohaRejectedError,
    KohaUnavailableError,
    MissingGuarantorError,
    PatronNotFoundError,
)
from connectors.koha.models import (
    ExtendedAttribute,
    ExtendedAttributeIn,
    GuarantorLink,
    Library,
    Patron,
    PatronCategory,
    PatronCreate,
)
from connectors.koha.settings import KohaSettings
from schemas.redaction import HETU_PATTERN

T = TypeVar("T")
logger = logging.getLogger("connectors.koha")
EMBED_ATTRIBUTES = {"x-koha-embed": "extended_attributes"}


class KohaClient(ConnectorClient):
    """Koha REST API v1 (patrons). Contract: shared/specs/koha."""

    def __init__(
        self,
        settings: KohaSettings | None = None,
        *,
        transport: httpx.BaseTransport | None = None,
        retry: RetryPolicy | None = None,
    ) -> None:
        self.settings = settings or KohaSettings()
        self.auth = auth_for(self.settings)
        self.api = self.api_client(
            self.settings, system="koha", auth=self.auth, error_mapper=_map_koha_error, transient_error=KohaUnavailableError, transport=transport, retry=retry
        )
        self._categories: dict[str, PatronCategory] | None = None

    # ------------------------------------------------------------------ patrons

    def find_patron_by_hetu_key(self, key: str) -> Patron | None:
        """The patron whose hetu-key attribute is ``key``, or None.

        Raises:
            AmbiguousPatronError: several patrons carry the key (a person must merge them).
            ValueError: ``key`` looks like a henkilötunnus rather than a key.
        """
        _check_key(key)
        code = self.settings.hetu_key_attribute
        query = {"extended_attributes.code": code, "extended_attributes.attribute": key}
        found = [p for p in self._search(query, embed=True) if key in p.attribute_values(code)]
        if len(found) > 1:
            raise AmbiguousPatronError(f"koha: {len(found)} patrons carry the same hetu key", business_ids={"patron_ids": [p.patron_id for p in found]})
        return found[0] if found else None

    def find_patron_by_cardnumber(self, cardnumber: str) -> Patron | None:
        """The patron with exactly this card number, or None."""
        found = self.api.request_model(
            list[Patron], "GET", "/patrons", params={"cardnumber": cardnumber, "_match": "exact", "_per_page": 2}, headers=EMBED_ATTRIBUTES
        )
        return found[0] if found else None

    def list_patrons_expiring(self, first: date, last: date) -> list[Patron]:
        """Patrons whose card expires on a day from ``first`` to ``last`` (both included), with their
        extended attributes (hetu key, guarantor), by ``expiry_date`` in Koha's query language."""
        return self._search({"expiry_date": {">=": first.isoformat(), "<=": last.isoformat()}}, embed=True)

    def get_patron(self, patron_id: int) -> Patron:
        """One patron with its extended attributes.

        Raises:
            PatronNotFoundError: no such patron.
        """
        return self.api.request_model(Patron, "GET", f"/patrons/{int(patron_id)}", headers=EMBED_ATTRIBUTES, business_ids={"patron_id": patron_id})

    def create_patron(self, new: PatronCreate, *, hetu_key: str | None = None, guarantor: GuarantorLink | None = None) -> Patron:
        """Create a patron, with its hetu key and guarantor link in the same request.

        A create that carries a card number, user id or hetu key is safe to resend after a
        timeout: Koha rejects the second copy and the error names the patron already there.

        Raises:
            DuplicatePatronError: Koha already has this card number, user id or hetu key; carries the existing id.
            MissingGuarantorError: a child category without a guarantor.
            KohaRejectedError: an unknown library or category, or an attribute Koha will not take.
            KohaUnavailableError: Koha is down or slow, after retries.
        """
        if guarantor is None and self._is_child_category(new.category_id):
            raise MissingGuarantorError(f"koha: category {new.category_id} is for children and needs a guarantor")
        attributes = list(new.extended_attributes)
        update: dict[str, Any] = {}
        if hetu_key is not None:
            _check_key(hetu_key)
            attributes.append(ExtendedAttributeIn(type=self.settings.hetu_key_attribute, value=hetu_key))
        if guarantor is not None:
            attributes.append(ExtendedAttributeIn(type=self.settings.guarantor_attribute, value=str(guarantor.guarantor_id)))
            update["relationship_type"] = guarantor.relationship
        body = new.model_copy(update={**update, "extended_attributes": attributes})
        payload = body.model_dump(mode="json", exclude_none=True, exclude_defaults=False)
        if not payload["extended_attributes"]:
            del payload["extended_attributes"]

        def duplicates(response: httpx.Response, details: ErrorDetails) -> AutomationError | None:
            error = _json_object(response)
            if response.status_code == 409:
                conflict = str(error.get("conflict") or "match").rsplit(".", 1)[-1]
                existing = self._existing_for(conflict, body, hetu_key)
                return DuplicatePatronError(f"koha: a patron with this {conflict} already exists", existing_patron_id=existing, conflict=conflict, **details)
            if response.status_code == 400 and error.get("error_code") == "attribute_not_unique" and hetu_key is not None:
                existing_patron = self.find_patron_by_hetu_key(hetu_key)
                return DuplicatePatronError(
                    "koha: a patron with this hetu key already exists",
                    existing_patron_id=existing_patron.patron_id if existing_patron else None,
                    conflict=self.settings.hetu_key_attribute,
                    **details,
                )
            return None

        response = self.api.request(
            "POST",
            "/patrons",
            json=payload,
            resend=bool(body.cardnumber or body.userid or hetu_key),
            error_mapper=duplicates,
        )
        return self.api.decode(response, Patron)

    def add_guarantor(self, child_id: int, link: GuarantorLink) -> Patron:
        """Link an existing child patron to its guarantor; doing it twice changes nothing.

        Raises:
            PatronNotFoundError: the child or the guarantor does not exist.
        """
        self.get_patron(link.guarantor_id)
        child = self.get_patron(child_id)
        code = self.settings.guarantor_attribute
        if str(link.guarantor_id) not in child.attribute_values(code):
            self.add_extended_attribute(child_id, ExtendedAttributeIn(type=code, value=str(link.guarantor_id)))
        if child.relationship_type != link.relationship:
            self.api.request(
                "PUT",
                f"/patrons/{int(child_id)}",
                json={
                    "surname": child.surname,
                    "library_id": child.library_id,
                    "category_id": child.category_id,
                    "relationship_type": link.relationship,
                },
                business_ids={"patron_id": child_id},
            )
        return self.get_patron(child_id)

    def set_password(self, patron_id: int, password: SecretStr) -> None:
        """Set the patron's password (the 4-digit PIN Finnish libraries use).

        Raises:
            KohaRejectedError: Koha refused it (too short for the category).
        """
        secret = password.get_secret_value()
        self.api.request(
            "POST",
            f"/patrons/{int(patron_id)}/password",
            json={"password": secret, "password_2": secret},
            resend=True,
            business_ids={"patron_id": patron_id},
        )

    # ------------------------------------------------------------------ extended attributes

    def list_extended_attributes(self, patron_id: int) -> list[ExtendedAttribute]:
        return self.api.request_model(list[ExtendedAttribute], "GET", f"/patrons/{int(patron_id)}/extended_attributes", business_ids={"patron_id": patron_id})

    def add_extended_attribute(self, patron_id: int, attribute: ExtendedAttributeIn) -> ExtendedAttribute:
        """Add one attribute.

        Raises:
            KohaRejectedError: an unknown type, a second value for a non-repeatable type, or a
                value another patron already holds for a unique type.
        """
        return self.api.request_model(
            ExtendedAttribute,
            "POST",
            f"/patrons/{int(patron_id)}/extended_attributes",
            json=attribute.model_dump(mode="json"),
            business_ids={"patron_id": patron_id},
        )

    def set_extended_attributes(self, patron_id: int, attributes: list[ExtendedAttributeIn]) -> list[ExtendedAttribute]:
        """Replace ALL of the patron's extended attributes, as Koha's PUT does (keep the hetu key in the list)."""
        return self.api.request_model(
            list[ExtendedAttribute],
            "PUT",
            f"/patrons/{int(patron_id)}/extended_attributes",
            json=[attribute.model_dump(mode="json") for attribute in attributes],
            business_ids={"patron_id": patron_id},
        )

    # ------------------------------------------------------------------ reference data

    def list_libraries(self) -> list[Library]:
        return self._all_pages(Library, "/libraries")

    def list_patron_categories(self) -> list[PatronCategory]:
        """Every category, in one request without parameters: Koha's ``GET /patron_categories`` declares
        none and ignores paging, answering at most RESTdefaultPageSize categories.

        Raises:
            IntegrationError: ``CATEGORIES_TRUNCATED`` when X-Total-Count says Koha has more than it sent.
        """
        response = self.api.request("GET", "/patron_categories")
        categories = self.api.decode(response, list[PatronCategory])
        total = response.headers.get("x-total-count", "")
        if total.isdigit() and int(total) > len(categories):
            raise IntegrationError(
                f"koha: GET /patron_categories sent {len(categories)} of {total} categories; raise Koha's RESTdefaultPageSize to at least {total}",
                code="CATEGORIES_TRUNCATED",
            )
        return categories

    # ------------------------------------------------------------------ internals

    def _search(self, query: Mapping[str, Any], *, embed: bool) -> list[Patron]:
        return self._all_pages(Patron, "/patrons", params={"q": json.dumps(query)}, headers=EMBED_ATTRIBUTES if embed else None)

    def _all_pages(self, model: type[T], path: str, *, params: Mapping[str, Any] | None = None, headers: Mapping[str, str] | None = None) -> list[T]:
        """Follow Koha's _page/_per_page paging until X-Total-Count is reached (or a short page)."""
        size = self.settings.page_size
        items: list[T] = []
        page = 1
        previous: list[T] | None = None
        while True:
            response = self.api.request("GET", path, params={**(params or {}), "_page": page, "_per_page": size}, headers=headers)
            batch = self.api.decode(response, list[model])  # type: ignore[valid-type]
            if batch and batch == previous:
                # A proxy or an old Koha that drops _page answers page 1 forever: stop, do not loop.
                raise IntegrationError(f"koha: GET {path} answered the same page again for _page={page}; paging is ignored", code="PAGING_IGNORED")
            previous = batch
            items.extend(batch)
            total = response.headers.get("x-total-count")
            if len(batch) < size or (total is not None and total.isdigit() and len(items) >= int(total)):
                return items
            page += 1

    def _is_child_category(self, category_id: str) -> bool:
        """Categories change rarely; one lookup per client is enough."""
        if self._categories is None:
            try:
                self._categories = {c.patron_category_id: c for c in self.list_patron_categories()}
            except KohaAuthenticationError:
                # The API key may lack parameters:manage_patron_categories; Koha then has the last word.
                logger.warning("koha: cannot read patron categories to check ChildNeedsGuarantor before creating")
                self._categories = {}
        category = self._categories.get(category_id)
        return category is not None and category.is_child

    def _existing_for(self, conflict: str, body: PatronCreate, hetu_key: str | None) -> int | None:
        """The id of the patron a duplicate create collided with, looked up by the colliding value."""
        existing: Patron | None = None
        if conflict == "cardnumber" and body.cardnumber:
            existing = self.find_patron_by_cardnumber(body.cardnumber)
        elif conflict == "userid" and body.userid:
            found = self.api.request_model(list[Patron], "GET", "/patrons", params={"userid": body.userid, "_match": "exact", "_per_page": 2})
            existing = found[0] if found else None
        elif hetu_key is not None:
            existing = self.find_patron_by_hetu_key(hetu_key)
        return existing.patron_id if existing else None


def _check_key(key: str) -> None:
    if HETU_PATTERN.search(key):
        raise ValueError("Koha gets the hetu key (schemas.hetu_key), never the henkilötunnus itself")
    if not key or len(key) > 255:
        raise ValueError("a hetu key is 1-255 characters")


def _json_object(response: httpx.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def _koha_message(response: httpx.Response) -> str:
    """Koha's own words: ``error`` (+ ``error_code``), or the OpenAPI validator's ``errors[].message``."""
    body = _json_object(response)
    if isinstance(body.get("error"), str):
        code = body.get("error_code")
        return f"{body['error']} ({code})" if code else body["error"]
    errors = body.get("errors")
    if isinstance(errors, list):
        return "; ".join(f"{item.get('path', '')}: {item.get('message', '')}".strip(": ") for item in errors[:5] if isinstance(item, dict))
    return ""


def _map_koha_error(response: httpx.Response, details: ErrorDetails) -> AutomationError | None:
    status = response.status_code
    where = f"{response.request.method} {response.request.url.path}"
    said = _koha_message(response)
    suffix = f": {said}" if said else ""
    if status in (401, 403):
        return KohaAuthenticationError(
            f"koha: {where} answered {status}{suffix}",
            code="KOHA_FORBIDDEN" if status == 403 else "KOHA_UNAUTHORIZED",
            required_permissions=_json_object(response).get("required_permissions"),
            **details,
        )
    if status == 404 and "/patrons/" in response.request.url.path:
        return PatronNotFoundError(f"koha: {where}: patron not found", **details)
    if status == 400:
        return KohaRejectedError(f"koha: {where} rejected{suffix}", code=_rejection_code(response), **details)
    return None


def _rejection_code(response: httpx.Response) -> str:
    code = _json_object(response).get("error_code")
    return str(code).upper() if isinstance(code, str) and code.replace("_", "").isalnum() else "KOHA_REJECTED"
