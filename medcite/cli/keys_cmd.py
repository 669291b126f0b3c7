"""`medcite keys create|list|revoke`: API keys in the answers' database."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.table import Table

from medcite.cli.common import IndexOption, settings_for

if TYPE_CHECKING:
    from service.keys import KeyStore

keys = typer.Typer(help="API keys: roles reviewer, admin, site.", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    """Add the keys command group to the app."""
    app.add_typer(keys, name="keys")


def _store(index: IndexOption) -> KeyStore:
    from service.keys import KeyStore
    from service.tables import open_engine

    return KeyStore(open_engine(settings_for(index).conversations_url))


@keys.command("create")
def create(
    role: Annotated[str, typer.Option("--role", help="reviewer, admin or site.")],
    name: Annotated[str, typer.Option("--name", help="Who holds it; the audit trail names them by it.")],
    origin: Annotated[list[str] | None, typer.Option(
        "--origin", help="Site keys: a browser origin allowed to use it, e.g. https://intranet.example "
        "(repeat for more; a site key without origins answers no one).")] = None,
    index: IndexOption = None,
) -> None:
    """Create a key and print it once (only its argon2 hash is stored)."""
    from service.keys import parse_role

    new = _store(index).create(parse_role(role), name, origin or ())
    typer.echo(f"created {new.info.role.value} key {new.info.name!r} (id {new.info.id}); "
               "store it now, it is not shown again:", err=True)
    if new.info.role.value == "site" and not new.info.origins:
        typer.echo("warning: this site key lists no origins, so it answers no one; create one with --origin",
                   err=True)
    typer.echo(new.key)


@keys.command("list")
def list_keys(
    index: IndexOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per line.")] = False,
) -> None:
    """List keys (never their secrets), revoked ones included."""
    infos = _store(index).list()
    if as_json:
        for k in infos:
            typer.echo(json.dumps({"id": k.id, "name": k.name, "role": k.role.value, "created_at": k.created_at,
                                   "revoked_at": k.revoked_at, "origins": list(k.origins)}, ensure_ascii=False))
        return
    table = Table("id", "name", "role", "created", "revoked", "origins")
    for k in infos:
        table.add_row(k.id, k.name, k.role.value, k.created_at, k.revoked_at or "-", " ".join(k.origins) or "-")
    Console(width=160).print(table)


@keys.command("revoke")
def revoke(
    name_or_id: Annotated[str, typer.Argument(help="The key's id or its holder's name.")],
    index: IndexOption = None,
) -> None:
    """Revoke a key: requests with it get 401 from now on."""
    info = _store(index).revoke(name_or_id)
    typer.echo(f"revoked {info.role.value} key {info.name!r} (id {info.id})")
