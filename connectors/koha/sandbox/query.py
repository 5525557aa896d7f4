"""Koha's JSON query language (``q=``, ``x-koha-query``, request body) over in-memory rows.

swagger.yaml ``info.description``: a hash is AND, an array is OR, ``{"field": {"op": value}}``
with ``>``, ``<``, ``>=``, ``<=``, ``-like``, ``-not_like`` (plus ``=``, ``!=``, ``-in``,
``-not_in`` that SQL::Abstract also takes); related data by dot notation (``extended_attributes.code``).
Comparisons are case-insensitive like Koha's MySQL collation.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any


class InvalidQueryError(ValueError):
    """The query names an unknown field or operator."""


def matches(query: Any, row: Mapping[str, Any]) -> bool:
    if isinstance(query, list):
        return any(matches(part, row) for part in query)
    if not isinstance(query, dict):
        raise InvalidQueryError("a query is a JSON object or array")
    for key, condition in query.items():
        if key == "-and":
            if not all(matches(part, row) for part in _as_list(condition)):
                return False
        elif key == "-or":
            if not any(matches(part, row) for part in _as_list(condition)):
                return False
        elif key not in row:
            raise InvalidQueryError(f"unknown field {key!r}")
        elif not field_matches(row[key], condition):
            return False
    return True


def field_matches(value: Any, condition: Any) -> bool:
    if isinstance(condition, list):
        return any(field_matches(value, part) for part in condition)
    if isinstance(condition, dict):
        return all(_apply(op, value, operand) for op, operand in condition.items())
    return _equal(value, condition)


def like(value: Any, pattern: str) -> bool:
    """SQL LIKE: % any run, _ one character, case-insensitive."""
    if value is None:
        return False
    regex = "".join(".*" if ch == "%" else "." if ch == "_" else re.escape(ch) for ch in str(pattern))
    return re.fullmatch(regex, str(value), re.IGNORECASE | re.DOTALL) is not None


def _apply(op: str, value: Any, operand: Any) -> bool:
    if op in ("=", "-eq"):
        return _equal(value, operand)
    if op in ("!=", "<>", "-ne"):
        return not _equal(value, operand)
    if op == "-like":
        return like(value, operand)
    if op == "-not_like":
        return not like(value, operand)
    if op == "-in":
        return any(_equal(value, item) for item in _as_list(operand))
    if op == "-not_in":
        return not any(_equal(value, item) for item in _as_list(operand))
    if op in (">", "<", ">=", "<="):
        if value is None or operand is None:
            return False
        left, right = _pair(value, operand)
        return {">": left > right, "<": left < right, ">=": left >= right, "<=": left <= right}[op]
    raise InvalidQueryError(f"unknown operator {op!r}")


def _equal(value: Any, operand: Any) -> bool:
    if operand is None or value is None:
        return value is None and operand is None
    left, right = _pair(value, operand)
    return left == right


def _pair(value: Any, operand: Any) -> tuple[Any, Any]:
    """Numbers compare as numbers (an integer column against "5" too); text compares case-insensitively."""
    if isinstance(value, bool):
        value = int(value)
    if isinstance(operand, bool):
        operand = int(operand)
    if isinstance(value, (int, float)) or isinstance(operand, (int, float)):
        try:
            return float(value), float(operand)
        except (TypeError, ValueError):
            pass
    return str(value).casefold(), str(operand).casefold()


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]
