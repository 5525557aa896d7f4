"""Pages in Finnish, Swedish and English: translation tables, the person's language, Finnish dates.

Each web app keeps its words in ``<app>/translations/{fi,sv,en}.json`` (flat ``key: text``) and
loads them with :func:`load_catalog`; every language must have exactly the keys Finnish has, which
is checked at start-up, so a missing translation fails loudly instead of showing a key to a
person. The chosen language lives in the app's signed session cookie (``lang``), set by the
language switch; without a choice the browser's ``Accept-Language`` decides, else Finnish.
"""

from __future__ import annotations

import json
import re
import string
from dataclasses import dataclass
from datetime import date, datetime
from importlib import resources
from typing import Any
from zoneinfo import ZoneInfo

from starlette.requests import Request

from schemas.library_card import Language

HELSINKI = ZoneInfo("Europe/Helsinki")

LANGUAGES: tuple[Language, ...] = (Language.FI, Language.SV, Language.EN)
DEFAULT_LANGUAGE = Language.FI
#: How each language names itself in the language switch.
ENDONYMS = {Language.FI: "Suomeksi", Language.SV: "På svenska", Language.EN: "In English"}
#: Each language's own name for itself, for choosing the language of the decision.
LANGUAGE_NAMES = {Language.FI: "suomi", Language.SV: "svenska", Language.EN: "English"}
#: Where the chosen language is kept in an app's session cookie.
LANGUAGE_KEY = "lang"


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


def load_catalog(package: str) -> Catalog:
    """Read and check the translation tables of ``package`` (``apps.eservice.translations``).

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


def language_of(request: Request) -> Language:
    """The language chosen in this session, else the browser's preference among fi/sv/en, else Finnish."""
    chosen = request.session.get(LANGUAGE_KEY)
    if chosen in {language.value for language in LANGUAGES}:
        return Language(chosen)
    return negotiate(request.headers.get("accept-language"))


def remember_language(request: Request, code: str) -> bool:
    """Remember ``code`` (fi/sv/en) as this session's language; False for a code that is none of them."""
    try:
        request.session[LANGUAGE_KEY] = Language(code).value
    except ValueError:
        return False
    return True


def finnish_date(value: date | datetime | str | None) -> str:
    """A date the Finnish way, day.month.year without leading zeros (4.12.2026); also Swedish usage in Finland.

    A datetime shows its date only; an ISO string is read first; None and unreadable text come back as they were.
    """
    if value is None:
        return ""
    if isinstance(value, str):
        try:
            value = date.fromisoformat(value[:10])
        except ValueError:
            return value
    if isinstance(value, datetime):
        value = value.date()
    return f"{value.day}.{value.month}.{value.year}"


def finnish_time(moment: datetime | None) -> str:
    """4.12.2026 14.05, in Helsinki time (a moment without a time zone is taken as it is)."""
    if moment is None:
        return ""
    local = moment.astimezone(HELSINKI) if moment.tzinfo is not None else moment
    return f"{finnish_date(local.date())} {local.hour}.{local.minute:02}"


_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_ISO_MOMENT = re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}")


def readable_text(text: str) -> str:
    """A stored ISO date or moment as staff read dates (4.12.2026, 4.12.2026 14.05); any other text as it is.

    Case data keeps dates as JSON does (``2026-12-04``); the Desk shows them the way its other dates are.
    """
    if _ISO_DATE.fullmatch(text):
        return finnish_date(text)
    if _ISO_MOMENT.match(text):
        try:
            return finnish_time(datetime.fromisoformat(text))
        except ValueError:
            return text
    return text
