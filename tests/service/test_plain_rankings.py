"""The `bm25` and `dense` systems rank like a plain BM25 and a plain dense retriever on the same index."""

from __future__ import annotations

import numpy as np
import pytest

from medcite.config import Settings
from service import AnswerService, HybridRetriever

pytestmark = pytest.mark.slow
QUERIES = ("first-line treatment for hypertension", "how long to anticoagulate after a DVT",
           "screening mammography age", "treatment of acute gout flare")


def same_prefix(system: list[str], plain: list[str], stale: set[str]) -> None:
    """The system's document ranking (from its candidate pool) is a prefix of the plain ranking."""
    mine = [d for d in dict.fromkeys(system) if d not in stale][:10]
    theirs = [d for d in dict.fromkeys(plain) if d not in stale][: len(mine)]
    assert len(mine) >= 3 and mine == theirs


@pytest.mark.parametrize("query", QUERIES)
def test_plain_systems_match_plain_retrievers(answer_service: AnswerService, corpus_settings: Settings,
                                              query: str) -> None:
    cat = answer_service.catalog
    stale = set(cat.superseded_by)  # superseded versions are down-weighted in every system, by design
    doc_of = [cat.doc_order[int(d)] for d in cat.chunk_doc]

    bm25 = HybridRetriever(cat, corpus_settings.retrieval.model_copy(update={"fusion": "bm25"})).retrieve(query)
    scores = cat.index.keyword().scores(query)
    plain = [doc_of[i] for i in np.argsort(-scores, kind="stable") if scores[i] > 0]
    same_prefix(bm25.ranking, plain, stale)

    dense = HybridRetriever(cat, corpus_settings.retrieval.model_copy(update={"fusion": "dense"})).retrieve(query)
    cosines = cat.matrix @ dense.query_vector
    plain = [doc_of[i] for i in np.argsort(-cosines, kind="stable")]
    same_prefix(dense.ranking, plain, stale)
