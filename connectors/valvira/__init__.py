"""Professional register lookup (Valvira's JulkiTerhikki/JulkiSuosikki-like): rights to practise by registration number or name + birth date."""

from connectors.valvira.client import ValviraClient
from connectors.valvira.errors import ValviraAuthenticationError, ValviraUnavailableError
from connectors.valvira.models import Professional, RightStatus, RightToPractise
from connectors.valvira.settings import ValviraSettings

__all__ = ["Professional", "RightStatus", "RightToPractise", "ValviraAuthenticationError", "ValviraClient", "ValviraSettings", "ValviraUnavailableError"]
