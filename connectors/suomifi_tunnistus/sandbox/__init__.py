"""Sandbox Suomi.fi e-Identification IdP: ``create_app()`` builds the FastAPI app, :class:`TestIdP` the IdP.

``TITLE``, ``DESCRIPTION`` and ``PAGES`` are what ``connectors.sandbox_server`` shows on its index
page. The app is imported lazily, so the SP can read the sandbox IdP's metadata without FastAPI.
"""

from __future__ import annotations

from typing import Any

TITLE = "Suomi.fi-tunnistus · Suomi.fi-identifikation · Suomi.fi e-Identification"
DESCRIPTION = (
    "SAML 2.0 IdP shaped like Suomi.fi: signed AuthnRequests, signed and AES-GCM encrypted assertions, "
    "single logout both ways; fictional test persons (adults, a guardian with a 15- and a 10-year-old, "
    "a non-disclosure marking, an eIDAS user, no e-mail, no Messages mailbox)."
)
#: (label, path inside the sandbox) for people to open.
PAGES = (
    ("Testihenkilöt · Testpersoner · Test persons", "/"),
    ("IdP metadata", "/static/metadata/idp-metadata.xml"),
    ("API docs", "/docs"),
)

__all__ = ["DESCRIPTION", "PAGES", "TITLE", "TestIdP", "client_environment", "create_app"]


def client_environment(base_url: str) -> dict[str, str]:
    """Settings that make the e-service's Suomi.fi SP trust this sandbox IdP served at ``base_url``
    (its entityID and endpoints derive from the URL, so the IdP must be built with them set too)."""
    return {"KUNTAFLOW_SUOMIFI_IDP_METADATA": "sandbox", "KUNTAFLOW_SUOMIFI_SANDBOX_IDP_URL": base_url.rstrip("/")}


def __getattr__(name: str) -> Any:
    if name in ("create_app", "SuomiFiSandboxSettings"):
        from connectors.suomifi_tunnistus.sandbox import app  # noqa: PLC0415 (lazy: importing the package must not load FastAPI)

        return getattr(app, name)
    if name == "TestIdP":
        from connectors.suomifi_tunnistus.sandbox.idp import TestIdP  # noqa: PLC0415 (lazy: importing the package must not load FastAPI)

        return TestIdP
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
