"""`medcite ingest` and `medcite stats`."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from medcite.cli.common import IndexOption, RichProgress, rich_progress, settings_for


def register(app: typer.Typer) -> None:
    """Add the ingest commands to the app."""

    @app.command()
    def ingest(
        paths: Annotated[list[Path], typer.Argument(help="Files or folders to ingest.")],
        index: IndexOption = None,
        prune: Annotated[bool, typer.Option("--prune", help="Remove indexed documents not in PATHS.")] = False,
    ) -> None:
        """Embed documents into the index; unchanged documents are skipped, changed ones replaced."""
        from ingest import ingest_paths

        settings = settings_for(index)
        console = Console(stderr=True)
        with rich_progress() as bar:
            report = ingest_paths(paths, settings=settings, prune=prune, progress=RichProgress(bar))
        typer.echo(
            f"documents: {report.added} added, {report.updated} updated, {report.unchanged} unchanged, "
            f"{report.removed} removed, {len(report.failures)} failed; chunks written: {report.chunks_written}"
        )
        for failure in report.failures:
            console.print(f"[red]failed[/red] {failure.source}: {failure.reason}", highlight=False)
        if not report.ok:
            raise typer.Exit(1)

    @app.command()
    def stats(
        index: IndexOption = None,
        as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    ) -> None:
        """Documents, chunks, counts per issuer, specialty and year, model and dimension."""
        from ingest import Index

        idx = Index.open(settings_for(index))
        try:
            result = idx.stats()
        finally:
            idx.close()
        if as_json:
            typer.echo(json.dumps(dataclasses.asdict(result), indent=2))
            return
        console = Console()
        console.print(
            f"index {result.index_dir}: {result.documents} documents, {result.chunks} chunks, "
            f"{result.vectors} vectors; model {result.model} ({result.dim} dims); "
            f"keyword index {'in step' if result.keyword_in_step else 'STALE'}"
        )
        for title, counts in (
            ("issuer", result.by_issuer),
            ("specialty", result.by_specialty),
            ("year", result.by_year),
            ("audience", result.by_audience),
        ):
            table = Table(title=f"documents by {title}")
            table.add_column(title)
            table.add_column("documents", justify="right")
            for key, value in counts.items():
                table.add_row(key, str(value))
            console.print(table)
