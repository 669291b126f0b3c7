"""The Chroma vector index (embedded PersistentClient or a `chroma run` server); the only Chroma import."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import numpy as np
import numpy.typing as npt

from ingest.embedding import ChunkVectors, Embedder
from ingest.models import Chunk, Document, Filters
from medcite.config import EmbeddingSettings, Settings
from medcite.errors import RetrievalError, VectorStoreUnavailableError

log = logging.getLogger(__name__)

Where = dict[str, Any]


def make_embedding_function(embedder: Embedder) -> Any:
    """Chroma embedding function backed by medcite's embedder (Chroma's default one would download a model)."""
    from chromadb import EmbeddingFunction

    class MedciteEmbeddingFunction(EmbeddingFunction):  # type: ignore[type-arg,misc]
        def __init__(self, inner: Embedder) -> None:
            self._inner = inner

        def __call__(self, input: Sequence[str]) -> list[Any]:
            return list(self._inner.embed_texts(list(input)))

        @staticmethod
        def name() -> str:
            return "medcite"

        def get_config(self) -> dict[str, Any]:
            return {"model_name": self._inner.name}

        @staticmethod
        def build_from_config(config: dict[str, Any]) -> MedciteEmbeddingFunction:
            from ingest.embedding import SentenceTransformerEmbedder  # loads lazily, on first call

            return MedciteEmbeddingFunction(SentenceTransformerEmbedder(EmbeddingSettings(**config)))

        def default_space(self) -> Any:
            return "cosine"

    return MedciteEmbeddingFunction(embedder)


def make_client(settings: Settings) -> Any:
    """A Chroma client with telemetry off: a server when chroma_url is set, else embedded in the index dir."""
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    chroma_settings = ChromaSettings(anonymized_telemetry=False)
    url = settings.storage.chroma_url
    if url:
        parsed = urlparse(url)
        try:
            return chromadb.HttpClient(
                host=parsed.hostname or "127.0.0.1",
                port=parsed.port or 8000,
                ssl=parsed.scheme == "https",
                settings=chroma_settings,
            )
        except Exception as exc:  # chromadb raises bare exceptions for connection failures
            raise VectorStoreUnavailableError(
                f"the vector store (Chroma) cannot be reached at {url} ({type(exc).__name__}: {exc})") from None
    path = Path(settings.storage.index_dir) / "chroma"
    path.mkdir(parents=True, exist_ok=True)
    return chromadb.PersistentClient(path=str(path), settings=chroma_settings)


def chunk_metadata(chunk: Chunk, doc: Document) -> dict[str, str | int]:
    """Scalar metadata stored with each vector, used by `where` filters and by LangChain's retriever."""
    meta: dict[str, str | int] = {
        "doc_id": doc.id,
        "title": doc.title,
        "section": chunk.section,
        "ordinal": chunk.ordinal,
        "audience": doc.audience,
        "issuer": doc.issuer,
        "specialty": doc.specialty,
    }
    if doc.year is not None:
        meta["year"] = doc.year
    if chunk.page is not None:
        meta["page"] = chunk.page
    return meta


def chroma_where(filters: Filters | None) -> Where | None:
    """The part of the filters Chroma can apply itself (topic is checked afterwards, on the documents)."""
    if filters is None:
        return None
    clauses: list[Where] = []
    if filters.issuers:
        clauses.append({"issuer": {"$in": list(filters.issuers)}})
    if filters.specialties:
        clauses.append({"specialty": {"$in": list(filters.specialties)}})
    if filters.year_from is not None:
        clauses.append({"year": {"$gte": filters.year_from}})
    if filters.year_to is not None:
        clauses.append({"year": {"$lte": filters.year_to}})
    if filters.audience:
        clauses.append({"audience": {"$eq": filters.audience}})
    if not clauses:
        return None
    return clauses[0] if len(clauses) == 1 else {"$and": clauses}


class ChromaIndex:
    """One Chroma collection holding every chunk's passage vector, text and metadata (a `VectorIndex`)."""

    def __init__(self, client: Any, name: str, embedder: Embedder) -> None:
        self._client = client
        self.name = name
        try:
            self.collection = client.get_or_create_collection(
                name=name,
                embedding_function=make_embedding_function(embedder),
                configuration={"hnsw": {"space": "cosine"}},
            )
            self._batch = int(client.get_max_batch_size())
        except Exception as exc:  # an unreachable server raises its HTTP client's errors
            raise VectorStoreUnavailableError(
                f"the vector store (Chroma) cannot be reached ({type(exc).__name__}: {exc})") from None

    def upsert(self, items: Sequence[tuple[Chunk, ChunkVectors, Document]]) -> None:
        """Write vectors (ids are content hashes, so repeating an upsert changes nothing)."""
        for i in range(0, len(items), self._batch):
            part = items[i : i + self._batch]
            self.collection.upsert(
                ids=[c.id for c, _, _ in part],
                embeddings=np.stack([v.passage for _, v, _ in part]),
                documents=[c.text for c, _, _ in part],
                metadatas=[chunk_metadata(c, d) for c, _, d in part],  # type: ignore[misc]
            )

    def delete(self, ids: Sequence[str]) -> None:
        """Remove vectors by id."""
        for i in range(0, len(ids), self._batch):
            self.collection.delete(ids=list(ids[i : i + self._batch]))

    def ids(self) -> set[str]:
        """Every id in the collection."""
        found: set[str] = set()
        offset = 0
        while True:
            page = self.collection.get(include=[], limit=self._batch, offset=offset)
            found.update(page["ids"])
            if len(page["ids"]) < self._batch:
                return found
            offset += self._batch

    def count(self) -> int:
        """Number of vectors."""
        return int(self.collection.count())

    def query(
        self, vector: npt.NDArray[np.float32], n: int, filters: Filters | None = None
    ) -> tuple[list[str], list[float]]:
        """Nearest chunks admitted by the filters' metadata clauses: ids and cosine similarities."""
        try:
            res = self.collection.query(
                query_embeddings=[vector], n_results=max(1, n), where=chroma_where(filters), include=["distances"]
            )
        except ValueError as exc:
            raise RetrievalError(f"bad filter: {exc}") from None
        except Exception as exc:  # chromadb raises its client's connection errors as they come
            raise VectorStoreUnavailableError(
                f"the vector store (Chroma) cannot be reached ({type(exc).__name__}: {exc}); try again shortly"
            ) from None
        distances = res["distances"][0] if res.get("distances") else []
        return list(res["ids"][0]), [1.0 - float(d) for d in distances]
