"""The Suomi.fi Messages API password: where workers read it, and its crash-safe rotation.

``passwords.py``: :class:`ViestitPasswords` (current and pending in a secret store) and
:func:`viestit_client`, the client every process uses, which reads them at each token fetch.
``rotation.py``: :class:`PasswordRotation`, pending → ``/v1/change-password`` → current.
"""

from processes.viestit_password.passwords import ViestitPasswords, viestit_client
from processes.viestit_password.rotation import PasswordRotation, RotationOutcome, RotationResult, new_password

__all__ = ["PasswordRotation", "RotationOutcome", "RotationResult", "ViestitPasswords", "new_password", "viestit_client"]
