"""The person vault's ``library_patron`` retention check: does the person still hold a library card?

Koha is asked by the person's key (the ``SOTU`` attribute, the vault's key), so a patron record merged or
re-created under another id still counts, and a deleted one does not.
"""

from __future__ import annotations

from datetime import date

from connectors.koha import KohaClient
from schemas.person_vault import Relation, VaultEntry


class ActiveLibraryCard:
    """Live while Koha has a patron with the person's key whose card has not expired (``expiry_date``
    today or later, or none). Raises Koha's errors when Koha cannot answer, so the person is kept."""

    def __init__(self, koha: KohaClient, *, today: date) -> None:
        self.koha = koha
        self.today = today

    def __call__(self, entry: VaultEntry, relation: Relation) -> bool:
        patron = self.koha.find_patron_by_hetu_key(entry.key)
        if patron is None or patron.expired:
            return False
        return patron.expiry_date is None or patron.expiry_date >= self.today
