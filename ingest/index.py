"""The index: chunk store (truth) + Chroma vectors + bm25s keywords, opened together and kept in step."""

from __future__ import annotations

import hashlib
import json
import logging
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import numpy.typing as npt

from ingest import generations
from ingest.embedding import ChunkVectors, Embedder, SentenceTransformerEmbedder
from ingest.keyword import BM25Index
from ingest.models import Chunk, Document, Filters
from ingest.protocols import KeywordHits, KeywordIndex, Passages, VectorIndex
from ingest.store import ChunkStore
from ingest.vector import ChromaIndex, make_client
from medcite.config import Settings
from medcite.errors import IndexMismatchError, IndexMissingError, RetrievalError

log = logging.getLogger(__name__)

SCHEMA_VERSION = "1"


def build_spec(settings: Settings) -> dict[str, str]:
    """What an index is built with; opening it with anything else is refused."""
    return {
        "schema": SCHEMA_VERSION,
        "model": settings.embedding.model_id,
        "chunk_tokens": str(settings.ingest.chunk_tokens),
        "overlap_sentences": str(settings.ingest.overlap_sentences),
    }


def collection_name(spec: dict[str, str]) -> str:
    """Chroma collection named by a hash of the build spec, so two builds never share vectors."""
    digest = hashlib.sha256(json.dumps(spec, sort_keys=True).encode()).hexdigest()[:16]
    return f"medcite-{digest}"


@dataclass(frozen=True, slots=True)
class IndexStats:
    """What an index holds."""

    index_dir: str
    model: str
    dim: int
    documents: int
    chunks: int
    vectors: int
    keyword_in_step: bool
    chunk_tokens: int
    by_issuer: dict[str, int] = field(default_factory=dict)
    by_specialty: dict[str, int] = field(default_factory=dict)
    by_year: dict[str, int] = field(default_factory=dict)
    by_audience: dict[str, int] = field(default_factory=dict)


class Index:
    """Opened index; `sync()` makes Chroma and the keyword index match the chunk store."""

    def __init__(
        self, settings: Settings, embedder: Embedder, store: ChunkStore, vectors: VectorIndex, *,
        keyword: KeywordIndex | None = None, generation: str = "",
    ) -> None:
        self.settings = settings
        self.embedder = embedder
        self.store = store
        self.vectors = vectors
        # The published generation this index reads ("" for the working store that ingest writes).
        self.generation = generation
        # Given, or loaded (built when missing) as bm25s under keyword_dir; replaced when the store changes.
        self._keyword = keyword

    @property
    def keyword_dir(self) -> Path:
        """Where the keyword index of this store lives."""
        if self.generation:
            return self.root / generations.FOLDER / self.generation / generations.KEYWORD
        return self.root / "keyword"

    @property
    def root(self) -> Path:
        """The index folder."""
        return Path(self.settings.storage.index_dir)

    @classmethod
    def open(cls, settings: Settings, *, embedder: Embedder | None = None, create: bool = False) -> Index:
        """Open (or with create=True, start) the index described by settings.

        Without create, the generation last published is opened (a snapshot no ingest writes to); with create, the
        working store that ingest updates."""
        root = Path(settings.storage.index_dir)
        store_path = root / "store.sqlite"
        generation = ""
        if not create:
            folder = generations.published(root)
            if folder is not None:
                store_path, generation = folder / generations.STORE, folder.name
        if not create and not store_path.exists():
            raise IndexMissingError(
                f"no index at {root}; build it with `medcite ingest corpus --index {root}`"
            )
        embedder = embedder or SentenceTransformerEmbedder(settings.embedding)
        store = ChunkStore(store_path, create=create)
        spec = build_spec(settings)
        store.check_build(spec)
        meta = store.meta()
        if "dim" not in meta:
            store.set_meta({"dim": str(embedder.dim)})
        elif int(meta["dim"]) != embedder.dim:  # on every open: a service must not query with other vectors
            store.close()
            raise IndexMismatchError(
                f"index has {meta['dim']}-dimensional vectors, the model gives {embedder.dim}"
            )
        try:
            vectors = ChromaIndex(make_client(settings), collection_name(spec), embedder)
        except BaseException:
            store.close()  # a worker retrying an unreachable Chroma server must not leak a connection per try
            raise
        return cls(settings, embedder, store, vectors, generation=generation)

    def close(self) -> None:
        """Release the store."""
        self.store.close()

    @property
    def dim(self) -> int:
        """Recorded vector dimension."""
        return int(self.store.meta().get("dim", "0"))

    def sync(self) -> tuple[int, int]:
        """Bring Chroma and the keyword index in step with the store; returns (vectors added, removed)."""
        fingerprint = self.store.fingerprint()
        added = removed = 0
        # The count catches a vector store that is new (a fresh Chroma server or volume) though the marker matches.
        if self.store.meta().get("chroma_fingerprint") != fingerprint or \
                self.vectors.count() != self.store.count()[1]:
            wanted = set(self.store.chunk_ids())
            present = self.vectors.ids()
            extra = sorted(present - wanted)
            missing = sorted(wanted - present)
            if extra:
                self.vectors.delete(extra)
            if missing:
                docs = {d.id: d for d in self.store.documents()}
                for i in range(0, len(missing), 2000):
                    items = [
                        (c, v, docs[c.doc_id])
                        for c, v in self.store.iter_chunks(missing[i : i + 2000])
                        if v is not None
                    ]
                    self.vectors.upsert(items)
            added, removed = len(missing), len(extra)
            self.store.set_meta({"chroma_fingerprint": fingerprint, "chroma_collection": self.vectors.name})
        keyword = self.keyword()
        if not self.generation:  # Chroma and the keywords are in step: services may now read this chunk set
            generations.publish(self.root, self.store, keyword)
        return added, removed

    def keyword(self) -> KeywordIndex:
        """The keyword index matching the store; rebuilt and saved when it is missing or stale.

        A published generation is never written, so its keyword index, once matched to its store, stays matched:
        the store's fingerprint (a hash over every chunk id, 30 ms at 20k chunks) is not recomputed per query."""
        if self.generation and self._keyword is not None:
            return self._keyword
        fingerprint = self.store.fingerprint()
        if self._keyword is not None and self._keyword.fingerprint == fingerprint:
            return self._keyword
        folder = self.keyword_dir
        loaded = BM25Index.load(folder, fingerprint)
        if loaded is None:
            pairs = [(c.id, c.embed_text) for c, _ in self.store.iter_chunks(with_vectors=False)]
            loaded = BM25Index.build([p[0] for p in pairs], [p[1] for p in pairs], fingerprint)
            try:
                loaded.save(folder)
            except OSError as exc:  # a read-only index still serves from memory
                log.warning("cannot save keyword index: %s", exc)
        self._keyword = loaded
        return loaded

    def documents(self) -> list[Document]:
        """Every indexed document."""
        return self.store.documents()

    def passages(self) -> Passages:
        """Every chunk's id, document, section and passage vector, in the order of the keyword scores."""
        ids, doc_ids, sections, matrix = self.store.passages()
        if ids != self.keyword().ids:
            raise RetrievalError("keyword index is out of step with the chunk store; run `medcite ingest` again")
        return Passages(ids, doc_ids, sections, matrix)

    def chunks(
        self, ids: Sequence[str], *, with_vectors: bool = True
    ) -> Iterator[tuple[Chunk, ChunkVectors | None]]:
        """The given chunks, optionally with their passage and sentence vectors."""
        return self.store.iter_chunks(ids, with_vectors=with_vectors)

    def nearest(
        self, vector: npt.NDArray[np.float32], n: int, filters: Filters | None = None
    ) -> tuple[list[str], list[float]]:
        """The n chunks nearest a query vector among those the filters admit: ids and cosines."""
        return self.vectors.query(vector, n, filters)

    def keyword_search(self, query: str, k: int, mask: npt.NDArray[np.bool_] | None = None) -> KeywordHits:
        """Keyword scores of every passage (rows of `passages()`) and the top k."""
        return self.keyword().search(query, k, mask)

    def counts(self) -> tuple[int, int]:
        """(documents, chunks) in the store."""
        return self.store.count()

    def stats(self) -> IndexStats:
        """Counts by issuer, specialty, year and audience."""
        docs = self.store.documents()
        n_docs, n_chunks = self.store.count()
        meta = self.store.meta()
        folder = self.keyword_dir / self.store.fingerprint()
        return IndexStats(
            index_dir=str(self.root),
            model=meta.get("model", ""),
            dim=int(meta.get("dim", "0")),
            documents=n_docs,
            chunks=n_chunks,
            vectors=self.vectors.count(),
            keyword_in_step=(folder / "ids.json").exists(),
            chunk_tokens=int(meta.get("chunk_tokens", "0")),
            by_issuer=dict(Counter(d.issuer or "(none)" for d in docs).most_common()),
            by_specialty=dict(Counter(d.specialty or "(none)" for d in docs).most_common()),
            by_year=dict(sorted(Counter(str(d.year or "(none)") for d in docs).items())),
            by_audience=dict(Counter(d.audience for d in docs).most_common()),
        )
