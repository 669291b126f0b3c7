"""Incremental, idempotent, crash-safe ingest: load → chunk → embed → store → sync vectors and keywords.

Crash safety: the SQLite chunk store is the truth and each batch of documents is committed in one
transaction after its vectors are computed. Chroma and the bm25s index are derived from the store and
reconciled at the end of every run, so a run killed at any point is finished by the next run of the same
command, with the same content-hash chunk ids a clean run produces.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Protocol

from ingest.chunking import chunk_document
from ingest.embedding import ChunkVectors, Embedder
from ingest.index import Index
from ingest.loaders import load_paths
from ingest.models import Chunk, Document, IngestFailure, IngestReport
from medcite.config import Settings

log = logging.getLogger(__name__)


class Progress(Protocol):
    """Receives progress of long work (the CLI shows it with rich)."""

    def start(self, total: int, description: str) -> None: ...

    def advance(self, n: int) -> None: ...


class _Silent:
    def start(self, total: int, description: str) -> None:
        pass

    def advance(self, n: int) -> None:
        pass


def ingest_paths(
    paths: Sequence[Path],
    *,
    settings: Settings,
    embedder: Embedder | None = None,
    prune: bool = False,
    progress: Progress | None = None,
) -> IngestReport:
    """Ingest files and folders into the index of `settings`; see the module docstring for guarantees."""
    progress = progress or _Silent()
    report = IngestReport()
    docs: list[Document] = []
    seen: dict[str, str] = {}
    for item in load_paths(paths):
        if isinstance(item, IngestFailure):
            report.failures.append(item)
        elif item.id in seen:
            report.failures.append(
                IngestFailure(item.source, f"duplicate document id {item.id!r} (also {seen[item.id]})")
            )
        else:
            seen[item.id] = item.source
            docs.append(item)

    index = Index.open(settings, embedder=embedder, create=True)
    try:
        stored = index.store.document_hashes()
        todo: list[Document] = []
        for doc in docs:
            previous = stored.get(doc.id)
            if previous is not None and previous[0] == doc.content_hash:
                report.unchanged += 1
            else:
                todo.append(doc)
                if previous is None:
                    report.added += 1
                else:
                    report.updated += 1
        _write(index, todo, settings, report, progress)
        if prune:
            # A document whose file failed to load this time is kept: a parse error must not delete data.
            failed = {_source_file(f.source) for f in report.failures}
            gone = [
                doc_id
                for doc_id, (_, source) in stored.items()
                if doc_id not in seen and _source_file(source) not in failed
            ]
            deleted = index.store.delete_documents(gone)
            report.removed = len(gone)
            report.chunks_deleted += len(deleted)
            index.vectors.delete(deleted)
        index.sync()
    finally:
        index.close()
    return report


def _source_file(source: str) -> str:
    """The file of a document source ("path" or "path:line" for JSON Lines records)."""
    head, _, tail = source.rpartition(":")
    return head if head and tail.isdigit() else source


def _write(
    index: Index, docs: list[Document], settings: Settings, report: IngestReport, progress: Progress
) -> None:
    """Chunk, embed and commit documents in batches of about four encode batches."""
    embedder = index.embedder
    budget = settings.ingest.chunk_tokens
    overlap = settings.ingest.overlap_sentences
    batch_chunks = settings.embedding.batch_size * 4
    pending: list[tuple[Document, list[Chunk]]] = []
    n_pending = 0
    total = 0
    plans: list[tuple[Document, list[Chunk]]] = []
    for doc in docs:
        chunks = chunk_document(doc, count_tokens=embedder.count_tokens, max_tokens=budget, overlap=overlap)
        plans.append((doc, chunks))
        total += len(chunks)
    progress.start(total, "embedding chunks")
    for doc, chunks in plans:
        if not chunks:
            report.failures.append(IngestFailure(doc.source, "no text to index"))
            continue
        pending.append((doc, chunks))
        n_pending += len(chunks)
        if n_pending >= batch_chunks:
            _commit(index, pending, report)
            progress.advance(n_pending)
            pending, n_pending = [], 0
    if pending:
        _commit(index, pending, report)
        progress.advance(n_pending)


def _commit(index: Index, batch: Iterable[tuple[Document, list[Chunk]]], report: IngestReport) -> None:
    batch = list(batch)
    flat = [c for _, chunks in batch for c in chunks]
    vectors = index.embedder.embed_chunks(flat)
    items: list[tuple[Document, list[Chunk], list[ChunkVectors]]] = []
    cursor = 0
    for doc, chunks in batch:
        items.append((doc, chunks, vectors[cursor : cursor + len(chunks)]))
        cursor += len(chunks)
    written, deleted = index.store.replace_documents(items)
    report.chunks_written += len(written)
    report.chunks_deleted += len(deleted)
    # Chroma follows the store; if the process dies here, the next run's sync() repairs it.
    index.vectors.delete(deleted)
    index.vectors.upsert(
        [(c, v, doc) for doc, chunks, vecs in items for c, v in zip(chunks, vecs, strict=True)]
    )
