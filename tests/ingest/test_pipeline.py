"""Ingest into a real Chroma (temp dir) with the real model: idempotent, incremental, prunable, consistent."""

from __future__ import annotations

from pathlib import Path

import pytest

from ingest import Index, SentenceTransformerEmbedder, ingest_paths
from medcite import IndexMismatchError
from medcite.config import Settings


def _state(
    settings: Settings, embedder: SentenceTransformerEmbedder
) -> tuple[list[str], set[str], list[str]]:
    """(store chunk ids, Chroma ids, keyword ids) of an index."""
    index = Index.open(settings, embedder=embedder)
    try:
        return index.store.chunk_ids(), index.vectors.ids(), sorted(index.keyword().ids)
    finally:
        index.close()


def test_ingest_then_reingest_writes_nothing(
    settings: Settings, embedder: SentenceTransformerEmbedder, fixture_corpus: Path
) -> None:
    first = ingest_paths([fixture_corpus], settings=settings, embedder=embedder)
    assert (first.added, first.updated, first.unchanged, first.failures) == (3, 0, 0, [])
    assert first.chunks_written > 3
    ids, chroma, keyword = _state(settings, embedder)
    assert len(ids) == first.chunks_written and set(ids) == chroma and ids == keyword

    second = ingest_paths([fixture_corpus], settings=settings, embedder=embedder)
    assert (second.added, second.updated, second.unchanged, second.chunks_written) == (0, 0, 3, 0)
    assert _state(settings, embedder)[0] == ids


def test_changed_document_replaces_its_chunks(
    settings: Settings, embedder: SentenceTransformerEmbedder, fixture_corpus: Path
) -> None:
    ingest_paths([fixture_corpus], settings=settings, embedder=embedder)
    before, _, _ = _state(settings, embedder)
    doc = fixture_corpus / "demo-nmosd.md"
    doc.write_text(doc.read_text().replace("## Pregnancy\n", "## Pregnancy and breastfeeding\n"))
    report = ingest_paths([fixture_corpus], settings=settings, embedder=embedder)
    assert (report.updated, report.unchanged) == (1, 2)
    after, chroma, keyword = _state(settings, embedder)
    assert set(after) == chroma and after == keyword
    index = Index.open(settings, embedder=embedder)
    sections = {c.section for c, _ in index.store.iter_chunks(with_vectors=False) if c.doc_id == "demo-nmosd"}
    index.close()
    assert "Pregnancy and breastfeeding" in sections and "Pregnancy" not in sections
    assert len(after) == len(before)  # replaced, not added beside the old ones


def test_prune_removes_documents_no_longer_present(
    settings: Settings, embedder: SentenceTransformerEmbedder, fixture_corpus: Path
) -> None:
    ingest_paths([fixture_corpus], settings=settings, embedder=embedder)
    (fixture_corpus / "demo-asthma-old.md").unlink()
    kept = ingest_paths([fixture_corpus], settings=settings, embedder=embedder)
    assert kept.removed == 0  # without --prune nothing is deleted
    report = ingest_paths([fixture_corpus], settings=settings, embedder=embedder, prune=True)
    assert report.removed == 1
    index = Index.open(settings, embedder=embedder)
    assert {d.id for d in index.documents()} == {"demo-nmosd", "demo-asthma"}
    assert set(index.store.chunk_ids()) == index.vectors.ids()
    index.close()


def test_prune_keeps_documents_whose_file_failed(
    settings: Settings, embedder: SentenceTransformerEmbedder, fixture_corpus: Path
) -> None:
    ingest_paths([fixture_corpus], settings=settings, embedder=embedder)
    (fixture_corpus / "demo-asthma.md").write_text("---\ntitle: [broken\n---\ntext\n")
    report = ingest_paths([fixture_corpus], settings=settings, embedder=embedder, prune=True)
    assert [Path(f.source).name for f in report.failures] == ["demo-asthma.md"]
    assert report.removed == 0


def test_index_built_with_other_chunking_is_refused(
    settings: Settings, embedder: SentenceTransformerEmbedder, fixture_corpus: Path
) -> None:
    ingest_paths([fixture_corpus], settings=settings, embedder=embedder)
    other = settings.model_copy(update={"ingest": settings.ingest.model_copy(update={"chunk_tokens": 64})})
    with pytest.raises(IndexMismatchError, match="chunk_tokens"):
        Index.open(other, embedder=embedder)
