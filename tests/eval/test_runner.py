"""The runner over a real tiny index: every metric is filled in, and an interrupted run resumes."""

from __future__ import annotations

from pathlib import Path

from eval import EvalOptions, Runner, aggregate, parse_systems
from eval.records import RecordStore
from ingest import SentenceTransformerEmbedder
from medcite.config import Settings


def test_run_measures_everything_and_resumes(passages_gold: Path, tmp_path: Path,
                                             embedder: SentenceTransformerEmbedder) -> None:
    oos = tmp_path / "oos.jsonl"
    oos.write_text('{"id": "oos-1", "question": "How do I replace a bicycle tyre?"}\n'
                   '{"id": "oos-2", "question": "What is the capital city of Australia?"}\n')
    options = EvalOptions(gold=(passages_gold,), systems=tuple(parse_systems(["bm25", "hybrid"])), limit=4,
                          out=tmp_path / "out", cache=tmp_path / "cache", out_of_scope=oos)
    results = Runner(options, settings=Settings(), embedder=embedder).run()
    assert len(results) == 2 * (4 + 2)
    answerable = [r for r in results if r.kind == "answerable"]
    assert all(r.ranking and r.gold and "ndcg@10" in r.metrics and "rougeL_f" in r.metrics for r in answerable)
    assert all(r.predicted_decision in {"yes", "no", "maybe"} for r in answerable)
    rows = {row.system: row for row in aggregate(results)}
    hybrid = rows["hybrid"].values
    assert rows["hybrid"].questions == 4 and rows["hybrid"].out_of_scope == 2
    assert hybrid["citation_validity"] == 1.0 and hybrid["recall@20"] == 1.0
    for metric in ("mrr", "ndcg@10", "statement_recall", "citation_support", "ynm_accuracy", "abstain_oos",
                   "latency_p95_ms"):
        assert hybrid[metric] is not None, metric

    # Interrupt: keep 5 records and a torn sixth line; the rerun measures only the missing ones.
    store = RecordStore(options.out / "records.jsonl")
    lines = store.path.read_text().splitlines(keepends=True)
    store.path.write_text("".join(lines[:5]) + lines[5][: len(lines[5]) // 2])
    kept = {r.key: r.summary for r in store.load()}
    again = Runner(options, settings=Settings(), embedder=embedder).run()
    assert {r.key for r in again} == {r.key for r in results}
    assert len([r for r in again if r.key in kept]) == 5
    assert len(store.path.read_text().splitlines()) == 6 + 7  # 5 kept + torn line + 7 re-measured
    # A third run has nothing to do.
    Runner(options, settings=Settings(), embedder=embedder).run()
    assert len(store.path.read_text().splitlines()) == 13
