"""Alembic revisions of the answers' database; `service.migrate` applies them (no alembic.ini needed)."""
