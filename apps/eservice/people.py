"""People as the e-service shows and keys them: masked identity codes and queue references.

A citizen recognises their own birth date, so the form shows the hetu's date-of-birth part and
the century sign (``010101-****``) and never the individual number and check character. The
queue reference of an application is a salted HMAC of the applicant's hetu (``hetu_key``), or of
the eIDAS PersonIdentifier for a user from another EU country: applying twice finds the same
item, and the reference tells nobody who applied. Both are written without digits, so no
reference ever looks like a henkilötunnus to the redaction filter.
"""

from __future__ import annotations

from pydantic import SecretStr

from schemas.hetu import Hetu, hetu_key, keyed_hash
from schemas.library_card import VerifiedPerson


def masked_hetu(hetu: Hetu | None) -> str | None:
    """``DDMMYYC****``: the birth date and century sign only."""
    if hetu is None:
        return None
    return f"{hetu.value[:7]}****"


def person_reference(person: VerifiedPerson, salt: SecretStr) -> str:
    """The work-item reference for an application about ``person``.

    Raises:
        ValueError: the salt is empty (from ``hetu_key``).
    """
    if person.hetu is not None:
        return hetu_key(person.hetu, salt)
    assert person.eidas_person_identifier is not None  # VerifiedPerson guarantees one of the two
    return f"eidas-{keyed_hash(f'eidas:{person.eidas_person_identifier}', salt)}"
