"""What every process says to a person: the language, the channel, the text, dates as they are written.

A process that tells a citizen something (a library-card decision, a card-expiry reminder) builds a
:class:`MessageText` in the person's :class:`Language` and hands it to ``processes.notify``, which picks
the :class:`Channel` with :func:`choose_channel`. Dates in the text go through :func:`format_date`:
Finnish and Swedish write 31.12.2031, English 31 December 2031.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from pydantic import BaseModel, Field


class Language(StrEnum):
    """The person's language for what they are sent (fi by default, sv and en)."""

    FI = "fi"
    SV = "sv"
    EN = "en"

    @classmethod
    def from_tag(cls, tag: str | None) -> Language:
        """A language tag as systems store it (Koha's ``lang``: ``sv-SE``, ``en``, ``default``) → ours; Finnish otherwise."""
        prefix = (tag or "").split("-", 1)[0].lower()
        return cls(prefix) if prefix in cls._value2member_map_ else cls.FI


class NotificationPreference(StrEnum):
    """How the person would like to hear, when they have no active Suomi.fi mailbox."""

    SUOMI_FI = "suomifi"
    EMAIL = "email"
    LETTER = "letter"


class Channel(StrEnum):
    """How a message actually went out (``none``: no channel reached the person)."""

    SUOMI_FI = "suomifi"
    EMAIL = "email"
    LETTER = "letter"
    NONE = "none"


class MessageText(BaseModel):
    """A message as the person reads it: a title and paragraphs (why, and what to do next)."""

    language: Language
    title: str = Field(max_length=256)
    paragraphs: list[str]

    @property
    def body(self) -> str:
        return "\n\n".join(self.paragraphs)


@dataclass(frozen=True)
class MessageTemplate:
    """A message's words in one language, with ``{name}`` places for the case's facts."""

    title: str
    paragraphs: tuple[str, ...]

    def render(self, language: Language, **values: str) -> MessageText:
        return MessageText(language=language, title=self.title.format(**values), paragraphs=[p.format(**values) for p in self.paragraphs])


def choose_channel(*, mailbox_active: bool, preference: NotificationPreference, email: str | None, postal_address: object | None) -> Channel:
    """How a message goes out.

    An active Suomi.fi mailbox wins: public authorities deliver there first. Otherwise e-mail
    when one was given (a person who asked for a letter gets a letter when there is an
    address), else a paper letter to the permanent address, else nothing can be sent (the
    case is then with staff, who call or meet the person).
    """
    if mailbox_active:
        return Channel.SUOMI_FI
    if preference is NotificationPreference.LETTER and postal_address is not None:
        return Channel.LETTER
    if email is not None:
        return Channel.EMAIL
    if postal_address is not None:
        return Channel.LETTER
    return Channel.NONE


_MONTHS_EN = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December")


def format_date(day: date, language: Language) -> str:
    """Finnish and Swedish write 31.12.2031; English 31 December 2031 (no locale needed)."""
    if language is Language.EN:
        return f"{day.day} {_MONTHS_EN[day.month - 1]} {day.year}"
    return f"{day.day}.{day.month}.{day.year}"


__all__ = ["Channel", "Language", "MessageTemplate", "MessageText", "NotificationPreference", "choose_channel", "format_date"]
