"""Test-only keyword that receives personal data as an argument and logs it through Python logging."""

import logging


def take_identity_code_as_argument(code: str) -> None:
    logging.getLogger("connectors.test").warning("python logging inside the robot: %s", code)
    print(f"print inside the robot: {code}")
