"""The one place sentence-transformers models are loaded: the embedder, the reranker and the NLI model.

Loading is offline only (local folders, never a hub), on CPU, with the thread count from settings.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

_OFFLINE = {
    "HF_HUB_OFFLINE": "1",
    "TRANSFORMERS_OFFLINE": "1",
    "HF_HUB_DISABLE_PROGRESS_BARS": "1",
    "TRANSFORMERS_VERBOSITY": "error",
}


def _prepare(threads: int) -> None:
    """Offline flags (an operator's explicit values win) and torch's CPU threads (0 keeps torch's default)."""
    for key, value in _OFFLINE.items():
        os.environ.setdefault(key, value)
    if threads:
        import torch

        torch.set_num_threads(threads)


def load_sentence_transformer(path: Path, threads: int = 0) -> Any:
    """A SentenceTransformer from a local folder."""
    _prepare(threads)
    from sentence_transformers import SentenceTransformer

    log.info("loading sentence-transformers model from %s", path)
    return SentenceTransformer(str(path), device="cpu", local_files_only=True)


def load_cross_encoder(path: Path, threads: int = 0) -> Any:
    """A CrossEncoder (reranker or NLI) from a local folder."""
    _prepare(threads)
    from sentence_transformers import CrossEncoder

    log.info("loading cross-encoder from %s", path)
    return CrossEncoder(str(path), device="cpu", local_files_only=True)
