"""Koha connector errors, on the shared hierarchy (connectors/errors.py)."""

from __future__ import annotations

from typing import Any

from connectors.errors import BusinessRuleError, IntegrationError, NotFoundError, TransientError


class KohaUnavailableError(TransientError):
    """Koha is down, under maintenance (503), rate-limiting or answering 5xx; retry later."""

    default_code = "KOHA_UNAVAILABLE"


class KohaAuthenticationError(IntegrationError):
    """The robot's Koha credentials were refused, or its staff patron lacks a permission."""

    default_code = "KOHA_AUTHENTICATION"

    def __init__(self, message: str, *, required_permissions: Any = None, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.required_permissions = required_permissions


class PatronNotFoundError(NotFoundError):
    """No patron with that id."""

    default_code = "PATRON_NOT_FOUND"


class DuplicatePatronError(BusinessRuleError):
    """Koha already has this patron (same card number, user id or hetu key).

    ``existing_patron_id`` is the patron Koha already has, when it could be found, so a retried
    create can carry on with it instead of failing the case.
    """

    default_code = "DUPLICATE_PATRON"

    def __init__(self, message: str, *, existing_patron_id: int | None, conflict: str, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.existing_patron_id = existing_patron_id
        self.conflict = conflict
        self.business_ids.setdefault("existing_patron_id", existing_patron_id)


class AmbiguousPatronError(BusinessRuleError):
    """More than one patron carries the same hetu key: a person must merge the records."""

    default_code = "AMBIGUOUS_PATRON"


class KohaRejectedError(IntegrationError):
    """Koha refused the data (400): an unknown library or category, a bad attribute, a schema error."""

    default_code = "KOHA_REJECTED"


class MissingGuarantorError(BusinessRuleError):
    """A child-category patron needs a guarantor (Koha's ChildNeedsGuarantor).

    Checked before sending: Koha itself answers this with an unhandled 500, which would look
    like an outage and be retried.
    """

    default_code = "MISSING_GUARANTOR"
