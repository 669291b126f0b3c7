"""What query understanding and the answerability gate add to an answer, on the bundled corpus.

Usage: .venv/bin/python bench/answerability.py [--questions N] [--write docs/benchmarks.md]
Per question (guideline gold set, seeded sample) it times `AnswerService.ask` end to end, then the two new steps
alone on the same question: `QueryAnalyzer.analyze` and `AnswerabilityGate.assess` (on the evidence retrieval
returned). The share of the answer they take is the cost of the layer. Refuses to write results when the
1-minute load average is above 1.5 (numbers from a busy machine are not comparable).
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import random
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

# bench/ holds ingest.py: drop this folder from the path so `import ingest` finds the package.
if sys.path and Path(sys.path[0] or ".").resolve() == Path(__file__).resolve().parent:
    sys.path.pop(0)

from eval.guideline import DEFAULT_GUIDELINE_GOLD, load_guideline_questions
from ingest import Index, SentenceTransformerEmbedder, ingest_paths
from medcite.config import Settings
from service import AnswerService, ConversationStore

ROOT = Path(__file__).resolve().parent.parent
MARK = "## Answerability layer cost"


def p(values: list[float], q: float) -> float:
    return float(np.percentile(values, q)) if values else 0.0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--questions", type=int, default=300)
    parser.add_argument("--write", type=Path, default=None, help="Replace this section of a Markdown file.")
    args = parser.parse_args()
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(index_dir=Path(tmp) / "index")
        embedder = SentenceTransformerEmbedder(settings.embedding)
        report = ingest_paths([ROOT / "corpus"], settings=settings, embedder=embedder)
        assert report.ok, report.failures
        service = AnswerService(settings, index=Index.open(settings, embedder=embedder),
                                conversations=ConversationStore("sqlite://"))
        questions = [q.question for q in load_guideline_questions(DEFAULT_GUIDELINE_GOLD) if not q.history]
        random.Random(7).shuffle(questions)
        questions = questions[: args.questions]
        for q in questions[:5]:
            service.ask(q)  # warm-up
        total, analyze, gate = [], [], []
        deadline = time.monotonic() + 180  # let the ingest's own load settle before timing
        while os.getloadavg()[0] > 1.0 and time.monotonic() < deadline:
            time.sleep(5)
        load_timed = os.getloadavg()
        for q in questions:
            t0 = time.perf_counter()
            service.ask(q)
            total.append((time.perf_counter() - t0) * 1000)
            t1 = time.perf_counter()
            analysis = service.analyzer.analyze(q)
            analyze.append((time.perf_counter() - t1) * 1000)
            retrieved = service.retriever.retrieve(analysis.retrieval_query, prefer=service.gate.subject_docs(analysis))
            t2 = time.perf_counter()
            service.gate.assess(analysis, retrieved.evidence, retrieved.query_vector)
            gate.append((time.perf_counter() - t2) * 1000)
        load_after = os.getloadavg()
        service.close()
    layer = [a + g for a, g in zip(analyze, gate, strict=True)]
    rows = [("`AnswerService.ask`, full answer", total), ("query understanding (`analyze`)", analyze),
            ("answerability gate (`assess`)", gate), ("both new steps", layer)]
    share = p(layer, 50) / p(total, 50) if total else 0.0
    lines = [MARK, "",
             f"`bench/answerability.py --questions {len(questions)}`, {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC, "
             f"{os.cpu_count()} cores, {platform.python_version()}; load average (1/5/15 min) before ingest "
             f"{load_before[0]:.2f}/{load_before[1]:.2f}/{load_before[2]:.2f}, before timing "
             f"{load_timed[0]:.2f}, after {load_after[0]:.2f}. Bundled corpus index; guideline gold questions "
             "(seed 7), each path once per question.", "",
             "| Path | p50 (ms) | p95 (ms) |", "|---|---|---|",
             *[f"| {name} | {p(v, 50):.2f} | {p(v, 95):.2f} |" for name, v in rows], "",
             f"The two new steps take {share:.1%} of the answer's p50 (once per answer, no model call). Passage "
             "stems are cached, so the gate's timing here is warm (`ask` ran first on the same question).",
             ""]
    text = "\n".join(lines)
    print(text)
    if args.write is not None:
        if load_timed[0] > 1.5:
            print(f"not writing: 1-minute load average {load_timed[0]:.2f} > 1.5", file=sys.stderr)
            return 1
        doc = args.write.read_text(encoding="utf-8")
        if MARK in doc:
            start = doc.index(MARK)
            end = doc.find("\n## ", start + len(MARK))
            doc = doc[:start] + text + (doc[end + 1:] if end >= 0 else "")
        else:
            doc = doc.rstrip("\n") + "\n\n" + text
        args.write.write_text(doc, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
