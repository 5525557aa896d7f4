"""Keep pysaml2's log lines free of the decrypted assertion.

pysaml2 logs whole messages as arguments: the decrypted attribute statement at DEBUG, unknown
attributes with their values at INFO, and the complete assertion at ERROR when its signature
fails ("Failed to verify signature on '%s'"), i.e. exactly when someone tampers with it. The
hetu, names and addresses would end up in every handler. :func:`install` wraps the log record
factory (as ``schemas.redaction.install`` does) so that a record from a ``saml2`` logger keeps
its fixed format string but loses its arguments and traceback. The SP's own log lines say what
happened, without personal data. Messages pysaml2 formats itself (f-strings) are cut at the first
``": "``, where its messages put the value.
"""

from __future__ import annotations

import logging
from typing import Any

_MARK = "_kuntaflow_saml_guard"
WITHHELD = " [pysaml2 details withheld: they may hold personal data]"


def install() -> None:
    """Strip the arguments of every ``saml2.*`` log record. Idempotent; process-wide."""
    previous = logging.getLogRecordFactory()
    if getattr(previous, _MARK, False):
        return  # (wrapped again by another factory later, a second guard is harmless)

    def factory(name: str, level: int, fn: str, lno: int, msg: Any, args: Any, exc_info: Any, *rest: Any, **kwargs: Any) -> logging.LogRecord:
        if name == "saml2" or name.startswith("saml2."):
            msg = _withheld(msg, bool(args or exc_info))
            args, exc_info = None, None
        return previous(name, level, fn, lno, msg, args, exc_info, *rest, **kwargs)

    setattr(factory, _MARK, True)
    logging.setLogRecordFactory(factory)


def _withheld(msg: Any, had_details: bool) -> str:
    """The fixed part of a pysaml2 message: its format string, or for an already formatted
    (f-string) message the label before the first ': ', where pysaml2 puts the value."""
    text = str(msg)
    label, colon, rest = text.partition(": ")
    if colon and rest:
        return f"{label}:{WITHHELD}"
    return f"{text}{WITHHELD}" if had_details else text
