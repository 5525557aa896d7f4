"""E-mail addresses as Kuntaflow accepts them: on a citizen's form, in settings and on a message."""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import AfterValidator

_ADDRESS = re.compile(r"^[^@\s<>()\[\],;:\"]{1,64}@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$")


def check_address(value: str) -> str:
    """A plain ASCII ``local@domain`` address (no display name), trimmed.

    Raises:
        ValueError: not an address; the value is not repeated in the message.
    """
    text = value.strip()
    if len(text) > 254 or not text.isascii() or not _ADDRESS.match(text):
        raise ValueError("not an e-mail address of the form local@domain.tld")
    return text


Address = Annotated[str, AfterValidator(check_address)]
