"""Optional cross-encoder reranking from a local model folder the operator supplies (never downloaded)."""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

from medcite.errors import RetrievalError

log = logging.getLogger(__name__)


class Reranker(Protocol):
    """Scores (query, passage) pairs; higher is more relevant."""

    def scores(self, query: str, passages: Sequence[str]) -> npt.NDArray[np.float32]: ...


class CrossEncoderReranker:
    """A sentence-transformers CrossEncoder loaded from a local folder on first use."""

    def __init__(self, path: Path) -> None:
        if not (path / "config.json").is_file():
            raise RetrievalError(f"reranker folder {path} has no config.json; point reranker_path at a local model")
        self.path = path
        self._model: Any = None
        self._lock = threading.Lock()

    def _load(self) -> Any:
        with self._lock:
            if self._model is None:
                os.environ.setdefault("HF_HUB_OFFLINE", "1")
                from sentence_transformers import CrossEncoder

                log.info("loading reranker from %s", self.path)
                self._model = CrossEncoder(str(self.path), device="cpu", local_files_only=True)
            return self._model

    def scores(self, query: str, passages: Sequence[str]) -> npt.NDArray[np.float32]:
        """Relevance of each passage to the query."""
        if not passages:
            return np.zeros(0, dtype=np.float32)
        raw = self._load().predict([(query, p) for p in passages], show_progress_bar=False)
        return np.asarray(raw, dtype=np.float32).reshape(len(passages))
