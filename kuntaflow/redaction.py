"""Masking of Finnish personal identity codes (henkilötunnus) in any text Kuntaflow writes.

One pattern serves every place: Python logging, Prefect logs, Robot Framework output, queue
error messages and operator views. It masks every century sign, including the letters
A–F and U–Y in use since 2023, and over-masks rather than miss a code.
"""

from __future__ import annotations

import re
from typing import Any

HETU_PATTERN = re.compile(r"(?<![0-9])[0-9]{6}[-+A-FU-Y][0-9]{3}[0-9A-Y]", re.IGNORECASE)
MASK = "******-****"


def redact(text: str) -> str:
    """Return ``text`` with every henkilötunnus-shaped substring masked."""
    return HETU_PATTERN.sub(MASK, text)


def redact_value(value: Any) -> Any:
    """Redact every string inside a JSON-like structure (dicts, lists, scalars)."""
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {redact(str(key)): redact_value(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [redact_value(item) for item in value]
    return value
