"""The e-service's pages, one router per part of the citizen's way: start and language, Suomi.fi login, the application, its status."""

from __future__ import annotations

from apps.eservice.routes.application import application
from apps.eservice.routes.login import login
from apps.eservice.routes.start import language, start
from apps.eservice.routes.status import status

#: In the order the app includes them.
ROUTERS = (start, language, login, application, status)

__all__ = ["ROUTERS"]
