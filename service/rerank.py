"""Optional cross-encoder models from local folders the operator supplies (never downloaded): a reranker, and an
NLI model the verifier may use as its last check."""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

from ingest.st_models import load_cross_encoder
from medcite.errors import RetrievalError

log = logging.getLogger(__name__)


class PairScorer(Protocol):
    """Scores (text, passage) pairs: relevance for a reranker, entailment probability for NLI."""

    def scores(self, query: str, passages: Sequence[str]) -> npt.NDArray[np.float32]: ...


Reranker = PairScorer


class CrossEncoderReranker:
    """A sentence-transformers CrossEncoder loaded from a local folder on first use."""

    setting = "retrieval.reranker_path"

    def __init__(self, path: Path) -> None:
        if not (path / "config.json").is_file():
            raise RetrievalError(f"model folder {path} has no config.json; point {self.setting} at a local model")
        self.path = path
        self._model: Any = None
        self._lock = threading.Lock()

    def _load(self) -> Any:
        with self._lock:
            if self._model is None:
                self._model = load_cross_encoder(self.path)
            return self._model

    def scores(self, query: str, passages: Sequence[str]) -> npt.NDArray[np.float32]:
        """Relevance of each passage to the query."""
        if not passages:
            return np.zeros(0, dtype=np.float32)
        raw = self._load().predict([(query, p) for p in passages], show_progress_bar=False)
        return np.asarray(raw, dtype=np.float32).reshape(len(passages))


class NLIScorer(CrossEncoderReranker):
    """An NLI cross-encoder: the probability that the passage (premise) entails the sentence (hypothesis)."""

    setting = "verify.nli_path"

    def scores(self, query: str, passages: Sequence[str]) -> npt.NDArray[np.float32]:
        """Entailment probability of `query` given each passage."""
        if not passages:
            return np.zeros(0, dtype=np.float32)
        model = self._load()
        logits = np.asarray(model.predict([(p, query) for p in passages], show_progress_bar=False), dtype=np.float32)
        if logits.ndim == 1:  # a single-output model gives a score; squash it
            return np.asarray(1 / (1 + np.exp(-logits)), dtype=np.float32)
        labels = {int(k): str(v).casefold() for k, v in model.model.config.id2label.items()}
        index = next((k for k, v in labels.items() if "entail" in v), logits.shape[1] - 1)
        exp = np.exp(logits - logits.max(axis=1, keepdims=True))
        return np.asarray((exp / exp.sum(axis=1, keepdims=True))[:, index], dtype=np.float32)
