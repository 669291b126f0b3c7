"""The `bm25` and `dense` systems rank like a plain BM25 and a plain dense retriever on the same index."""

from __future__ import annotations

import numpy as np
import pytest

from medcite.config import Settings
from service import AnswerService, HybridRetriever

pytestmark = pytest.mark.slow
QUERIES = ("first-line treatment for hypertension", "how long to anticoagulate after a DVT",
           "screening mammography age", "treatment of acute gout flare")


def first_docs(doc_ids: list[str], n: int = 10) -> list[str]:
    return list(dict.fromkeys(doc_ids))[:n]


@pytest.mark.parametrize("query", QUERIES)
def test_plain_systems_match_plain_retrievers(answer_service: AnswerService, corpus_settings: Settings,
                                              query: str) -> None:
    cat = answer_service.catalog
    stale = set(cat.superseded_by)  # superseded versions are down-weighted in every system, by design
    doc_of = [cat.doc_order[int(d)] for d in cat.chunk_doc]

    bm25 = HybridRetriever(cat, corpus_settings.retrieval.model_copy(update={"fusion": "bm25"})).retrieve(query)
    scores = cat.index.keyword().scores(query)
    plain = [doc_of[i] for i in np.argsort(-scores, kind="stable") if scores[i] > 0]
    assert first_docs([d for d in bm25.ranking if d not in stale]) == first_docs([d for d in plain
                                                                                   if d not in stale])

    dense = HybridRetriever(cat, corpus_settings.retrieval.model_copy(update={"fusion": "dense"})).retrieve(query)
    cosines = cat.matrix @ dense.query_vector
    plain = [doc_of[i] for i in np.argsort(-cosines, kind="stable")]
    assert first_docs([d for d in dense.ranking if d not in stale]) == first_docs([d for d in plain
                                                                                    if d not in stale])
