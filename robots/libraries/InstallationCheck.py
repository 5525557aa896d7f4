"""Keywords of the installation check: small, verifiable cases that exercise every engine path.

Each case is real work with a checkable answer (the check digit of a Finnish reference number,
a sum of invoice rows, a payment matched to its invoice, a synthetic person's identity code
validated and logged) so a city's IT team can
see queue → flow → robot → checkpoints → outcomes work on their machine, including a business
failure, a transient failure retried on the next attempt, and a log line that gets masked.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from robot.api import logger
from robot.api.deco import keyword, library

from connectors.errors import BusinessRuleError, TransientError

CHECK_CHARS = "0123456789ABCDEFHJKLMNPRSTUVWXY"


def reference_number_is_valid(reference: str) -> bool:
    """Finnish bank reference (viitenumero): weights 7, 3, 1 from the right, check digit last."""
    digits = reference.replace(" ", "")
    if not digits.isdigit() or not 4 <= len(digits) <= 20:
        return False
    weights = (7, 3, 1)
    total = sum(int(d) * weights[i % 3] for i, d in enumerate(reversed(digits[:-1])))
    return (10 - total % 10) % 10 == int(digits[-1])


def identity_code_is_valid(code: str) -> bool:
    """Checksum of a henkilötunnus-shaped code (the engine's own check; schemas.Hetu is the full one)."""
    if len(code) != 11 or not code[:6].isdigit() or not code[7:10].isdigit():
        return False
    return CHECK_CHARS[int(code[:6] + code[7:10]) % 31] == code[10]


@library(scope="GLOBAL", auto_keywords=False)
class InstallationCheck:
    """Business steps of the installation check."""

    @keyword("Check Invoice")
    def check_invoice(self, case: dict[str, Any]) -> dict[str, str]:
        """Validate the reference number and that the rows add up to the total."""
        if not reference_number_is_valid(str(case["reference_number"])):
            raise BusinessRuleError("the invoice's reference number fails its check digit", code="INVALID_REFERENCE")
        total = sum(Decimal(str(row)) for row in case["rows"])
        if total != Decimal(str(case["total"])):
            raise BusinessRuleError(f"the rows add up to {total}, not {case['total']}", code="TOTAL_MISMATCH")
        return {"total": str(total)}

    @keyword("Match Payment To Invoice")
    def match_payment_to_invoice(self, case: dict[str, Any], attempt: int) -> dict[str, str]:
        """Ask the bank for the payment and match it to the invoice.

        The sample bank is down until the case's ``bank_answers_from_attempt``: the first attempt
        fails as a TransientError and the queue must retry the item.
        """
        if int(attempt) < int(case["bank_answers_from_attempt"]):
            raise TransientError(f"the bank's payment service answered 503 on attempt {attempt}", code="BANK_UNAVAILABLE", status_code=503)
        invoice = self.check_invoice(case)
        if Decimal(str(case["paid"])) != Decimal(invoice["total"]):
            raise BusinessRuleError(f"{case['paid']} was paid against a total of {invoice['total']}", code="PAYMENT_MISMATCH")
        return {**invoice, "paid": str(Decimal(str(case["paid"]))), "answered_on_attempt": str(attempt)}

    @keyword("Check Person")
    def check_person(self, case: dict[str, Any]) -> dict[str, bool]:
        """Validate a synthetic person's identity code; the log line must come out masked."""
        code = case["identity_code"]
        logger.info(f"Checking the identity code {code} of the sample person")
        if not identity_code_is_valid(code):
            raise BusinessRuleError("the identity code fails its checksum", code="INVALID_IDENTITY_CODE")
        return {"identity_code_valid": True}
