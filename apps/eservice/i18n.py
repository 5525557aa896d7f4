"""The e-service's words in Finnish, Swedish and English: ``apps/eservice/translations/{fi,sv,en}.json``.

The mechanism (tables checked to hold the same keys, the person's language) is ``apps.i18n``, shared
with the staff app. Texts that are the process's own (validation errors by code, decisions by
reason code) come from ``schemas.library_card`` and are not repeated here.
"""

from __future__ import annotations

from apps.i18n import DEFAULT_LANGUAGE, ENDONYMS, LANGUAGE_NAMES, LANGUAGES, Catalog, CatalogError, Translator, negotiate
from apps.i18n import load_catalog as load_tables

TRANSLATIONS = "apps.eservice.translations"


def load_catalog() -> Catalog:
    """The e-service's tables, checked (:func:`apps.i18n.load_catalog`)."""
    return load_tables(TRANSLATIONS)


__all__ = ["DEFAULT_LANGUAGE", "ENDONYMS", "LANGUAGES", "LANGUAGE_NAMES", "Catalog", "CatalogError", "Translator", "load_catalog", "negotiate"]
