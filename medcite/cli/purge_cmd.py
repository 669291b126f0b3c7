"""`medcite purge`: delete conversations past the retention period (approved answers and the audit trail stay)."""

from __future__ import annotations

from typing import Annotated

import typer

from medcite.cli.common import IndexOption, settings_for
from medcite.errors import InvalidInputError


def register(app: typer.Typer) -> None:
    """Add the purge command to the app."""
    app.command("purge")(purge)


def purge(
    days: Annotated[int | None, typer.Option("--days", help="Age in days (default: MEDCITE_API__RETENTION_DAYS).")]
    = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Count what would go; delete nothing.")] = False,
    index: IndexOption = None,
) -> None:
    """Delete conversations older than N days with their answers, except approved answers."""
    from service import retention
    from service.tables import open_engine

    settings = settings_for(index)
    days = days if days is not None else settings.api.retention_days
    if days is None:
        raise InvalidInputError("give --days N or set MEDCITE_API__RETENTION_DAYS")
    engine = open_engine(settings.conversations_url)
    try:
        report = retention.purge(engine, days, dry_run=dry_run)
    finally:
        engine.dispose()
    verb = "would delete" if dry_run else "deleted"
    typer.echo(f"{verb} {report.conversations} conversations and {report.answers} answers created before "
               f"{report.cutoff}; kept {report.kept} approved answers")
