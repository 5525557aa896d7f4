"""Alembic's environment for the work-item queue.

Configured in code by ``kuntaflow.workitems.migrate`` (no ``alembic.ini``): it hands over an open
connection, already in the transaction that holds the schema lock, so the check for a database
made before migrations, the stamp and the upgrade are one atomic step.
"""

from alembic import context

from kuntaflow.workitems.schema import metadata

if context.is_offline_mode():
    raise RuntimeError("the work-item queue is migrated online only: use `kuntaflow db upgrade`")

context.configure(connection=context.config.attributes["connection"], target_metadata=metadata)
with context.begin_transaction():
    context.run_migrations()
