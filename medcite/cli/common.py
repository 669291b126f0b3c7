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


LLMOption = Annotated[
    str | None,
    typer.Option("--llm", help="LLM composer as PROVIDER:MODEL@URL, e.g. openai:llama3.1@http://127.0.0.1:11434/v1 "
                 "(default: MEDCITE_LLM__* settings; none = extractive)."),
]


def settings_for(index: Path | None, llm: str | None = None) -> Settings:
    """Settings with the CLI's --index and --llm applied."""
    settings = get_settings().with_index(index)
    if llm:
        from service.llm import apply_spec

        settings = settings.model_copy(update={"llm": apply_spec(settings.llm, llm)})
    return settings


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
