"""ONNX Runtime backend: a local export of the bundled weights, same vectors as PyTorch, int8 kept apart."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from pydantic import ValidationError

from ingest import Index, SentenceTransformerEmbedder, ingest_paths
from ingest.embedding import resolve_model_path
from ingest.onnx_model import ensure_onnx, weights_digest
from medcite import IndexMismatchError
from medcite.config import EmbeddingSettings, Settings
from service import AnswerService

TEXTS = [
    "Acute NMOSD attacks are treated with intravenous methylprednisolone.",
    "What is the first-line treatment of an asthma exacerbation in adults?",
    "Short.",
    "Inhaled corticosteroids reduce the risk of severe exacerbations; " * 30,  # past the 256-token window
]


@pytest.fixture(scope="module")
def onnx_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("onnx")


@pytest.fixture(scope="module")
def onnx_embedder(onnx_dir: Path) -> SentenceTransformerEmbedder:
    return SentenceTransformerEmbedder(EmbeddingSettings(backend="onnx", onnx_dir=onnx_dir))


@pytest.fixture(scope="module")
def torch_embedder() -> SentenceTransformerEmbedder:
    """PyTorch named explicitly: the session's `embedder` follows the default backend."""
    return SentenceTransformerEmbedder(EmbeddingSettings(backend="torch"))


def _cosines(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.sum(a * b, axis=1) / (np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1))


def test_onnx_fp32_vectors_match_torch(
        torch_embedder: SentenceTransformerEmbedder, onnx_embedder: SentenceTransformerEmbedder) -> None:
    embedder = torch_embedder
    assert embedder.backend == "torch" and onnx_embedder.backend == "onnx"
    assert onnx_embedder.dim == embedder.dim == 384
    assert onnx_embedder.max_tokens == embedder.max_tokens
    assert [onnx_embedder.count_tokens(t) for t in TEXTS] == [embedder.count_tokens(t) for t in TEXTS]
    torch_vecs, onnx_vecs = embedder.embed_texts(TEXTS), onnx_embedder.embed_texts(TEXTS)
    assert np.allclose(np.linalg.norm(onnx_vecs, axis=1), 1.0, atol=1e-5)
    assert _cosines(torch_vecs, onnx_vecs).min() > 0.999
    # Different texts stay different: the check above cannot pass with a constant vector.
    assert float(onnx_vecs[0] @ onnx_vecs[1]) < 0.9


def test_export_is_local_and_reused(onnx_embedder: SentenceTransformerEmbedder, onnx_dir: Path) -> None:
    onnx_embedder.embed_query("load the model")
    model_dir = resolve_model_path(EmbeddingSettings())
    path = ensure_onnx(model_dir, onnx_dir, "fp32")
    assert path == onnx_dir / weights_digest(model_dir) / "model.onnx" and path.stat().st_size > 1_000_000
    before = path.stat().st_mtime_ns
    assert ensure_onnx(model_dir, onnx_dir, "fp32") == path and path.stat().st_mtime_ns == before
    assert not list(model_dir.glob("*.onnx")) and not list(model_dir.glob("onnx/*"))  # nothing next to weights
    assert not [p for p in path.parent.iterdir() if p.name.startswith(".")]  # no temp file left behind


def test_answering_with_onnx_imports_neither_torch_nor_transformers(
        onnx_embedder: SentenceTransformerEmbedder, onnx_dir: Path) -> None:
    onnx_embedder.embed_query("export once")  # the export itself uses torch; loading it must not
    code = ("import sys; from ingest import SentenceTransformerEmbedder; from medcite.config import EmbeddingSettings;"
            f"e = SentenceTransformerEmbedder(EmbeddingSettings(backend='onnx', onnx_dir={str(onnx_dir)!r}));"
            "e.embed_query('What treats NMOSD?'); e.count_tokens('x');"
            "print(sorted({'torch', 'transformers', 'sentence_transformers'} & set(sys.modules)))")
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False,
                         cwd=Path(__file__).parents[2], env={**os.environ, "HF_HUB_OFFLINE": "1"})
    assert run.returncode == 0, run.stderr[-2000:]
    assert run.stdout.strip().splitlines()[-1] == "[]"  # a worker starts in about a second, not ten


def test_int8_is_a_different_model(onnx_dir: Path, onnx_embedder: SentenceTransformerEmbedder) -> None:
    fp32, int8 = EmbeddingSettings(backend="onnx"), EmbeddingSettings(backend="onnx", precision="int8")
    assert EmbeddingSettings().model_id == fp32.model_id != int8.model_id
    with pytest.raises(ValidationError, match=r"int8 needs embedding\.backend onnx"):
        EmbeddingSettings(backend="torch", precision="int8")
    quantized = SentenceTransformerEmbedder(int8.model_copy(update={"onnx_dir": onnx_dir}))
    texts = TEXTS[:3]
    cos = _cosines(quantized.embed_texts(texts), onnx_embedder.embed_texts(texts))
    assert cos.min() > 0.97 and cos.max() < 0.99999  # close to fp32, yet not the same vectors
    model_dir = resolve_model_path(EmbeddingSettings())
    int8_file = ensure_onnx(model_dir, onnx_dir, "int8")
    assert int8_file.name == "model_int8.onnx"
    assert int8_file.stat().st_size < (int8_file.parent / "model.onnx").stat().st_size / 3


@pytest.mark.parametrize("backend", ["onnx", "torch"])
def test_ingest_and_query_with_either_backend(
        backend: str, tmp_path: Path, fixture_corpus: Path, torch_embedder: SentenceTransformerEmbedder,
        onnx_embedder: SentenceTransformerEmbedder, onnx_dir: Path) -> None:
    embedders = {"onnx": onnx_embedder, "torch": torch_embedder}
    other = "torch" if backend == "onnx" else "onnx"
    settings = Settings(index_dir=tmp_path / "index", embedding={"backend": backend, "onnx_dir": onnx_dir})
    report = ingest_paths([fixture_corpus], settings=settings, embedder=embedders[backend])
    assert report.ok and report.chunks_written > 3
    # Same vectors from the other backend: chunk passage vectors agree within the same bound.
    index = Index.open(settings, embedder=embedders[backend])
    try:
        chunks, stored = zip(*index.store.iter_chunks(), strict=True)
        other_vecs = np.vstack([v.passage for v in embedders[other].embed_chunks(list(chunks))])
        assert _cosines(np.vstack([v.passage for v in stored]), other_vecs).min() > 0.999
    finally:
        index.close()
    service = AnswerService(settings, index=Index.open(settings, embedder=embedders[backend]))
    try:
        answer = service.ask("How are acute NMOSD attacks treated?")
        assert not answer.abstained
        assert "demo-nmosd" in {r.doc_id for r in answer.references}
    finally:
        service.close()
    # The other backend opens the same index (PyTorch and ONNX fp32 count as the same model).
    reopened = Settings(index_dir=tmp_path / "index", embedding={"backend": other, "onnx_dir": onnx_dir})
    Index.open(reopened, embedder=embedders[other]).close()


def test_index_refuses_to_mix_int8_with_fp32(
        tmp_path: Path, fixture_corpus: Path, embedder: SentenceTransformerEmbedder) -> None:
    settings = Settings(index_dir=tmp_path / "index")
    ingest_paths([fixture_corpus], settings=settings, embedder=embedder)
    int8 = Settings(index_dir=tmp_path / "index", embedding={"backend": "onnx", "precision": "int8"})
    for create in (False, True):  # neither serving nor an ingest into it
        with pytest.raises(IndexMismatchError) as caught:
            Index.open(int8, embedder=embedder, create=create)
        message = str(caught.value)
        assert "\n" not in message and "#int8" in message and "built with other settings" in message
