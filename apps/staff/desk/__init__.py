"""Kuntaflow Desk: where staff handle the cases the robots hand to people (README.md)."""

from apps.staff.desk.actions import actions
from apps.staff.desk.views import pages

#: The Desk's routes, pages first (a fixed path before a case's number).
ROUTERS = (pages, actions)

__all__ = ["ROUTERS"]
