"""Scale curve: answer p50/p95 (and retrieval, floor) as one index grows to ~1k, ~10k and ~60k chunks.
Usage: .venv/bin/python bench/scale.py --data ../shared/data/medquad.jsonl [--sizes 1000,10000,60000]
       [--questions 200] [--cache DIR] [--force] [--write FILE]

The index is the bundled corpus plus the first N MedQuAD records, N chosen by chunking the records beforehand so
each size lands on its chunk target. The bundled corpus alone is a few thousand chunks, so a target below twice
its size is MedQuAD records alone. One index in the cache folder grows from size to size (the incremental ingest
adds only the new records; a rerun reuses it), and the same questions, drawn from the records of the smallest
size, are timed at every size with bench/query.py's paths. The section is written after every size, so a run
stopped early keeps the sizes it reached. Load guard as in bench/query.py."""

from __future__ import annotations

import argparse
import random
import shlex
import sys
import time
from pathlib import Path

import numpy as np
from loadguard import LoadGuard
from markdown import write_section
from query import machine_facts, take_head, time_paths  # also drops bench/ from sys.path (see query.py)

from ingest import Document, Index, SentenceTransformerEmbedder, chunk_document, ingest_paths, load_paths
from medcite.config import Settings
from service import AnswerService

ROOT = Path(__file__).resolve().parent.parent
SEED = 7
PATHS = (("answer", "answer p50 / p95"), ("svc_total", "`ask` p50"), ("retrieval", "retrieval p50"),
         ("floor", "floor p50"), ("chroma", "Chroma top-100 p50"), ("bm25s", "bm25s top-100 p50"))


def chunk_counts(paths: list[Path], settings: Settings, embedder: SentenceTransformerEmbedder) -> list[int]:
    """Chunks of every document the pipeline would ingest from paths, in load order (tokenizer only, no model)."""
    seen: set[str] = set()
    counts: list[int] = []
    for doc in load_paths(paths):
        if isinstance(doc, Document) and doc.id not in seen:
            seen.add(doc.id)
            counts.append(len(chunk_document(doc, count_tokens=embedder.count_tokens,
                                             max_tokens=settings.ingest.chunk_tokens,
                                             overlap=settings.ingest.overlap_sentences)))
    return counts


def plan(targets: list[int], corpus_chunks: int, record_chunks: list[int]) -> list[tuple[int, bool, int]]:
    """(target, with the bundled corpus, MedQuAD records) per size: the fewest records reaching the target."""
    cumulative = np.cumsum(record_chunks)
    out = []
    for target in targets:
        with_corpus = target >= 2 * corpus_chunks
        need = target - (corpus_chunks if with_corpus else 0)
        out.append((target, with_corpus, min(int(np.searchsorted(cumulative, need)) + 1, len(record_chunks))))
    return out


def render(rows: list[str], facts: list[tuple[str, str]], guard: LoadGuard, command: str, pending: list[int],
           n_questions: int) -> str:
    """The `## Scale` section."""
    table = "\n".join(f"| {k} | {v} |" for k, v in [*facts, ("machine", guard.label), *guard.rows()])
    head = " | ".join(label for _, label in PATHS)
    missing = (f" Sizes not reached in this run: {', '.join(f'~{t:,}' for t in pending)} chunks." if pending else "")
    return (f"## Scale\n\nCommand (from the repository root):\n\n```\n{command}\n```\n\n"
            f"| Fact | Value |\n|---|---|\n{table}\n\n"
            f"| chunks | documents | bundled corpus | ingest this step (s) | {head} (ms) |\n"
            f"|---|---|---|---|{'---|' * len(PATHS)}\n" + "\n".join(rows) + "\n\n"
            f"The same {n_questions} MedQuAD questions (seed {SEED}, records in every index) at every size; each "
            "path once per question, the order rotating (bench/query.py's `measure`); answer = `POST /v1/answers` "
            "in-process; single run." + missing + "\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data", type=Path, required=True, help="MedQuAD JSONL file (read, never copied).")
    parser.add_argument("--sizes", default="1000,10000,60000", help="Chunk targets, ascending.")
    parser.add_argument("--questions", type=int, default=200, help="Questions timed at every size.")
    parser.add_argument("--cache", type=Path, default=ROOT / "bench/.cache/scale", help="The growing index.")
    parser.add_argument("--force", action="store_true", help="Write results even when loaded (marked loaded).")
    parser.add_argument("--write", type=Path, default=None, help="Markdown file whose `## Scale` section is replaced.")
    args = parser.parse_args()
    guard = LoadGuard(args.force)
    guard.precheck()
    args.cache.mkdir(parents=True, exist_ok=True)
    settings = Settings(index_dir=args.cache / "index")
    embedder = SentenceTransformerEmbedder(settings.embedding)
    record_chunks = chunk_counts([args.data], settings, embedder)
    corpus_chunks = sum(chunk_counts([ROOT / "corpus"], settings, embedder))
    sizes = plan(sorted(int(s) for s in args.sizes.split(",")), corpus_chunks, record_chunks)
    head = args.cache / "medquad-head.jsonl"
    records = take_head(args.data, sizes[0][2], head)
    questions = [r["question"] for r in random.Random(SEED).sample(records, min(args.questions, len(records)))]
    facts = [*machine_facts(), ("embedding backend", f"{settings.embedding.backend} {settings.embedding.precision}"),
             ("bundled corpus", f"{corpus_chunks} chunks")]
    command = shlex.join([".venv/bin/python", "bench/scale.py", *sys.argv[1:]])
    rows: list[str] = []
    for step, (target, with_corpus, n_records) in enumerate(sizes):
        take_head(args.data, n_records, head)
        t0 = time.perf_counter()
        report = ingest_paths([*([ROOT / "corpus"] if with_corpus else []), head], settings=settings, embedder=embedder)
        t_ingest = time.perf_counter() - t0
        if not report.ok:
            sys.exit(f"scale: ingest to ~{target} chunks failed: {report.failures[:3]}")
        service = AnswerService(settings, index=Index.open(settings, embedder=embedder))
        try:
            n_docs, n_chunks = service.index.store.count()
            times = time_paths(settings, service, questions, guard, section=f"timing at {n_chunks} chunks")
        finally:
            service.close()
        med = {k: float(np.percentile(v, 50)) for k, v in times.items()}
        cells = [f"{med['answer']:.1f} / {np.percentile(times['answer'], 95):.1f}",
                 *(f"{med[k]:.1f}" for k, _ in PATHS[1:])]
        rows.append(f"| {n_chunks:,} | {n_docs:,} ({n_records:,} MedQuAD) | {'yes' if with_corpus else 'no'} | "
                    f"{t_ingest:.0f} | " + " | ".join(cells) + " |")
        section = render(rows, facts, guard, command, [t for t, _, _ in sizes[step + 1 :]], len(questions))
        print(section, flush=True)
        if args.write and (args.force or not guard.loaded):
            write_section(args.write, "Scale", section)
    guard.allow_write()


if __name__ == "__main__":
    main()
