"""report.html: summary table with systems side by side, embedded matplotlib plots, the worst 20 questions."""

from __future__ import annotations

import base64
import html
import io
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from eval.aggregate import LOWER_IS_BETTER, MetricsRow
from eval.records import QuestionResult

BAR_METRICS = ("recall@10", "mrr", "ndcg@10", "doc_ndcg@10", "rougeL_f", "statement_recall",
               "citation_support", "citation_coverage", "abstain_answerable", "abstain_oos",
               "off_topic_answered", "false_abstention", "fact_recall", "fact_recall_lead", "guideline_hit")
HIST_METRICS = ("ndcg@10", "rougeL_f", "statement_recall")
_CSS = """body{font-family:system-ui,sans-serif;margin:2em;max-width:1200px}table{border-collapse:collapse}
td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}th:first-child,td:first-child{text-align:left}
.best{font-weight:bold;background:#e8f5e9}img{max-width:100%}.q{border-top:2px solid #999;margin-top:1.5em}
blockquote{margin:.3em 1em;color:#333;border-left:3px solid #9cf;padding-left:.6em}small{color:#666}"""


def _png(fig: Any) -> str:
    import matplotlib.pyplot as plt

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=90, bbox_inches="tight")
    plt.close(fig)
    return f'<img alt="plot" src="data:image/png;base64,{base64.b64encode(buf.getvalue()).decode()}">'


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def metric_bars(rows: Sequence[MetricsRow]) -> str:
    """Grouped bars: one panel per gold set, one bar per system for each metric."""
    plt = _pyplot()
    sets = list(dict.fromkeys(r.set for r in rows))
    fig, axes = plt.subplots(len(sets), 1, figsize=(12, 3.2 * len(sets)), squeeze=False)
    for ax, set_name in zip(axes[:, 0], sets, strict=True):
        group = [r for r in rows if r.set == set_name]
        metrics = [m for m in BAR_METRICS if any(r.values.get(m) is not None for r in group)]
        width = 0.8 / max(len(group), 1)
        for i, row in enumerate(group):
            xs = [j + i * width for j in range(len(metrics))]
            ax.bar(xs, [row.values.get(m) or 0.0 for m in metrics], width, label=row.system)
        ax.set_xticks([j + 0.4 - width / 2 for j in range(len(metrics))], metrics, rotation=20, fontsize=8)
        ax.set_ylim(0, 1)
        ax.set_title(set_name)
        ax.legend(fontsize=8, ncols=len(group))
    return _png(fig)


def latency_histogram(results: Sequence[QuestionResult]) -> str:
    """Distribution of answer latency per system."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(8, 3.2))
    for system in dict.fromkeys(r.system for r in results):
        ax.hist([r.latency_ms for r in results if r.system == system], bins=40, alpha=0.5, label=system)
    ax.set_xlabel("latency of AnswerService.ask (ms)")
    ax.legend(fontsize=8)
    return _png(fig)


def score_histograms(results: Sequence[QuestionResult]) -> str:
    """Per-question score distributions per system, and confidence of answerable vs out-of-scope questions."""
    plt = _pyplot()
    fig, axes = plt.subplots(1, len(HIST_METRICS) + 1, figsize=(16, 3.2))
    systems = list(dict.fromkeys(r.system for r in results))
    for ax, metric in zip(axes, HIST_METRICS, strict=False):
        for system in systems:
            values = [v for r in results if r.system == system and (v := r.metrics.get(metric)) is not None]
            if values:
                ax.hist(values, bins=20, range=(0, 1), alpha=0.45, label=system)
        ax.set_title(metric)
        ax.legend(fontsize=7)
    ax = axes[-1]
    for kind in ("answerable", "out_of_scope"):
        ax.hist([r.confidence for r in results if r.kind == kind], bins=30, alpha=0.5, label=kind, density=True)
    ax.set_title("confidence (best passage cosine)")
    ax.legend(fontsize=7)
    return _png(fig)


def summary_table(rows: Sequence[MetricsRow]) -> str:
    """One table per gold set: metrics as rows, systems as columns, the best value in bold."""
    parts: list[str] = []
    for set_name in dict.fromkeys(r.set for r in rows):
        group = [r for r in rows if r.set == set_name]
        metrics = list(dict.fromkeys(m for r in group for m in r.values))
        head = "".join(f"<th>{html.escape(r.system)}</th>" for r in group)
        body: list[str] = []
        for m in metrics:
            vals = [r.values.get(m) for r in group]
            known = [v for v in vals if v is not None]
            best = (min(known) if m in LOWER_IS_BETTER else max(known)) if known else None
            cells = "".join(
                f'<td class="{"best" if v is not None and v == best and len(group) > 1 else ""}">'
                f'{"–" if v is None else f"{v:.3f}" if abs(v) < 10 else f"{v:.0f}"}</td>' for v in vals)
            body.append(f"<tr><td>{html.escape(m)}</td>{cells}</tr>")
        counts = f"{group[0].questions} answerable, {group[0].out_of_scope} out-of-scope questions"
        parts.append(f"<h3>{html.escape(set_name)} <small>({counts})</small></h3>"
                     f"<table><tr><th>metric</th>{head}</tr>{''.join(body)}</table>")
    return "\n".join(parts)


def badness(result: QuestionResult) -> float:
    """Mean of nDCG@10, ROUGE-L and statement recall (lower is worse)."""
    values = [v for m in HIST_METRICS if (v := result.metrics.get(m)) is not None]
    return sum(values) / len(values) if values else 0.0


def guideline_failures(results: Sequence[QuestionResult], system: str, n: int = 20) -> str:
    """Guideline-set failures: uncovered questions that were answered, and answerable ones that abstained or
    missed must-have facts (most facts missing first)."""
    mine = [r for r in results if r.system == system and r.category]
    answered = [r for r in mine if r.category != "answerable" and not r.abstained]
    missed = sorted((r for r in mine if r.category == "answerable"
                     and (r.abstained or r.counts.get("facts_lead", 0) < r.counts.get("facts", 0))),
                    key=lambda r: (not r.abstained, r.counts.get("facts_found", 0) - r.counts.get("facts", 0)))
    out: list[str] = []
    for title, group in (("Answered although not covered", answered[:n]), ("Abstained or facts missing", missed[:n])):
        items = []
        for r in group:
            refs = ", ".join(html.escape(ref.doc_id) for ref in r.references[:3]) or "none"
            what = (f"abstained: {html.escape(r.abstention_reason)}" if r.abstained
                    else f"answered: {html.escape(r.summary[:400])}")
            facts = (f"; facts {r.counts.get('facts_found', 0)}/{r.counts.get('facts', 0)}, "
                     f"lead {r.counts.get('facts_lead', 0)}" if r.category == "answerable" else "")
            items.append(f'<div class="q"><p><b>{html.escape(r.set)} · {html.escape(r.id)}</b> <small>'
                         f"{html.escape(r.category)}, ask {html.escape(r.ask)}{facts}; expected "
                         f"{html.escape(', '.join(r.gold_doc[:3]) or '(abstain)')}; cited {refs}</small></p>"
                         f"<p><b>Q:</b> {html.escape(r.question)}</p><p>{what}</p></div>")
        out.append(f"<h3>{title} ({len(group)} shown)</h3>" + "".join(items))
    return "\n".join(out)


def worst_questions(results: Sequence[QuestionResult], system: str, n: int = 20) -> str:
    """The n answerable questions the system did worst on, with answer, references and quoted passages."""
    pool = sorted((r for r in results if r.system == system and r.kind == "answerable" and not r.category),
                  key=badness)[:n]
    out: list[str] = []
    for r in pool:
        scores = ", ".join(f"{m} {v:.2f}" for m, v in r.metrics.items() if v is not None and m in (
            *HIST_METRICS, "doc_ndcg@10", "citation_support"))
        refs = "".join(
            f"<li>[{ref.number}] {html.escape(ref.title or ref.doc_id)} <small>{html.escape(ref.doc_id)}</small>"
            + "".join(f"<blockquote>{html.escape(span)}</blockquote>" for span in ref.spans) + "</li>"
            for ref in r.references)
        answer = "(abstained)" if r.abstained else html.escape(r.summary)
        out.append(
            f'<div class="q"><p><b>{html.escape(r.set)} · {html.escape(r.id)}</b> <small>{scores}; '
            f"confidence {r.confidence:.2f}; gold {html.escape(', '.join(r.gold[:4]))}; "
            f"retrieved {html.escape(', '.join(r.ranking[:4]))}</small></p>"
            f"<p><b>Q:</b> {html.escape(r.question)}</p><p><b>Answer:</b> {answer}</p>"
            f"<details><summary>reference answer</summary><p>{html.escape(r.reference)}</p></details>"
            f"<ol>{refs}</ol></div>")
    return "\n".join(out)


def write_report(path: Path, rows: Sequence[MetricsRow], results: Sequence[QuestionResult], *,
                 title: str = "medcite evaluation") -> None:
    """Write the self-contained HTML report."""
    systems = list(dict.fromkeys(r.system for r in rows))
    primary = "hybrid" if "hybrid" in systems else (systems[0] if systems else "")
    doc = (f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
           f"<style>{_CSS}</style></head><body><h1>{html.escape(title)}</h1>"
           f"<h2>Summary</h2>{summary_table(rows)}"
           f"<h2>Metrics per system</h2>{metric_bars(rows) if rows else ''}"
           f"<h2>Latency</h2>{latency_histogram(results) if results else ''}"
           f"<h2>Score distributions</h2>{score_histograms(results) if results else ''}"
           f"<h2>Worst 20 questions ({html.escape(primary)})</h2>{worst_questions(results, primary)}"
           + (f"<h2>Guideline set: worst questions ({html.escape(primary)})</h2>"
              f"{guideline_failures(results, primary)}" if any(r.category for r in results) else "")
           + "</body></html>")
    path.write_text(doc, encoding="utf-8")
