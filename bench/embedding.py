"""Embedding backends in one run: PyTorch, ONNX fp32, ONNX int8 — query latency, chunk embedding throughput
(with and without batching by token length) and dense nDCG@10 on the MedQuAD and PubMedQA dev gold sets.
Usage: .venv/bin/python bench/embedding.py --data-dir ../shared/data [--quick] [--force] [--write FILE]"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import shlex
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from loadguard import LoadGuard
from markdown import write_section

# bench/ holds ingest.py: drop this folder from the path so `import ingest` finds the package.
if sys.path and Path(sys.path[0] or ".").resolve() == Path(__file__).resolve().parent:
    sys.path.pop(0)

from ingest import Chunk, Document, SentenceTransformerEmbedder, chunk_document, load_paths
from medcite.config import EmbeddingSettings, Settings

ROOT = Path(__file__).resolve().parent.parent
SEED, WARMUP, GOLDS = 7, 5, ("medquad", "pubmedqa_dev")
# (questions timed, MedQuAD records chunked for throughput, eval --index-limit, eval --limit)
SIZES = {"quick": (60, 40, 150, 50), "full": (300, 500, 1000, 300)}


@dataclass(frozen=True)
class Variant:
    """One embedding configuration."""

    label: str
    backend: str
    precision: str

    def settings(self, onnx_dir: Path) -> EmbeddingSettings:
        return EmbeddingSettings(backend=self.backend, precision=self.precision, onnx_dir=onnx_dir)  # type: ignore[arg-type]


VARIANTS = (Variant("PyTorch", "torch", "fp32"), Variant("ONNX fp32", "onnx", "fp32"),
            Variant("ONNX int8", "onnx", "int8"))


def medquad_chunks(data: Path, records: int, settings: Settings, embedder: SentenceTransformerEmbedder) -> list[Chunk]:
    """Chunks of the first `records` MedQuAD records, as the pipeline makes them."""
    with tempfile.TemporaryDirectory() as tmp:
        head = Path(tmp) / "medquad-head.jsonl"
        lines = [line for line in data.read_text(encoding="utf-8").splitlines() if line.strip()][:records]
        head.write_text("\n".join(lines) + "\n", encoding="utf-8")
        docs = {d.id: d for d in load_paths([head]) if isinstance(d, Document)}
    return [c for d in docs.values() for c in chunk_document(
        d, count_tokens=embedder.count_tokens, max_tokens=settings.ingest.chunk_tokens,
        overlap=settings.ingest.overlap_sentences)]


def query_latency(embedders: dict[str, SentenceTransformerEmbedder], questions: list[str]) -> dict[str, list[float]]:
    """Per-question `embed_query` wall times (ms); the order of the variants rotates between questions."""
    times: dict[str, list[float]] = {k: [] for k in embedders}
    names = list(embedders)
    for i, q in enumerate(questions[:WARMUP] + questions):
        for name in names[i % len(names):] + names[: i % len(names)]:
            t0 = time.perf_counter()
            embedders[name].embed_query(q)
            times[name].append((time.perf_counter() - t0) * 1000)
    return {k: v[WARMUP:] for k, v in times.items()}


def throughput(embedder: SentenceTransformerEmbedder, chunks: list[Chunk], window: int, sort: bool) -> float:
    """Chunks per second of `embed_chunks` over windows the size the pipeline hands it."""
    t0 = time.perf_counter()
    for start in range(0, len(chunks), window):
        embedder.embed_chunks(chunks[start : start + window], sort_by_length=sort)
    return len(chunks) / (time.perf_counter() - t0)


def dense_ndcg(variant: Variant, embedder: SentenceTransformerEmbedder, data_dir: Path, onnx_dir: Path,
               cache: Path, index_limit: int, limit: int) -> dict[str, float]:
    """Mean nDCG@10 of the dense system per gold set, as `medcite eval` scores it (the ranking in the answer's
    trace, same index sample and question sample), without the answer-quality metrics that make eval slow."""
    from eval.corpus import build_index, questions_for
    from eval.gold import load_gold
    from eval.metrics import retrieval_scores
    from eval.runner import System
    from ingest import Index
    from service import AnswerService, Catalog, ConversationStore, HybridRetriever

    base = Settings(embedding=variant.settings(onnx_dir))
    out: dict[str, float] = {}
    for name in GOLDS:
        gold = load_gold(data_dir / f"{name}.jsonl")
        built = build_index(gold, cache_dir=cache, settings=base, embedder=embedder, index_limit=index_limit,
                            seed=13)
        questions = [q for q in questions_for(gold, built.collection, limit=limit, seed=13) if q.gold]
        settings = System("dense", "dense").settings(built.settings)
        index = Index.open(built.settings, embedder=embedder)
        conversations = ConversationStore("sqlite://")
        try:
            retriever = HybridRetriever(Catalog(index), settings.retrieval)
            service = AnswerService(settings, index=index, retriever=retriever, conversations=conversations)
            scores = []
            for q in questions:
                ranking = list(service.ask(q.text).trace.ranking[:20])
                scores.append(retrieval_scores({q.id: ranking}, {q.id: q.gold}).get(q.id, {}).get("ndcg@10", 0.0))
            out[name] = float(np.mean(scores)) if scores else float("nan")
        finally:
            conversations.close()
            index.close()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data-dir", type=Path, required=True, help="Folder with medquad.jsonl, pubmedqa_dev.jsonl.")
    parser.add_argument("--quick", action="store_true", help="Small sizes (a few minutes).")
    parser.add_argument("--force", action="store_true", help="Write results even when loaded (marked loaded).")
    parser.add_argument("--cache", type=Path, default=ROOT / "bench/.cache/embedding", help="Exports, eval indexes.")
    parser.add_argument("--write", type=Path, default=None, help="Markdown file whose section is replaced.")
    args = parser.parse_args()
    guard = LoadGuard(args.force)
    guard.precheck()
    n_questions, n_records, index_limit, limit = SIZES["quick" if args.quick else "full"]
    onnx_dir = args.cache / "onnx"
    settings = Settings()
    embedders = {v.label: SentenceTransformerEmbedder(v.settings(onnx_dir)) for v in VARIANTS}
    for embedder in embedders.values():  # load (and export once) outside the timed sections
        embedder.embed_query("warm-up question about asthma")
    records = [json.loads(line) for line in (args.data_dir / "medquad.jsonl").read_text().splitlines() if line]
    questions = [r["question"] for r in random.Random(SEED).sample(records, n_questions)]
    chunks = medquad_chunks(args.data_dir / "medquad.jsonl", n_records, settings, embedders["PyTorch"])
    window = settings.embedding.batch_size * 4  # what ingest.pipeline hands embed_chunks per commit

    with guard.section("query latency"):
        latency = query_latency(embedders, questions)
    rates: dict[tuple[str, bool], float] = {}
    for label, embedder in embedders.items():
        for sort in (True, False) if embedder.backend == "onnx" else (True,):
            with guard.section(f"{label} embed_chunks{'' if sort else ' (unsorted)'}"):
                rates[label, sort] = throughput(embedder, chunks, window, sort)
    ndcg: dict[str, dict[str, float]] = {}
    for variant in VARIANTS:  # not timed: quality only; each variant builds its own eval indexes
        ndcg[variant.label] = dense_ndcg(variant, embedders[variant.label], args.data_dir, onnx_dir,
                                         args.cache / f"eval-{variant.backend}-{variant.precision}", index_limit, limit)

    torch_p50 = float(np.percentile(latency["PyTorch"], 50))
    rows = []
    for v in VARIANTS:
        p50, p95 = (float(np.percentile(latency[v.label], q)) for q in (50, 95))
        sets = " / ".join(f"{ndcg[v.label].get(g, float('nan')):.4f}" for g in GOLDS)
        unsorted = f"{rates[v.label, False]:.1f}" if (v.label, False) in rates else "(sorts itself)"
        rows.append(f"| {v.label} | {p50:.1f} | {p95:.1f} | {p50 / torch_p50:.2f}× | {rates[v.label, True]:.1f} | "
                    f"{unsorted} | {sets} |")
    gaps = {g: abs(ndcg["ONNX fp32"].get(g, 0.0) - ndcg["PyTorch"].get(g, 1.0)) for g in GOLDS}
    within = all(gap <= 0.005 for gap in gaps.values())
    facts = [("date (UTC)", dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M")), ("nproc", str(os.cpu_count())),
             ("size", f"{'quick' if args.quick else 'full'}: {n_questions} MedQuAD questions (seed {SEED}, "
                      f"+{WARMUP} warm-up), {len(chunks)} chunks of the first {n_records} records in windows of "
                      f"{window}; eval: {limit} questions over a {index_limit}-record index per set, dense"),
             ("machine", guard.label), *guard.rows()]
    table = "\n".join(f"| {k} | {v} |" for k, v in facts)
    gap_text = ", ".join(f"{g} {gaps[g]:.4f}" for g in GOLDS)
    command = shlex.join([".venv/bin/python", "bench/embedding.py", *sys.argv[1:]])
    section = (f"## Embedding backends\n\nCommand (from the repository root):\n\n```\n{command}\n```\n\n"
               f"| Fact | Value |\n|---|---|\n{table}\n\n"
               "| Backend | query p50 (ms) | query p95 (ms) | p50 / PyTorch | embed_chunks (chunks/s, sorted by "
               "tokens) | unsorted (chunks/s) | nDCG@10 dense (" + " / ".join(GOLDS) + ") |\n"
               "|---|---|---|---|---|---|---|\n" + "\n".join(rows) + "\n\n"
               f"ONNX fp32 vs PyTorch nDCG@10 gap: {gap_text} — {'within' if within else 'NOT within'} 0.005 on "
               "both sets. int8 is a separate model (its own index). Every question embeds with each backend "
               "once, the order rotating; single run.\n")
    print(section)
    guard.allow_write()
    if args.write:
        write_section(args.write, "Embedding backends", section)


if __name__ == "__main__":
    main()
