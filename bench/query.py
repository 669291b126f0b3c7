"""Query benchmark: POST /v1/answers and retrieval vs a plain LangChain Chroma retriever and the floor.
Usage: .venv/bin/python bench/query.py --data ../shared/data/medquad.jsonl [--quick] [--force] [--write FILE]

The 1-minute load average is recorded around each timed section; above 1.5 the results are not written (exit 1)
unless --force, which writes them marked loaded. MEDCITE_EMBEDDING__BACKEND=onnx times the ONNX backend."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import random
import re
import shlex
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch
from fastapi.testclient import TestClient
from langchain_chroma import Chroma
from langchain_core.embeddings import Embeddings
from loadguard import LoadGuard
from markdown import write_section

# bench/ holds ingest.py: drop this folder from the path so `import ingest` finds the package.
if sys.path and Path(sys.path[0] or ".").resolve() == Path(__file__).resolve().parent:
    sys.path.pop(0)

from ingest import Index, SentenceTransformerEmbedder, ingest_paths
from medcite.config import Settings
from service import AnswerService
from service.api import create_app

SEED, WARMUP, FLOOR_K, LC_K = 7, 5, 100, 8
ROOT = Path(__file__).resolve().parent.parent


class LangChainEmbeddings(Embeddings):
    """The baseline's LangChain view of medcite's embedder (same model, same vectors)."""

    def __init__(self, inner: SentenceTransformerEmbedder) -> None:
        self.inner = inner

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return [[float(x) for x in v] for v in self.inner.embed_texts(texts)]

    def embed_query(self, text: str) -> list[float]:
        return [float(x) for x in self.inner.embed_query(text)]


def take_head(data: Path, limit: int, out: Path) -> list[dict[str, str]]:
    """The first `limit` records of a JSONL file, written to `out` (only rewritten when they changed)."""
    lines = [line + "\n" for line in data.read_text(encoding="utf-8").splitlines() if line.strip()][:limit]
    out.write_text("".join(lines), encoding="utf-8")  # unchanged records are skipped by the incremental ingest
    return [json.loads(line) for line in lines]


def machine_facts() -> list[tuple[str, str]]:
    """CPU, memory, runtime facts and the load average before measuring."""
    cpu = re.search(r"^model name\s*:\s*(.+)$", Path("/proc/cpuinfo").read_text(), re.MULTILINE)
    mem = re.search(r"^MemTotal:\s*(\d+) kB", Path("/proc/meminfo").read_text(), re.MULTILINE)
    return [("nproc", str(os.cpu_count())), ("CPU", cpu.group(1).strip() if cpu else "unknown"),
            ("RAM", f"{int(mem.group(1)) / 1024**2:.1f} GiB" if mem else "unknown"),
            ("torch threads", str(torch.get_num_threads())), ("Python", platform.python_version()),
            ("date (UTC)", dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M")),
            ("load average 1/5/15 min before timing", " / ".join(f"{x:.2f}" for x in os.getloadavg()))]


def cpu_seconds() -> dict[str, float]:
    """CPU seconds used so far by every other process, keyed by pid and command line."""
    out: dict[str, float] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
            cmd = (stat.parent / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace").strip()
        except OSError:
            continue
        if cmd and int(stat.parent.name) != os.getpid():  # utime + stime, in clock ticks
            out[f"{stat.parent.name} `{cmd[:70]}`"] = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return out


def measure(service: AnswerService, client: TestClient, store: Chroma, questions: list[str]) -> dict[str, list[float]]:
    """Per-question wall times (ms) of every path; the order of the paths rotates between questions."""
    index, keyword = service.index, service.index.keyword()
    names = ("answer", "retrieval", "langchain", "floor", "embed", "chroma", "bm25s", "svc_total", "svc_compose")
    times: dict[str, list[float]] = {k: [] for k in names}

    def answer(q: str) -> None:
        response = client.post("/v1/answers", json={"question": q})
        response.raise_for_status()
        server = response.json()["timings_ms"]  # the service's own clock: all of ask(), and composition
        times["svc_total"].append(server["total"])
        times["svc_compose"].append(server["compose"])

    def floor(q: str) -> None:  # the three steps timed alone, then summed
        t0 = time.perf_counter()
        vec = index.embedder.embed_query(q)
        t1 = time.perf_counter()
        index.vectors.query(vec, FLOOR_K)
        t2 = time.perf_counter()
        scores = keyword.scores(q)
        top = np.argpartition(-scores, min(FLOOR_K, len(scores)) - 1)[:FLOOR_K]
        _ = top[np.argsort(-scores[top])]
        t3 = time.perf_counter()
        for name, seconds in (("embed", t1 - t0), ("chroma", t2 - t1), ("bm25s", t3 - t2), ("floor", t3 - t0)):
            times[name].append(seconds * 1000)

    def timed(name: str, fn: Callable[[str], object]) -> Callable[[str], None]:
        def run(q: str) -> None:
            t0 = time.perf_counter()
            fn(q)
            times[name].append((time.perf_counter() - t0) * 1000)
        return run

    paths = [timed("answer", answer), timed("retrieval", service.retriever.retrieve),
             timed("langchain", lambda q: store.similarity_search(q, k=LC_K)), floor]
    for i, q in enumerate(questions[:WARMUP] + questions):
        for path in paths[i % 4 :] + paths[: i % 4]:
            path(q)
    return {k: v[WARMUP:] for k, v in times.items()}  # the warm-up queries are not counted


def time_paths(settings: Settings, service: AnswerService, questions: list[str], guard: LoadGuard,
               section: str = "query timing") -> dict[str, list[float]]:
    """`measure` over in-process HTTP, retrieval, LangChain on the same collection and the floor, in one timed
    section of the guard."""
    store = Chroma(client=service.index.vectors._client, collection_name=service.index.vectors.name,
                   embedding_function=LangChainEmbeddings(service.index.embedder))
    # One client asks as fast as it can: lift the per-address question limit (it is no part of what is measured).
    unlimited = settings.model_copy(update={"api": settings.api.model_copy(
        update={"ask_limit_per_address": "1000000/minute"})})
    with TestClient(create_app(unlimited, service=service)) as client, guard.section(section):
        return measure(service, client, store, questions)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data", type=Path, required=True, help="MedQuAD JSONL file (never copied into the repo).")
    parser.add_argument("--limit", type=int, default=None, help="First N records added to the corpus (5000).")
    parser.add_argument("--questions", type=int, default=None, help="Sampled questions to time (500).")
    parser.add_argument("--quick", action="store_true", help="300 records, 100 questions: a few minutes.")
    parser.add_argument("--force", action="store_true", help="Write results even when loaded (marked loaded).")
    parser.add_argument("--cache", type=Path, default=ROOT / "bench/.cache/query-index", help="Reused index folder.")
    parser.add_argument("--write", type=Path, default=None, help="Markdown file whose `## Query` section is replaced.")
    args = parser.parse_args()
    args.limit = args.limit or (300 if args.quick else 5000)
    args.questions = args.questions or (100 if args.quick else 500)
    guard = LoadGuard(args.force)
    guard.precheck()
    args.cache.mkdir(parents=True, exist_ok=True)
    sample = args.cache / f"medquad-head-{args.limit}.jsonl"
    records = take_head(args.data, args.limit, sample)
    settings = Settings(index_dir=args.cache / "index")
    embedder = SentenceTransformerEmbedder(settings.embedding)
    t0 = time.perf_counter()
    with guard.section("ingest"):
        report = ingest_paths([ROOT / "corpus", sample], settings=settings, embedder=embedder)
    t_ingest = time.perf_counter() - t0
    questions = [r["question"] for r in random.Random(SEED).sample(records, args.questions)]
    service = AnswerService(settings, index=Index.open(settings, embedder=embedder))
    n_docs, n_chunks = service.index.store.count()
    facts, before, t0 = machine_facts(), cpu_seconds(), time.perf_counter()
    times = time_paths(settings, service, questions, guard)
    elapsed, after = time.perf_counter() - t0, cpu_seconds()
    busy = [f"{k} ({(v - before.get(k, 0.0)) / elapsed:.0%} of a core)" for k, v in after.items()
            if v - before.get(k, 0.0) > 0.2 * elapsed]
    med = {name: float(np.percentile(v, 50)) for name, v in times.items()}
    ratio, vs_lc = med["answer"] / med["floor"], med["retrieval"] / med["langchain"]
    labels = [("answer", "`POST /v1/answers` in-process (TestClient), full answer"),
              ("svc_total", "answer: `AnswerService.ask` total (its `timings_ms`)"),
              ("svc_compose", "answer: composition + citations (its `timings_ms`)"),
              ("retrieval", "retrieval alone: `service.retriever.retrieve(q)`"),
              ("langchain", f"LangChain `Chroma.similarity_search(q, k={LC_K})`, same collection"),
              ("floor", f"floor = embed + Chroma top-{FLOOR_K} + bm25s top-{FLOOR_K} (sum)"),
              ("embed", "floor: query embedding"), ("chroma", f"floor: one Chroma query, top {FLOOR_K}"),
              ("bm25s", f"floor: one bm25s query + top-{FLOOR_K} selection")]
    rows = "\n".join(f"| {text} | {med[k]:.1f} | {np.percentile(times[k], 95):.1f} |" for k, text in labels)
    facts += [("embedding backend", f"{settings.embedding.backend} {settings.embedding.precision}"),
              ("machine", guard.label), *guard.rows(),
              ("index", f"{n_docs} documents, {n_chunks} chunks (bundled corpus + first {len(records)} records)"),
              ("ingest in this run", f"{t_ingest:.1f} s ({report.added} added, {report.unchanged} unchanged)"),
              ("questions", f"{len(questions)} sampled (seed {SEED}) + {WARMUP} untimed warm-up; took {elapsed:.0f} s")]
    notes = [
        f"Answer p50 is {ratio:.2f}× the floor p50, so the ≤ 1.3× goal is {'met' if ratio <= 1.3 else 'not met'}"
        f"{' (on a loaded machine)' if guard.loaded else ''}; "
        f"retrieval p50 is {vs_lc:.2f}× LangChain's `similarity_search` p50.",
        f"Of the floor's {med['floor']:.1f} ms median, the query embedding takes {med['embed']:.1f} ms, "
        f"Chroma {med['chroma']:.1f} ms and bm25s {med['bm25s']:.1f} ms. Over retrieval, the answer adds "
        f"{med['answer'] - med['retrieval']:.1f} ms (p50 deltas): composition {med['svc_compose']:.1f} ms, the rest "
        f"of `ask` (conversation writes, rewrite) {med['svc_total'] - med['retrieval'] - med['svc_compose']:.1f} ms, "
        f"HTTP and JSON in-process {med['answer'] - med['svc_total']:.1f} ms.",
        "Every question runs each path once, the order rotating between questions; single run.",
        ("Other processes busy during timing (> 20 % of a core): " + "; ".join(busy) + ".") if busy
        else "No other process used more than 20 % of a core during timing.",
    ]
    command = shlex.join([".venv/bin/python", "bench/query.py", *sys.argv[1:]])
    table = "\n".join(f"| {k} | {v} |" for k, v in facts)
    section = (f"## Query\n\nCommand (from the repository root):\n\n```\n{command}\n```\n\n"
               f"| Fact | Value |\n|---|---|\n{table}\n\n"
               f"| Path | p50 (ms) | p95 (ms) |\n|---|---|---|\n{rows}\n"
               f"| **answer p50 / floor p50 (goal ≤ 1.3×)** | {ratio:.2f}× | |\n"
               f"| retrieval p50 / LangChain p50 | {vs_lc:.2f}× | |\n\n" + " ".join(notes) + "\n")
    print(section)
    service.close()
    guard.allow_write()
    if args.write:
        write_section(args.write, "Query", section)


if __name__ == "__main__":
    main()
