"""`medcite serve` and `medcite ask`."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.panel import Panel

from medcite.cli.common import IndexOption, LLMOption, settings_for

if TYPE_CHECKING:
    from medcite.config import Settings
    from service.models import Answer, Audience


def register(app: typer.Typer) -> None:
    """Add the service commands to the app."""

    @app.command()
    def serve(
        index: IndexOption = None,
        host: Annotated[str | None, typer.Option(help="Bind address (default from settings).")] = None,
        port: Annotated[int | None, typer.Option(help="Port (default from settings).")] = None,
        llm: LLMOption = None,
        workers: Annotated[int | None, typer.Option(min=1, max=64, help="Worker processes (default from settings).")]
        = None,
    ) -> None:
        """Run the HTTP API with uvicorn (several workers share the index folder and the database)."""
        import uvicorn

        from medcite.logs import log_config
        from service.api import create_app

        settings = settings_for(index, llm)
        count = workers or settings.api.workers
        options = {
            "host": host or settings.api.host,
            "port": port or settings.api.port,
            "log_config": log_config(json_lines=settings.api.log_json),
            # uvicorn waits this long for open requests after SIGTERM; SSE streams get api.shutdown_grace_s of it.
            "timeout_graceful_shutdown": int(settings.api.shutdown_grace_s) + 5,
        }
        if count == 1:
            uvicorn.run(create_app(settings), **options)  # type: ignore[arg-type]
            return
        # Workers are new processes that build their own app from the environment, so the CLI's options go there.
        _export(settings)
        uvicorn.run("service.api.app:create_app_from_env", factory=True, workers=count, **options)  # type: ignore[arg-type]

    @app.command()
    def ask(
        question: Annotated[str, typer.Argument(help="The question.")],
        index: IndexOption = None,
        audience: Annotated[str, typer.Option(help="clinician or patient.")] = "clinician",
        as_json: Annotated[bool, typer.Option("--json", help="Print the answer as JSON.")] = False,
        llm: LLMOption = None,
    ) -> None:
        """Answer one question and print it in the page's shape."""
        from medcite.errors import InvalidInputError
        from service import AnswerService
        from service.api.schemas import AnswerOut

        if audience not in ("clinician", "patient"):
            raise InvalidInputError(f"--audience must be clinician or patient, not {audience!r}")
        reader: Audience = "patient" if audience == "patient" else "clinician"
        service = AnswerService(settings_for(index, llm))
        try:
            answer = service.ask(question, audience=reader)
        finally:
            service.close()
        if as_json:
            typer.echo(json.dumps(AnswerOut.from_answer(answer).model_dump(mode="json"), indent=2, ensure_ascii=False))
            return
        _print(answer)


def _export(settings: Settings) -> None:
    """Put the CLI's --index and --llm into the environment, and give the workers' metrics a shared folder."""
    import os
    import shutil
    import tempfile

    os.environ["MEDCITE_INDEX_DIR"] = str(settings.storage.index_dir)
    llm = settings.llm
    os.environ["MEDCITE_LLM__PROVIDER"] = llm.provider
    os.environ["MEDCITE_LLM__MODEL"] = llm.model
    if llm.base_url:
        os.environ["MEDCITE_LLM__BASE_URL"] = llm.base_url
    folder = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if folder:  # values left by an earlier run would be added to this one's
        shutil.rmtree(folder, ignore_errors=True)
        os.makedirs(folder)
    else:
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="medcite-metrics-")


def _print(a: Answer) -> None:
    """The answer in the page's shape, from the domain Answer."""
    from service.texts import NOT_COVERED

    console = Console()
    console.print(f"[bold]{escape(a.question)}[/bold]")
    console.print(
        f"[yellow]{escape(a.pending_review)}[/yellow]  status: {a.review_status.value}"
        + (f"  · last updated {a.last_updated}" if a.last_updated else "")
    )
    if a.abstained:
        console.print(Panel(escape(a.abstention_reason or NOT_COVERED),
                            title="Not covered"))
        if a.nearest_topics:
            console.print("Nearest topics covered: " + "; ".join(a.nearest_topics))
    else:
        console.print(Panel(escape(a.summary), title=f"Answer ({a.composer})"))
        for kp in a.key_points:
            console.print(f"[bold]{escape(kp.heading)}[/bold]")
            for item in kp.items:
                marks = "".join(f"[{n}]" for n in item.citations)
                console.print(f"  • {escape(item.text)} {escape(marks)}")
        console.print("[bold]References[/bold]")
        for r in a.references:
            flag = f" (superseded by {r.superseded_by})" if r.superseded_by else ""
            link = " ".join(_links(r.url, list(r.dois) or ([r.doi] if r.doi else [])))
            console.print(
                f"  {r.number}. {escape(r.issuer)} {r.year or ''}. {escape(r.title)}. {escape(r.version)}{flag} {link}"
            )
    for note in a.notes:
        console.print(f"[yellow]{escape(note)}[/yellow]")
    console.print(f"[dim]{escape(a.disclaimer)}[/dim]")


def _links(url: str, dois: list[str]) -> list[str]:
    """The reference's URL, then a doi.org link for every DOI the URL is not already."""
    links = [url] if url else []
    for doi in dois:
        link = f"https://doi.org/{doi}"
        if link not in links:
            links.append(link)
    return links
