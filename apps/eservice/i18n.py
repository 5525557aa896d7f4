"""The e-service's words in Finnish, Swedish and English: one table per language.

The tables are ``apps/eservice/translations/{fi,sv,en}.json`` (flat ``key: text``); the staff
Desk keeps its own in ``apps/staff/desk/translations`` and loads them the same way. Every language
must have exactly the keys Finnish has, which :func:`load_catalog` checks at start-up, so a
missing translation fails loudly instead of showing a key to a citizen. Texts that are the
process's own (validation errors by code, decisions by reason code) come from
``schemas.library_card`` and are not repeated here.
"""

from __future__ import annotations

import json
import string
from dataclasses import dataclass
from importlib import resources
from typing import Any

from schemas.library_card import Language

LANGUAGES: tuple[Language, ...] = (Language.FI, Language.SV, Language.EN)
DEFAULT_LANGUAGE = Language.FI
#: How each language names itself in the language switch.
ENDONYMS = {Language.FI: "Suomeksi", Language.SV: "På svenska", Language.EN: "In English"}
#: Each language's own name for itself, for choosing the language of the decision.
LANGUAGE_NAMES = {Language.FI: "suomi", Language.SV: "svenska", Language.EN: "English"}


class CatalogError(ValueError):
    """A translation table is missing, malformed, or does not have the keys Finnish has."""


@dataclass(frozen=True)
class Translator:
    """``t("key", name=…)`` in one language; placeholders are ``{name}`` (str.format)."""

    language: Language
    texts: dict[str, str]

    def __call__(self, key: str, /, **values: Any) -> str:
        text = self.texts[key]  # a KeyError here is a programming error the catalogue test catches
        return text.format(**values) if values else text


@dataclass(frozen=True)
class Catalog:
    """All three tables, checked to hold the same keys and placeholders."""

    tables: dict[Language, dict[str, str]]

    def translator(self, language: Language | str) -> Translator:
        language = Language(language)
        return Translator(language, self.tables[language])


def _placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def load_catalog(package: str = "apps.eservice.translations") -> Catalog:
    """Read and check the translation tables in ``package`` (the e-service's by default; the Desk has its own).

    Raises:
        CatalogError: a table is missing or not a flat object of strings, or its keys or a
            text's placeholders differ from Finnish.
    """
    tables: dict[Language, dict[str, str]] = {}
    folder = resources.files(package)
    for language in LANGUAGES:
        try:
            table = json.loads(folder.joinpath(f"{language.value}.json").read_text(encoding="utf-8"))
        except (OSError, ValueError) as error:
            raise CatalogError(f"translation table {language.value}.json cannot be read: {error}") from None
        if not isinstance(table, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in table.items()):
            raise CatalogError(f"translation table {language.value}.json must be a flat object of strings")
        tables[language] = table
    reference = tables[DEFAULT_LANGUAGE]
    for language, table in tables.items():
        missing = sorted(set(reference) - set(table))
        extra = sorted(set(table) - set(reference))
        if missing or extra:
            raise CatalogError(f"{language.value}.json differs from fi.json: missing {missing}, extra {extra}")
        for key, text in table.items():
            if _placeholders(text) != _placeholders(reference[key]):
                raise CatalogError(
                    f"{language.value}.json key {key!r} has placeholders {sorted(_placeholders(text))}, fi.json {sorted(_placeholders(reference[key]))}"
                )
    return Catalog(tables)


def negotiate(accept_language: str | None) -> Language:
    """The first of fi/sv/en the browser asks for (by q-value), else Finnish."""
    best: tuple[float, int, Language] | None = None
    for position, part in enumerate((accept_language or "").split(",")):
        tag, _, params = part.strip().partition(";")
        primary = tag.strip().lower().split("-")[0]
        try:
            language = Language(primary)
        except ValueError:
            continue
        quality = 1.0
        for param in params.split(";"):
            name, _, value = param.strip().partition("=")
            if name == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        if quality > 0 and (best is None or (quality, -position) > (best[0], best[1])):
            best = (quality, -position, language)
    return best[2] if best else DEFAULT_LANGUAGE
