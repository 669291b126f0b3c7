"""Helpers shared by the CLI command groups."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from medcite.config import Settings, get_settings

IndexOption = Annotated[
    Path | None, typer.Option("--index", help="Index folder (default: MEDCITE_INDEX_DIR or .medcite/index).")
]


def settings_for(index: Path | None) -> Settings:
    """Settings with the CLI's --index applied."""
    return get_settings().with_index(index)


class RichProgress:
    """Adapter from the ingest Progress protocol to a rich progress bar."""

    def __init__(self, progress: Progress) -> None:
        self._progress = progress
        self._task: int | None = None

    def start(self, total: int, description: str) -> None:
        self._task = self._progress.add_task(description, total=total)

    def advance(self, n: int) -> None:
        if self._task is not None:
            self._progress.advance(self._task, n)  # type: ignore[arg-type]


def rich_progress() -> Progress:
    """A progress display on stderr."""
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        transient=True,
    )
