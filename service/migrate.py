"""Bring the answers' database to the newest schema with Alembic (tables created, altered, never dropped).

A database that `create_all` made before migrations existed has tables but no `alembic_version`; revision 0001
creates only the tables it lacks, so such a database is adopted with its rows, stamped 0001 and upgraded.
"""

from __future__ import annotations

import logging
from pathlib import Path

from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection, Engine

log = logging.getLogger(__name__)
SCRIPTS = Path(__file__).resolve().parent / "migrations"
_LOCK = 7_240_113  # PostgreSQL advisory lock id: two processes starting at once migrate one after the other


def _config(connection: Connection) -> object:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(SCRIPTS))
    config.attributes["connection"] = connection
    return config


def head() -> str:
    """The newest revision shipped."""
    from alembic.script import ScriptDirectory

    revision = ScriptDirectory(str(SCRIPTS)).get_current_head()
    assert revision is not None
    return revision


def current(engine: Engine) -> str | None:
    """The revision the database is at; None before any migration ran."""
    from alembic.migration import MigrationContext

    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Apply every revision the database lacks, in one transaction where the database allows it."""
    from alembic import command

    with engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            connection.execute(text("SELECT pg_advisory_xact_lock(:id)"), {"id": _LOCK})
        elif connection.dialect.name == "sqlite":
            # SQLite's driver runs DDL outside any transaction, so two workers starting on a new file would both
            # see no tables and both create them. Holding the write lock first makes them migrate in turn; the
            # second finds the schema at head.
            connection.exec_driver_sql("PRAGMA busy_timeout = 60000")
            connection.exec_driver_sql("BEGIN IMMEDIATE")
        tables = set(inspect(connection).get_table_names())
        if "alembic_version" not in tables and "answers" in tables:
            log.info("adopting a database created before migrations (%d tables); upgrading it", len(tables))
        command.upgrade(_config(connection), revision)  # type: ignore[arg-type]
