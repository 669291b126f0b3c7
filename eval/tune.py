"""Retrieval-only sweep of fusion weights on a gold set (tune on one sample seed, report on another).

Usage: medcite eval tune --gold ../shared/data/medquad.jsonl --limit 1000 --sample-seed 7 \
           --keyword-weights 0.1,0.3,0.6,1.0 --section-weights 0,0.05,0.1
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from eval.corpus import Question
from eval.metrics import RETRIEVAL_METRICS, first_occurrence, retrieval_scores
from eval.runner import System
from ingest import Embedder, Index
from medcite.config import Settings
from service import Catalog, HybridRetriever

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class SweepPoint:
    """Mean retrieval metrics of one retrieval configuration."""

    system: System
    record: dict[str, float]
    document: dict[str, float]


def sweep(index_settings: Settings, questions: Sequence[Question], systems: Sequence[System], *,
          embedder: Embedder, k: int = 20) -> list[SweepPoint]:
    """Rank every question under every system (queries embedded once) and score with ranx."""
    index = Index.open(index_settings, embedder=embedder)
    try:
        catalog = Catalog(index)
        vectors = embedder.embed_texts([q.text for q in questions])
        out: list[SweepPoint] = []
        for system in systems:
            retriever = HybridRetriever(catalog, system.settings(index_settings).retrieval)
            rankings = {q.id: first_occurrence(e.chunk.doc_id for e in retriever.retrieve(
                q.text, k=k, query_vector=vectors[i]).evidence) for i, q in enumerate(questions)}
            rec = retrieval_scores(rankings, {q.id: q.gold for q in questions})
            doc = retrieval_scores(rankings, {q.id: q.gold_doc for q in questions if q.gold_doc})
            out.append(SweepPoint(system, _means(rec), _means(doc)))
            log.info("%s %s", system.name, out[-1].record)
    finally:
        index.close()
    return out


def _means(scores: dict[str, dict[str, float]]) -> dict[str, float]:
    return {m: round(float(np.mean([s[m] for s in scores.values()])), 4) for m in RETRIEVAL_METRICS} if scores else {}


def grid(keyword_weights: Sequence[float], section_weights: Sequence[float]) -> list[System]:
    """Single retrievers, RRF, and weighted fusion over the grid of weights."""
    systems = [System("bm25", "bm25"), System("dense", "dense"), System("rrf", "rrf")]
    for kw, sw in itertools.product(keyword_weights, section_weights):
        systems.append(System(f"hybrid kw={kw:g} sw={sw:g}", "weighted",
                              (("keyword_weight", kw), ("section_weight", sw))))
    return systems
