"""`medcite eval`: offline retrieval, answer, citation and abstention metrics against gold sets; `medcite eval
support` and `medcite eval tune`: the statement judge's calibration and the fusion-weight sweep."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from medcite.cli.common import LLMOption, RichProgress, rich_progress, settings_for
from medcite.config import Settings


def _table(rows: list[dict[str, object]], set_name: str) -> Table:
    group = [r for r in rows if r["set"] == set_name]
    table = Table(title=f"{set_name} ({group[0]['questions']} questions, {group[0]['out_of_scope']} out of scope)")
    table.add_column("metric")
    for row in group:
        table.add_column(str(row["system"]), justify="right")
    skip = {"system", "set", "questions", "out_of_scope"}
    for metric in dict.fromkeys(k for r in group for k in r if k not in skip):
        values = [r.get(metric) for r in group]
        table.add_row(metric, *("–" if not isinstance(v, float) else f"{v:.3f}" if v < 10 else f"{v:.0f}"
                                for v in values))
    return table


def _verifier_agreement(settings: Settings, out: Path) -> None:
    """Print and write the verifier's agreement with the hand labels (current settings and dev calibration)."""
    from eval.guideline import DEFAULT_CORPUS
    from eval.verifier import PAIRS, agreement, calibrate, corpus_vocabulary, load_pairs, verify_pairs
    from ingest import SentenceTransformerEmbedder
    from service.verify import Verifier

    embedder = SentenceTransformerEmbedder(settings.embedding)
    vocabulary = corpus_vocabulary(DEFAULT_CORPUS)
    pairs = load_pairs(PAIRS)
    chosen, _ = calibrate(embedder, vocabulary, pairs, settings.verify)
    report: dict[str, object] = {"pairs": str(PAIRS), "calibrated": {
        "min_coverage": chosen.min_coverage, "min_similarity": chosen.min_similarity,
        "strong_similarity": chosen.strong_similarity}}
    for label, verify in (("current", settings.verify), ("calibrated", chosen)):
        checker = Verifier(verify, embedder, vocabulary)
        for split in ("dev", "test"):
            subset = [p for p in pairs if p.split == split]
            result = agreement(subset, verify_pairs(checker, subset))
            report[f"{label}-{split}"] = result.as_dict()
            typer.echo(f"verifier ({label}) {split}: agreement {result.accuracy:.3f} on {result.pairs} pairs, "
                       f"unsupported caught {result.unsupported_recall:.3f}, supported passed "
                       f"{result.supported_recall:.3f}")
    typer.echo(f"calibrated on dev: min_coverage={chosen.min_coverage}, min_similarity={chosen.min_similarity}, "
               f"strong_similarity={chosen.strong_similarity}")
    out.mkdir(parents=True, exist_ok=True)
    (out / "verifier.json").write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")


def register(app: typer.Typer) -> None:
    """Add the eval command group to the app: `medcite eval --gold ...` runs the evaluation itself."""
    group = typer.Typer(no_args_is_help=False)
    app.add_typer(group, name="eval")
    group.command("support")(support)
    group.command("tune")(tune)

    @group.callback(invoke_without_command=True)
    def eval_command(
        ctx: typer.Context,
        gold: Annotated[list[Path] | None, typer.Option("--gold", help="Gold JSON Lines file (repeatable).")] = None,
        systems: Annotated[str, typer.Option(help="Comma-separated systems: bm25, dense, hybrid, rrf.")
                           ] = "bm25,dense,hybrid,rrf",
        limit: Annotated[int | None, typer.Option(help="Questions sampled per gold set (default: all).")] = None,
        sample_seed: Annotated[int, typer.Option("--sample-seed", help="Seed of the question sample.")] = 13,
        out: Annotated[Path, typer.Option(help="Output folder (metrics.json, records.jsonl, report.html).")
                       ] = Path("eval-out"),
        cache: Annotated[Path, typer.Option(help="Folder of cached eval indexes.")] = Path(".medcite/eval-cache"),
        corpus: Annotated[Path | None, typer.Option(help="Guideline corpus added to every index.")] = None,
        baseline: Annotated[Path | None, typer.Option(help="metrics.json to compare against.")] = None,
        tolerance: Annotated[float, typer.Option(help="Largest allowed drop versus the baseline.")] = 0.01,
        k: Annotated[int, typer.Option("--k", help="Passages retrieved for the ranking metrics.")] = 20,
        index_limit: Annotated[int | None, typer.Option(
            "--index-limit", help="Index only a seeded sample of N records of each gold set (fast CI runs).")] = None,
        out_of_scope: Annotated[Path | None, typer.Option(
            "--out-of-scope", help="Out-of-scope questions JSONL (default: the bundled set).")] = None,
        rare_limit: Annotated[int, typer.Option(
            "--rare-limit", help="Rare-disease out-of-scope questions over the corpus alone.")] = 100,
        oos_corpus: Annotated[Path | None, typer.Option(
            "--oos-corpus", help="Corpus indexed alone for the out-of-scope row (default: --corpus).")] = None,
        calibrate: Annotated[bool, typer.Option(
            "--calibrate", help="Also report the abstention threshold that maximises balanced accuracy.")] = False,
        composer: Annotated[str, typer.Option(
            help="extractive, or llm (systems become e.g. hybrid+llm; needs --llm or MEDCITE_LLM__*).")] = "extractive",
        llm: LLMOption = None,
        verifier: Annotated[bool, typer.Option(
            "--verifier", help="Also measure the sentence verifier against eval/data/verifier_pairs.jsonl.")] = False,
    ) -> None:
        """Evaluate systems on gold sets; resumes from records.jsonl; non-zero exit on baseline regressions."""
        if ctx.invoked_subcommand is not None:  # `medcite eval support|tune ...`: that command runs instead
            return
        from eval import (
            EvalOptions,
            Runner,
            abstention_threshold,
            aggregate,
            compare,
            parse_systems,
            read_metrics,
            write_metrics,
            write_report,
        )
        from eval.oos import DEFAULT_OOS
        from ingest import SentenceTransformerEmbedder
        from medcite.errors import InvalidInputError

        if composer not in ("extractive", "llm"):
            raise InvalidInputError(f"--composer must be extractive or llm, not {composer!r}")
        settings = settings_for(None, llm)
        if verifier:
            _verifier_agreement(settings, out)
            if not gold and corpus is None and oos_corpus is None:
                return
        if not gold and corpus is None and oos_corpus is None:
            raise InvalidInputError("give at least one --gold file (or --corpus for the out-of-scope check)")
        chosen = parse_systems([s.strip() for s in systems.split(",") if s.strip()])
        if composer == "llm":
            if settings.llm.provider == "none":
                raise InvalidInputError("--composer llm needs --llm PROVIDER:MODEL@URL or MEDCITE_LLM__PROVIDER")
            chosen = [s.with_llm(settings.llm) for s in chosen]
        options = EvalOptions(
            gold=tuple(gold or ()), systems=tuple(chosen),
            limit=limit, seed=sample_seed, out=out, cache=cache, corpus=corpus, k=k, index_limit=index_limit,
            out_of_scope=out_of_scope or DEFAULT_OOS, rare_limit=rare_limit,
            scope_corpus=oos_corpus)
        embedder = SentenceTransformerEmbedder(settings.embedding)
        with rich_progress() as bar:
            runner = Runner(options, settings=settings, embedder=embedder, progress=RichProgress(bar))
            results = runner.run()
        rows = aggregate(results)
        out.mkdir(parents=True, exist_ok=True)
        write_metrics(rows, out / "metrics.json")
        write_report(out / "report.html", rows, results)
        console = Console()
        flat = [r.to_dict() for r in rows]
        for set_name in dict.fromkeys(r.set for r in rows):
            console.print(_table(flat, set_name))
        typer.echo(f"wrote {out / 'metrics.json'}, {out / 'records.jsonl'}, {out / 'report.html'}")
        if calibrate:
            system = "hybrid" if any(s.name == "hybrid" for s in options.systems) else options.systems[0].name
            from eval.gate import calibrate_gate

            gate = calibrate_gate(results, settings.answerability, system=system)
            if gate is not None:
                (out / "gate-calibration.json").write_text(json.dumps(gate.to_dict(), indent=2) + "\n",
                                                           encoding="utf-8")
                values = ", ".join(f"{k}={v}" for k, v in gate.thresholds.items())
                typer.echo(f"answerability gate (chosen on dev, system {system}): {values}")
                typer.echo(f"  dev: off-topic answered {gate.dev.off_topic_answered:.3f}, false abstention "
                           f"{gate.dev.false_abstention:.3f} (current settings: "
                           f"{gate.current_dev.off_topic_answered:.3f}, {gate.current_dev.false_abstention:.3f})")
                if gate.test is not None:
                    typer.echo(f"  test: off-topic answered {gate.test.off_topic_answered:.3f}, "
                               f"false abstention {gate.test.false_abstention:.3f}")
            best, per_set = abstention_threshold(results, system=system)
            report = {"system": system, "recommended_abstain_threshold": best.threshold,
                      "overall": best.__repr__(), "per_set": {s: t.__repr__() for s, t in per_set.items()}}
            (out / "calibration.json").write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
            typer.echo(f"abstention threshold {best.threshold:.3f}: balanced accuracy {best.balanced_accuracy:.3f}, "
                       f"answerable abstained {best.false_negative_rate:.3f}, "
                       f"out-of-scope answered {best.false_positive_rate:.3f} "
                       f"({best.positives} answerable, {best.negatives} out-of-scope, system {system})")
        if baseline is not None:
            regressions = compare(rows, read_metrics(baseline), tolerance)
            err = Console(stderr=True)
            for reg in regressions:
                err.print(f"[red]regression[/red] {reg.describe()}", highlight=False)
            if regressions:
                err.print(f"{len(regressions)} metric(s) fell by more than {tolerance} versus {baseline}",
                          highlight=False)
                raise typer.Exit(1)
            typer.echo(f"no metric fell by more than {tolerance} versus {baseline}")


GoldOption = Annotated[Path, typer.Option("--gold", help="Gold JSON Lines file.")]


def support(
    gold: GoldOption,
    seed: Annotated[int, typer.Option(help="Seed of the fit / held-out split.")] = 13,
) -> None:
    """Calibrate and measure the statement judge's support cosine on a passage set (PubMedQA); prints JSON."""
    from eval.calibrate import calibrate_support, pair_agreement
    from eval.gold import load_gold
    from ingest import SentenceTransformerEmbedder

    settings = settings_for(None)
    embedder = SentenceTransformerEmbedder(settings.embedding)
    result = calibrate_support(load_gold(gold), embedder, seed=seed)
    typer.echo(json.dumps({"fitted": repr(result.fitted), "held_out": repr(result.held_out),
                           "pairs_at_fitted": pair_agreement(embedder, threshold=result.fitted.threshold),
                           "pairs_at_current": pair_agreement(embedder)}, indent=2))


def tune(
    gold: GoldOption,
    limit: Annotated[int, typer.Option(help="Questions sampled from the gold set.")] = 1000,
    sample_seed: Annotated[int, typer.Option("--sample-seed", help="Seed of the question sample.")] = 7,
    cache: Annotated[Path, typer.Option(help="Folder of cached eval indexes.")] = Path(".medcite/eval-cache"),
    keyword_weights: Annotated[str, typer.Option("--keyword-weights", help="Comma-separated keyword weights.")
                               ] = "0.1,0.3,0.6,1.0",
    section_weights: Annotated[str, typer.Option("--section-weights", help="Comma-separated section weights.")
                               ] = "0,0.1",
    k: Annotated[int, typer.Option("--k", help="Ranking depth of the metrics.")] = 20,
) -> None:
    """Retrieval-only sweep of fusion weights; prints one JSON line per weight pair."""
    from eval.corpus import build_index, questions_for
    from eval.gold import load_gold
    from eval.tune import grid, sweep
    from ingest import SentenceTransformerEmbedder
    from medcite.errors import InvalidInputError

    try:
        keyword = [float(x) for x in keyword_weights.split(",")]
        section = [float(x) for x in section_weights.split(",")]
    except ValueError:
        raise InvalidInputError("--keyword-weights and --section-weights take comma-separated numbers") from None
    settings = settings_for(None)
    embedder = SentenceTransformerEmbedder(settings.embedding)
    loaded = load_gold(gold)
    built = build_index(loaded, cache_dir=cache, settings=settings, embedder=embedder)
    questions = questions_for(loaded, built.collection, limit=limit, seed=sample_seed)
    for point in sweep(built.settings, questions, grid(keyword, section), embedder=embedder, k=k):
        typer.echo(json.dumps({"system": point.system.name, "record": point.record, "document": point.document}))
