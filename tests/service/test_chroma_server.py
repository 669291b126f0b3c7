"""Server mode: a real `chroma run` server as the vector store, end to end through ingest and answering."""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from ingest import Index, SentenceTransformerEmbedder, ingest_paths
from medcite.config import Settings, StorageSettings
from service import AnswerService

from .conftest import free_port, wait_for_http


@pytest.fixture()
def chroma_url(tmp_path: Path) -> Iterator[str]:
    """A `chroma run` server on loopback, stopped after the test."""
    exe = shutil.which("chroma") or str(Path(sys.executable).parent / "chroma")
    port = free_port()
    proc = subprocess.Popen(
        [exe, "run", "--path", str(tmp_path / "server-data"), "--host", "127.0.0.1", "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_for_http(f"{url}/api/v2/heartbeat", proc, timeout=60)
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=20)


@pytest.mark.slow
def test_ingest_and_answer_through_a_chroma_server(
    tmp_path: Path, chroma_url: str, fixture_corpus: Path, embedder: SentenceTransformerEmbedder
) -> None:
    settings = Settings(index_dir=tmp_path / "index", storage=StorageSettings(chroma_url=chroma_url))
    report = ingest_paths([fixture_corpus], settings=settings, embedder=embedder)
    assert report.ok and report.chunks_written > 0
    assert not (tmp_path / "index" / "chroma").exists(), "server mode must not create an embedded Chroma"
    service = AnswerService(settings, index=Index.open(settings, embedder=embedder))
    try:
        assert service.index.vectors.count() == report.chunks_written
        answer = service.ask("How are acute NMOSD attacks treated?")
        assert not answer.abstained
        assert answer.references[0].doc_id == "demo-nmosd"
        assert any("methylprednisolone" in s.text for s in answer.all_sentences())
    finally:
        service.close()
