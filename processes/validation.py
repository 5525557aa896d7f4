"""Naming what a pydantic model refused without repeating it: the values are personal data."""

from __future__ import annotations

from pydantic import ValidationError


def problems(error: ValidationError) -> str:
    """Field paths and error codes, never the values."""
    return ", ".join(f"{'.'.join(map(str, e['loc'])) or '(whole)'} ({e['type']})" for e in error.errors(include_input=False))
