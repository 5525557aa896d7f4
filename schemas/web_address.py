"""Public web addresses in settings: absolute http(s), no query or fragment, no trailing slash.

Links in e-mails and SAML/OIDC redirect addresses are built by appending paths to such an
address, so one that is relative, carries a query or ends in a slash would build broken links.
"""

from __future__ import annotations

from urllib.parse import urlsplit


def public_base_url(value: str, *, setting: str, example: str) -> str:
    """``value`` without its trailing slash; ValueError naming ``setting`` when it cannot be a base address."""
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError(f"{setting} must be an absolute http(s) URL, e.g. {example}")
    if parts.query or parts.fragment:
        raise ValueError(f"{setting} must not carry a query or fragment")
    return value.rstrip("/")


def same_site_path(candidate: str | None, *, default: str = "/") -> str:
    """``candidate``'s path and query if it is a path on this site (``/tapaukset?x=1``), else ``default``.

    Where a person is sent back to (after sign-in, a language switch) comes from the request, so
    it must not leave the site: absolute URLs, scheme-relative ``//host``, backslash tricks
    (``/\\host``) and control characters give ``default``.
    """
    if not candidate or not candidate.startswith("/") or candidate.startswith("//") or "\\" in candidate:
        return default
    if any(ord(character) < 32 or ord(character) == 127 for character in candidate):
        return default
    parts = urlsplit(candidate)
    if parts.scheme or parts.netloc:
        return default
    return parts.path + (f"?{parts.query}" if parts.query else "")
