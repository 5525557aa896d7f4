"""Shared by the hostile-input tests: one reproducible hypothesis setting, and the text strategies.

Every property test here is derandomized (the same examples on every run and in CI), has no
deadline (CI machines are slow and shared) and a small, fixed example budget so the whole
folder stays well under a minute.
"""

from __future__ import annotations

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

#: The setting every property test in tests/hostile uses (``@settings(PROPERTY, max_examples=…)`` to change the budget).
PROPERTY = settings(
    max_examples=60,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)

#: Markup an attacker would try in any text field.
MARKUP = (
    "<script>alert(1)</script>",
    '"><script>alert(document.cookie)</script>',
    "<img src=x onerror=alert(1)>",
    "</textarea><svg onload=alert(1)>",
    "javascript:alert(1)",
    "{{ 7*7 }}",
    "{% raw %}",
    "&lt;script&gt;",
)

#: Characters that are not text a person types: C0/C1 controls, surrogates, direction overrides, BOM.
UNUSABLE = "\x00\x07\x1b\x7f\x85\x9f\ud800\udfff\u202a\u202e\u2066\u2069\ufeff\ufffe\uffff"

#: Unicode text a name may hold: letters of any script, marks, digits, punctuation, symbols, spaces.
NAME_CHARACTERS = st.characters(
    categories=("L", "M", "N", "P", "S", "Zs"), exclude_characters="\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\ufeff\ufffe\uffff"
)


def names(min_size: int = 1, max_size: int = 100) -> st.SearchStrategy[str]:
    """Names of any script with at least one visible character, at most ``max_size`` long once spaces are collapsed."""
    return st.text(NAME_CHARACTERS, min_size=min_size, max_size=max_size).filter(lambda text: bool(text.split()))
