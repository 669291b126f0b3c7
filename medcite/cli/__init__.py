"""The `medcite` command line: command groups registered here, errors turned into one-line messages here."""

from __future__ import annotations

import logging
import sys

import typer

from medcite.cli import ingest_cmd
from medcite.errors import MedciteError

app = typer.Typer(
    name="medcite",
    help="Guideline-cited clinical answers, offline.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
ingest_cmd.register(app)

try:  # the answer service and eval register their commands when their packages are installed
    from medcite.cli import service_cmd

    service_cmd.register(app)
except ImportError:  # pragma: no cover
    pass
try:
    from medcite.cli import eval_cmd

    eval_cmd.register(app)
except ImportError:  # pragma: no cover
    pass


def main() -> None:
    """Entry point: run the app; a MedciteError becomes one line on stderr and exit status 2."""
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    try:
        app()
    except MedciteError as exc:
        print(f"medcite: error: {exc}", file=sys.stderr)
        sys.exit(2)
