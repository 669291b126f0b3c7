"""Server mode: a real `chroma run` server as the vector store, end to end through ingest and answering."""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from ingest import Index, SentenceTransformerEmbedder, ingest_paths
from ingest.generations import FOLDER, KEYWORD, POINTER, STORE
from medcite.config import Settings, StorageSettings
from service import AnswerService
from service.api import create_app

from .conftest import LiveServer, free_port, wait_for_http


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


@pytest.mark.slow
def test_a_second_host_serves_from_only_the_published_generation_and_the_shared_server(
    tmp_path: Path, chroma_url: str, fixture_corpus: Path, embedder: SentenceTransformerEmbedder
) -> None:
    ingest_host = tmp_path / "index"
    assert ingest_paths([fixture_corpus], settings=Settings(
        index_dir=ingest_host, storage=StorageSettings(chroma_url=chroma_url)), embedder=embedder).ok
    name = (ingest_host / POINTER).read_text().strip()
    # What docs/operations.md says a serving host needs, copied the way it says: the generation, then CURRENT.
    other_host = tmp_path / "other-host" / "index"
    (other_host / FOLDER / name).mkdir(parents=True)
    shutil.copy(ingest_host / FOLDER / name / STORE, other_host / FOLDER / name / STORE)
    shutil.copytree(ingest_host / FOLDER / name / KEYWORD, other_host / FOLDER / name / KEYWORD)
    shutil.copy(ingest_host / POINTER, other_host / POINTER)
    settings = Settings(index_dir=other_host, storage=StorageSettings(chroma_url=chroma_url))
    with LiveServer(create_app(settings)) as live, httpx.Client(base_url=live.url, timeout=60) as http:
        assert http.get("/readyz").status_code == 200
        res = http.post("/v1/answers", json={"question": "How are acute NMOSD attacks treated?"})
        assert res.status_code == 200, res.text
        assert res.headers["x-index-generation"] == name
        assert res.json()["references"][0]["doc_id"] == "demo-nmosd"
    # The serving host wrote nothing of the ingest host's kind: no working store, no embedded Chroma.
    assert sorted(p.name for p in other_host.iterdir()) == sorted([FOLDER, POINTER])
    assert not (other_host / "store.sqlite").exists() and not (other_host / "chroma").exists()
