"""Alembic migrations of the work-item queue's tables; run them with ``kuntaflow.workitems.migrate``."""
