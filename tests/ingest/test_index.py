"""The index boundaries on a real Chroma and bm25s: typed passages, one keyword search, filters, dimension checks."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from ingest import Filters, Index, SentenceTransformerEmbedder, ingest_paths
from ingest.vector import chroma_where
from medcite import IndexMismatchError
from medcite.config import Settings


class OtherDimension:
    """The real embedder, claiming another vector dimension (as a different model would)."""

    def __init__(self, inner: SentenceTransformerEmbedder, dim: int) -> None:
        self._inner = inner
        self.name = inner.name
        self._dim = dim

    @property
    def dim(self) -> int:
        return self._dim

    def __getattr__(self, name: str) -> object:
        return getattr(self._inner, name)


@pytest.fixture()
def built(settings: Settings, embedder: SentenceTransformerEmbedder, fixture_corpus: Path) -> Settings:
    ingest_paths([fixture_corpus], settings=settings, embedder=embedder)
    return settings


@pytest.mark.parametrize("create", [False, True])
def test_other_vector_dimension_is_refused_on_every_open(
    built: Settings, embedder: SentenceTransformerEmbedder, create: bool
) -> None:
    with pytest.raises(IndexMismatchError, match="384-dimensional"):
        Index.open(built, embedder=OtherDimension(embedder, 768), create=create)  # type: ignore[arg-type]
    Index.open(built, embedder=embedder, create=create).close()  # the refusal left the index usable


def test_passages_keyword_search_and_nearest(built: Settings, embedder: SentenceTransformerEmbedder) -> None:
    index = Index.open(built, embedder=embedder)
    try:
        passages = index.passages()
        assert len(passages) == index.counts()[1] > 3
        assert passages.ids == index.keyword().ids  # rows of the matrix are rows of the keyword scores
        assert passages.matrix.shape == (len(passages), embedder.dim)
        docs = {d.id: d for d in index.documents()}

        hits = index.keyword_search("methylprednisolone attack", 3)
        assert hits.scores.shape == (len(passages),) and 0 < len(hits.top) <= 3
        ranked = hits.ranked()
        assert sorted(ranked) == sorted(hits.top)
        assert [hits.scores[i] for i in ranked] == sorted((hits.scores[i] for i in ranked), reverse=True)
        assert float(hits.scores[ranked[0]]) == float(hits.scores.max())
        assert "nmosd" in passages.doc_ids[ranked[0]]

        only = np.asarray([d != passages.doc_ids[ranked[0]] for d in passages.doc_ids])
        masked = index.keyword_search("methylprednisolone attack", 3, only)
        assert not masked.scores[~only].any() and all(only[i] for i in masked.top)

        vector = embedder.embed_query("treatment of acute attacks")
        ids, cosines = index.nearest(vector, 5)
        assert len(ids) == 5 and cosines == sorted(cosines, reverse=True)
        issuer = docs[passages.doc_ids[passages.ids.index(ids[-1])]].issuer
        filtered, _ = index.nearest(vector, 5, Filters(issuers=(issuer,)))
        chunk_doc = dict(zip(passages.ids, passages.doc_ids, strict=True))
        assert filtered and {docs[chunk_doc[i]].issuer for i in filtered} == {issuer}
    finally:
        index.close()


def test_a_published_generation_matches_its_keyword_index_once(
        built: Settings, embedder: SentenceTransformerEmbedder, monkeypatch: pytest.MonkeyPatch) -> None:
    index = Index.open(built, embedder=embedder)
    try:
        assert index.generation  # what a service opens: a snapshot no ingest writes to
        first = index.keyword()
        calls: list[int] = []
        real = index.store.fingerprint
        monkeypatch.setattr(index.store, "fingerprint", lambda: calls.append(1) or real())
        for _ in range(3):
            assert index.keyword_search("methylprednisolone attack", 3).top
        assert index.keyword() is first and calls == []  # no hash over every chunk id per query
    finally:
        index.close()
    working = Index.open(built, embedder=embedder, create=True)
    try:  # the working store that ingest writes is still checked on every call
        calls = []
        real = working.store.fingerprint
        monkeypatch.setattr(working.store, "fingerprint", lambda: calls.append(1) or real())
        working.keyword()
        working.keyword()
        assert len(calls) == 2
    finally:
        working.close()


def test_chroma_where_holds_the_metadata_clauses_only() -> None:
    assert chroma_where(None) is None and chroma_where(Filters(topic="asthma")) is None
    assert chroma_where(Filters(audience="patient")) == {"audience": {"$eq": "patient"}}
    assert chroma_where(Filters(issuers=("NICE",), year_from=2020)) == {
        "$and": [{"issuer": {"$in": ["NICE"]}}, {"year": {"$gte": 2020}}]}
