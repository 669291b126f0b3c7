"""Alembic environment: runs on the connection `service.migrate` hands over, never on a URL of its own."""

from alembic import context

connection = context.config.attributes["connection"]
context.configure(connection=connection, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
