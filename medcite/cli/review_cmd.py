"""`medcite review list|show|claim|approve|request-changes|retract` and `medcite audit export`, run locally on
the answers' database; the actor recorded is `--as NAME` (default: the OS user)."""

from __future__ import annotations

import getpass
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from medcite.cli.common import IndexOption, settings_for

if TYPE_CHECKING:
    from service.models import ReviewStatus
    from service.workflow import ReviewWorkflow

review = typer.Typer(help="Medical review of stored answers (local database).", no_args_is_help=True)
audit = typer.Typer(help="The review audit trail.", no_args_is_help=True)

AnswerId = Annotated[str, typer.Argument(help="The answer's id.")]
NoteOption = Annotated[str, typer.Option("--note", help="Why; kept in the audit trail.")]
AsOption = Annotated[str | None, typer.Option("--as", help="Who is acting (default: the OS user).")]


def register(app: typer.Typer) -> None:
    """Add the review and audit command groups to the app."""
    app.add_typer(review, name="review")
    app.add_typer(audit, name="audit")


def _workflow(index: Path | None) -> ReviewWorkflow:
    """The workflow on the configured database; the index's document hashes when an index exists."""
    from ingest.store import ChunkStore
    from service.conversations import ConversationStore
    from service.workflow import ReviewWorkflow

    settings = settings_for(index)
    store_path = Path(settings.storage.index_dir) / "store.sqlite"

    def hashes() -> dict[str, str]:
        chunks = ChunkStore(store_path, create=False)
        try:
            return {d: h for d, (h, _) in chunks.document_hashes().items()}
        finally:
            chunks.close()

    return ReviewWorkflow(ConversationStore(settings.conversations_url),
                          hashes=hashes if store_path.exists() else None,
                          max_note_chars=settings.review.max_note_chars)


def _actor(name: str | None) -> str:
    if name and name.strip():
        return name.strip()
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no user name in a bare container
        return "cli"


def _move(answer_id: str, status: ReviewStatus, note: str, actor: str | None, index: Path | None) -> None:
    workflow = _workflow(index)
    entry = workflow.transition(answer_id, status, actor=_actor(actor), note=note)
    typer.echo(f"{answer_id}: {entry.from_status.value} → {entry.to_status.value} (by {entry.actor})")


@review.command("list")
def list_queue(
    state: Annotated[str | None, typer.Option("--state", help="Only answers in this state.")] = None,
    topic: Annotated[str, typer.Option("--topic", help="Substring of the topic.")] = "",
    guideline: Annotated[str, typer.Option("--guideline", help="A cited document id.")] = "",
    audience: Annotated[str, typer.Option("--audience", help="clinician or patient.")] = "",
    unsafe: Annotated[bool, typer.Option("--unsafe", help="Only answers rated unsafe.")] = False,
    limit: Annotated[int, typer.Option("--limit", min=1, max=10_000)] = 100,
    index: IndexOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per line.")] = False,
) -> None:
    """Answers to review, oldest first; `!` marks answers a reader rated unsafe."""
    from medcite.errors import InvalidInputError
    from service.models import ReviewStatus
    from service.review import QueueFilter

    try:
        wanted = ReviewStatus(state) if state else None
    except ValueError:
        raise InvalidInputError(f"unknown state {state!r}; states: {', '.join(s.value for s in ReviewStatus)}"
                                ) from None
    workflow = _workflow(index)
    if workflow.hashes is not None:
        workflow.sweep()
    items = workflow.store.queue(QueueFilter(state=wanted, topic=topic, guideline=guideline, audience=audience,
                                             unsafe_only=unsafe, limit=limit))
    if as_json:
        from service.api.review_schemas import QueueItemOut

        for q in items:
            typer.echo(QueueItemOut.from_item(q).model_dump_json())
        return
    table = Table("", "id", "state", "created", "audience", "topic", "question")
    for q in items:
        table.add_row("!" if q.unsafe else "", q.answer_id, q.status.value, q.created_at, q.audience,
                      escape(q.topic), escape(q.question))
    Console(width=200).print(table)


@review.command("show")
def show(answer_id: AnswerId, index: IndexOption = None,
         as_json: Annotated[bool, typer.Option("--json", help="As GET /v1/reviews/{id} returns it.")] = False) -> None:
    """One answer: each sentence beside the passages it cites, the allowed moves and the trail."""
    workflow = _workflow(index)
    view = workflow.view(answer_id)
    feedback = workflow.store.feedback(answer_id)
    from service.api.review_schemas import ReviewOut, sentence_reviews

    if as_json:
        typer.echo(ReviewOut.from_view(view, feedback).model_dump_json(indent=2))
        return
    a = view.answer
    console = Console(width=160, highlight=False)
    console.print(f"[bold]{escape(a.question)}[/bold]  ({a.audience}; topic {escape(view.topic) or '-'})")
    moves = ", ".join(s.value for s in view.allowed) or "none"
    console.print(f"state: {a.review_status.value}; allowed next: {moves}")
    for s in sentence_reviews(a):
        console.print(f"\n[bold]{s.number}.[/bold] {escape(s.text)} {escape(str(s.citations))}")
        for q in s.quotes[:3]:
            mark = "=" if q.matches else " "
            console.print(f"   {mark} [{q.number}] {escape(q.doc_id)} § {escape(q.section)}: {escape(q.text)}")
    console.print("\n[bold]Audit[/bold]")
    for e in view.audit:
        console.print(f"  {e.at} {escape(e.actor)}: {e.from_status.value} → {e.to_status.value} ({e.action.value})"
                      + (f" — {escape(e.note)}" if e.note else ""))
    unsafe = sum(f.rating.value == "unsafe" for f in feedback)
    if feedback:
        console.print(f"\nfeedback: {len(feedback)} ratings, {unsafe} unsafe")


# The moves a reviewer makes from the command line: (command, target state's name in ReviewStatus, help).
MOVES = (
    ("claim", "UNDER_REVIEW", "submitted or changes_requested → under_review."),
    ("approve", "APPROVED", "under_review → approved (records the cited guidelines' content hashes from the index)."),
    ("request-changes", "CHANGES_REQUESTED", "under_review → changes_requested."),
    ("retract", "RETRACTED", "approved → retracted (no longer served as approved)."),
    ("resubmit", "SUBMITTED", "changes_requested or retracted → submitted (back in the queue)."),
)


def _move_command(target: str) -> Callable[..., None]:
    """A command that moves one answer to the ReviewStatus named target."""

    def command(answer_id: AnswerId, note: NoteOption = "", as_: AsOption = None, index: IndexOption = None) -> None:
        from service.models import ReviewStatus

        _move(answer_id, ReviewStatus[target], note, as_, index)

    return command


for _name, _target, _help in MOVES:
    review.command(_name, help=_help)(_move_command(_target))


@audit.command("export")
def export(
    output: Annotated[Path | None, typer.Option("--output", "-o", help="File to write (default: stdout).")] = None,
    index: IndexOption = None,
) -> None:
    """The whole audit trail as JSON Lines, oldest first."""
    from service.api.review_schemas import AuditEntryOut

    workflow = _workflow(index)
    out = output.open("w", encoding="utf-8") if output else sys.stdout
    try:
        for e in workflow.store.audit_all():
            out.write(json.dumps(AuditEntryOut.from_entry(e).model_dump(mode="json"), ensure_ascii=False) + "\n")
    finally:
        if output:
            out.close()
