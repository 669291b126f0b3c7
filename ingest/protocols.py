"""The index's I/O boundaries beside `Embedder`: a vector index and a keyword index, each a small Protocol."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

import numpy as np
import numpy.typing as npt

if TYPE_CHECKING:
    from ingest.embedding import ChunkVectors
    from ingest.models import Chunk, Document, Filters


@dataclass(frozen=True, slots=True)
class Passages:
    """Every chunk's id, document, innermost section and passage vector, in one order (the keyword scores' too)."""

    ids: list[str]
    doc_ids: list[str]
    sections: list[str]
    matrix: npt.NDArray[np.float32]

    def __len__(self) -> int:
        return len(self.ids)


@dataclass(frozen=True, slots=True)
class KeywordHits:
    """One keyword search: every chunk's score (zero where masked out) and the top rows by score."""

    scores: npt.NDArray[np.float32]  # aligned with KeywordIndex.ids
    top: list[int]  # the k best rows with a positive score, unordered (as selected)

    def ranked(self) -> list[int]:
        """The top rows, best first."""
        return sorted(self.top, key=lambda i: -float(self.scores[i]))


class VectorIndex(Protocol):
    """Passage vectors with document metadata, searched by cosine; applies `Filters` itself."""

    name: str

    def upsert(self, items: Sequence[tuple[Chunk, ChunkVectors, Document]]) -> None: ...

    def delete(self, ids: Sequence[str]) -> None: ...

    def ids(self) -> set[str]: ...

    def count(self) -> int: ...

    def query(
        self, vector: npt.NDArray[np.float32], n: int, filters: Filters | None = None
    ) -> tuple[list[str], list[float]]: ...


class KeywordIndex(Protocol):
    """Keyword scores of chunk texts, tagged with the fingerprint of the chunk set they were built from."""

    ids: list[str]
    fingerprint: str

    def scores(self, query: str) -> npt.NDArray[np.float32]: ...

    def search(self, query: str, k: int, mask: npt.NDArray[np.bool_] | None = None) -> KeywordHits: ...

    def save(self, root: Path) -> Path: ...
