"""The keyword index: bm25s with an English stemmer, saved beside Chroma and tagged with the store's fingerprint."""

from __future__ import annotations

import json
import logging
import os
import shutil
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from ingest.protocols import KeywordHits

log = logging.getLogger(__name__)


def _bm25s() -> Any:
    import bm25s

    # bm25s sets its own logger to DEBUG on import; keep its chatter out of CLI output.
    logging.getLogger("bm25s").setLevel(logging.WARNING)
    return bm25s


def _tokenizer() -> Any:
    import Stemmer

    bm25s = _bm25s()

    return bm25s.tokenization.Tokenizer(stemmer=Stemmer.Stemmer("english"), stopwords="en")


class BM25Index:
    """BM25 over chunk texts (the `KeywordIndex` of medcite); `scores` gives every chunk's score for a query."""

    def __init__(self, ids: list[str], retriever: Any, tokenizer: Any, fingerprint: str) -> None:
        self.ids = ids
        self.fingerprint = fingerprint
        self._retriever = retriever
        self._tokenizer = tokenizer
        self._position = {chunk_id: i for i, chunk_id in enumerate(ids)}

    @classmethod
    def build(cls, ids: Sequence[str], texts: Sequence[str], fingerprint: str) -> BM25Index:
        """Index texts (one per id)."""
        bm25s = _bm25s()

        tokenizer = _tokenizer()
        retriever = bm25s.BM25()
        if texts:
            tokens = tokenizer.tokenize(
                list(texts), update_vocab=True, return_as="tuple", show_progress=False
            )
            retriever.index(tokens, show_progress=False)
        return cls(list(ids), retriever, tokenizer, fingerprint)

    def save(self, root: Path) -> Path:
        """Write to root/<fingerprint> atomically (temp folder, then rename) and drop older versions."""
        root.mkdir(parents=True, exist_ok=True)
        final = root / self.fingerprint
        if final.exists():
            return final
        tmp = root / f".{self.fingerprint}.tmp-{os.getpid()}"
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir()
        if self.ids:
            self._retriever.save(str(tmp))
            self._tokenizer.save_vocab(str(tmp))
            self._tokenizer.save_stopwords(str(tmp))
        (tmp / "ids.json").write_text(json.dumps(self.ids))
        os.replace(tmp, final)
        for old in root.iterdir():
            if old != final:
                shutil.rmtree(old, ignore_errors=True)
        return final

    @classmethod
    def load(cls, root: Path, fingerprint: str) -> BM25Index | None:
        """The saved index for this fingerprint, or None when there is none (it is then rebuilt)."""
        folder = root / fingerprint
        if not (folder / "ids.json").exists():
            return None
        bm25s = _bm25s()

        ids = json.loads((folder / "ids.json").read_text())
        tokenizer = _tokenizer()
        retriever = bm25s.BM25()
        if ids:
            retriever = bm25s.BM25.load(str(folder))
            tokenizer.load_vocab(str(folder))
            tokenizer.load_stopwords(str(folder))
        return cls(ids, retriever, tokenizer, fingerprint)

    def scores(self, query: str) -> npt.NDArray[np.float32]:
        """BM25 score of every chunk (aligned with `ids`) for a query."""
        if not self.ids:
            return np.zeros(0, dtype=np.float32)
        token_ids = self._tokenizer.tokenize(
            [query], update_vocab=False, return_as="ids", show_progress=False
        )[0]
        if not token_ids:
            return np.zeros(len(self.ids), dtype=np.float32)
        return np.asarray(self._retriever.get_scores(token_ids), dtype=np.float32)

    def search(self, query: str, k: int, mask: npt.NDArray[np.bool_] | None = None) -> KeywordHits:
        """Every score (zero outside mask) and the k best rows with a positive score."""
        scores = self.scores(query)
        if mask is not None:
            scores = np.where(mask, scores, 0.0)
        k = min(k, len(scores))
        if k == 0:
            return KeywordHits(scores, [])
        top = np.argpartition(-scores, k - 1)[:k]
        return KeywordHits(scores, [int(i) for i in top if scores[i] > 0])

    def position(self, chunk_id: str) -> int | None:
        """Row of a chunk id in the score vector."""
        return self._position.get(chunk_id)
