"""The `medcite` command line: command groups registered here, errors turned into one-line messages here."""

from __future__ import annotations

import contextlib
import importlib
import logging
import sys

import typer
from pydantic import ValidationError

from medcite.cli import ingest_cmd, keys_cmd, purge_cmd, review_cmd, service_cmd
from medcite.errors import MedciteError

app = typer.Typer(
    name="medcite",
    help="Guideline-cited clinical answers, offline.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
ingest_cmd.register(app)
service_cmd.register(app)
keys_cmd.register(app)
review_cmd.register(app)
purge_cmd.register(app)
with contextlib.suppress(ModuleNotFoundError):  # eval's command group lands with the eval harness
    importlib.import_module("medcite.cli.eval_cmd").register(app)


def main() -> None:
    """Entry point: run the app; a MedciteError or refused setting becomes one line on stderr and exit 2."""
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    try:
        app()
    except MedciteError as exc:
        print(f"medcite: error: {exc}", file=sys.stderr)
        sys.exit(2)
    except ValidationError as exc:  # settings from MEDCITE_* variables or .env that their validators refuse
        problems = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors())
        print(f"medcite: error: invalid {exc.title}: {problems}", file=sys.stderr)
        sys.exit(2)
