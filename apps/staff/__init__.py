"""The staff app: small pages for city employees that a flow sends them to (the supervisor's confirmation link)."""

from apps.staff.app import create_app

__all__ = ["create_app"]
