"""The Finnish personal identity code (henkilötunnus, "hetu") as a pydantic type.

Rules (Digital and Population Data Services Agency, as amended 1 Jan 2023): ``DDMMYYCZZZQ`` where
``C`` is the century sign (``+`` 1800s; ``-``, ``U``–``Y`` 1900s; ``A``–``F`` 2000s), ``ZZZ`` the
individual number 002–999 (900–999 are temporary and test codes, valid in form) and ``Q`` the
check character: the nine digits ``DDMMYYZZZ`` mod 31 indexed into
``0123456789ABCDEFHJKLMNPRSTUVWXY``.

The value is personal data. :class:`Hetu` is a ``str`` whose ``repr`` is masked, so model reprs,
Robot Framework's argument logging and tracebacks show ``Hetu('******-****')``; ``str(hetu)``,
``hetu.value`` and JSON serialisation give the real code for the few places that must send it.
No error message here echoes the value. Models holding a ``Hetu`` should also set
``hide_input_in_errors=True`` so pydantic's own ``ValidationError`` text omits the input.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Literal
from zoneinfo import ZoneInfo

from pydantic import GetCoreSchemaHandler, GetJsonSchemaHandler, SecretStr
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import PydanticCustomError, core_schema

CHECK_CHARACTERS = "0123456789ABCDEFHJKLMNPRSTUVWXY"
CENTURIES: dict[str, int] = {
    "+": 1800,
    **dict.fromkeys("-UVWXY", 1900),
    **dict.fromkeys("ABCDEF", 2000),
}
MASKED = "******-****"
HELSINKI = ZoneInfo("Europe/Helsinki")

_SHAPE = re.compile(r"[0-9]{6}[-+A-FU-Y][0-9]{3}[0-9A-Y]")


@dataclass(frozen=True, repr=False)
class HetuInfo:
    """What a hetu says about its holder. Repr is masked like the code itself."""

    birth_date: date
    century_sign: str
    individual_number: int
    check_character: str

    @property
    def temporary(self) -> bool:
        """900–999: temporary codes (and the test codes Suomi.fi's test persons use)."""
        return self.individual_number >= 900

    @property
    def sex(self) -> Literal["female", "male"]:
        """Even individual number: female; odd: male (the rule for every code issued so far)."""
        return "female" if self.individual_number % 2 == 0 else "male"

    def age_on(self, day: date) -> int:
        """Age in whole years on ``day``; someone born on 29 Feb ages on 1 Mar in common years."""
        born = self.birth_date
        return day.year - born.year - ((day.month, day.day) < (born.month, born.day))

    def __repr__(self) -> str:
        return "HetuInfo(******)"


def helsinki_today() -> date:
    return datetime.now(HELSINKI).date()


def parse_hetu(value: object, *, today: date | None = None) -> HetuInfo:
    """Check a henkilötunnus fully and return what it encodes.

    Raises:
        ValueError: the value is not a valid hetu; the message says why without echoing it.
    """
    if not isinstance(value, str):
        raise ValueError(f"a henkilötunnus must be text, not {type(value).__name__}")
    text = str.__str__(value)
    # Before the length: a code pasted with a space (or a no-break space) is told so, not "12 characters".
    if any(character.isspace() for character in text):
        raise ValueError("a henkilötunnus has no spaces")
    if len(text) != 11:
        raise ValueError(f"a henkilötunnus has 11 characters, this has {len(text)}")
    if text != text.upper():
        raise ValueError("a henkilötunnus is written in upper case")
    if not _SHAPE.fullmatch(text):
        raise ValueError("a henkilötunnus is DDMMYY, a century sign (+, -, U-Y, A-F), three digits and a check character")
    individual = int(text[7:10])
    if individual < 2:
        raise ValueError("the individual number of a henkilötunnus is 002-999")
    sign = text[6]
    try:
        born = date(CENTURIES[sign] + int(text[4:6]), int(text[2:4]), int(text[0:2]))
    except ValueError:
        raise ValueError("the birth date in the henkilötunnus is not a real date") from None
    if born > (today or helsinki_today()):
        raise ValueError("the birth date in the henkilötunnus is in the future")
    expected = check_character(text[0:6] + text[7:10])
    if text[10] != expected:
        raise ValueError("the check character of the henkilötunnus does not match")
    return HetuInfo(birth_date=born, century_sign=sign, individual_number=individual, check_character=expected)


def check_character(nine_digits: str) -> str:
    """The check character for ``DDMMYYZZZ``."""
    return CHECK_CHARACTERS[int(nine_digits) % 31]


class Hetu(str):
    """A valid henkilötunnus whose ``repr`` never shows the code.

    Use it as a pydantic field type, or construct it directly (``Hetu("131052-308T")``), which
    validates and raises ``ValueError`` on anything invalid.
    """

    __slots__ = ()

    def __new__(cls, value: object) -> Hetu:
        if isinstance(value, Hetu):
            return value
        parse_hetu(value)
        return super().__new__(cls, value)

    @property
    def value(self) -> str:
        """The real code, as a plain ``str``: only for sending it where it must go."""
        return str.__str__(self)

    def info(self) -> HetuInfo:
        return parse_hetu(self, today=date.max)

    def __repr__(self) -> str:
        return f"Hetu('{MASKED}')"

    def __reduce__(self) -> tuple[Any, ...]:
        return (Hetu, (self.value,))

    @classmethod
    def __get_pydantic_core_schema__(cls, source: Any, handler: GetCoreSchemaHandler) -> core_schema.CoreSchema:
        return core_schema.no_info_plain_validator_function(
            _validate,
            serialization=core_schema.plain_serializer_function_ser_schema(str.__str__, when_used="json", return_schema=core_schema.str_schema()),
        )

    @classmethod
    def __get_pydantic_json_schema__(cls, schema: core_schema.CoreSchema, handler: GetJsonSchemaHandler) -> JsonSchemaValue:
        return {
            "type": "string",
            "format": "fi-hetu",
            "pattern": _SHAPE.pattern,
            "title": "Henkilötunnus",
            "description": "Finnish personal identity code (validated: date, century sign, individual number, check character).",
        }


def _validate(value: Any) -> Hetu:
    if isinstance(value, Hetu):
        return value
    try:
        return Hetu(value)
    except ValueError as error:
        # A custom error type keeps pydantic from wrapping the text as "Value error, …".
        raise PydanticCustomError("hetu_invalid", "{reason}", {"reason": str(error)}) from None


_KEY_LETTERS = str.maketrans("0123456789abcdef", "ghijklmnopqrstuv")


def keyed_digest(text: str, salt: SecretStr) -> bytes:
    """HMAC-SHA256 of ``text`` under the secret salt.

    Raises:
        ValueError: the salt is empty.
    """
    secret = salt.get_secret_value()
    if not secret:
        raise ValueError("the hetu key salt is empty")
    return hmac.new(secret.encode("utf-8"), text.encode("utf-8"), hashlib.sha256).digest()


def keyed_hash(text: str, salt: SecretStr) -> str:
    """:func:`keyed_digest` as 64 letters ``g``–``v`` (hex shifted out of the digits).

    Without digits no run of it can look like a henkilötunnus, so the redaction filter leaves keys
    alone and the library connector's "no hetu here" check never refuses one (hex did ~1 in 10).

    Raises:
        ValueError: the salt is empty.
    """
    return keyed_digest(text, salt).hex().translate(_KEY_LETTERS)


def hetu_digest(hetu: Hetu | str, salt: SecretStr) -> bytes:
    """The raw HMAC-SHA256 behind :func:`hetu_key`, for references written in another alphabet.

    Raises:
        ValueError: the hetu is invalid or the salt is empty.
    """
    return keyed_digest(Hetu(hetu).value, salt)


def hetu_key(hetu: Hetu | str, salt: SecretStr) -> str:
    """A stable, non-reversible key for a person: HMAC-SHA256 of the hetu under a secret salt.

    Other systems (the library system's extended attribute, queue references) get only this key,
    as Finnish Koha installs keep the real hetu in a separate vault. Written as 64 letters
    ``g``–``v`` (:func:`keyed_hash`), so a key never matches the henkilötunnus pattern.

    Raises:
        ValueError: the hetu is invalid or the salt is empty.
    """
    return keyed_hash(Hetu(hetu).value, salt)
