"""Faults: a Chroma server that dies and returns; corrupt, foreign and half-written index folders."""

from __future__ import annotations

import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from ingest import Index, SentenceTransformerEmbedder, ingest_paths
from ingest.generations import POINTER
from medcite.config import Settings, StorageSettings
from service import AnswerService
from service.api import create_app
from tests.service.conftest import LiveServer, free_port, wait_for_http

QUESTION = "How are acute NMOSD attacks treated?"


def _chroma(path: Path, port: int) -> subprocess.Popen[bytes]:
    exe = shutil.which("chroma") or str(Path(sys.executable).parent / "chroma")
    proc = subprocess.Popen([exe, "run", "--path", str(path), "--host", "127.0.0.1", "--port", str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_for_http(f"http://127.0.0.1:{port}/api/v2/heartbeat", proc, timeout=60)
    return proc


def _ingested_on_server(tmp_path: Path, fixture_corpus: Path,
                        embedder: SentenceTransformerEmbedder) -> tuple[int, subprocess.Popen[bytes], Settings]:
    """A `chroma run` server on a free port with the fixture corpus ingested into it."""
    port = free_port()
    chroma = _chroma(tmp_path / "chroma", port)
    settings = Settings(index_dir=tmp_path / "index", storage=StorageSettings(chroma_url=f"http://127.0.0.1:{port}"))
    try:
        assert ingest_paths([fixture_corpus], settings=settings, embedder=embedder).ok
    except BaseException:
        chroma.kill()
        raise
    return port, chroma, settings


@pytest.mark.slow
def test_a_killed_chroma_server_means_503_with_retry_after_and_answers_resume_when_it_returns(
        tmp_path: Path, fixture_corpus: Path, embedder: SentenceTransformerEmbedder) -> None:
    port, chroma, settings = _ingested_on_server(tmp_path, fixture_corpus, embedder)
    try:
        service = AnswerService(settings, index=Index.open(settings, embedder=embedder))
        with LiveServer(create_app(settings, service=service)) as live, \
                httpx.Client(base_url=live.url, timeout=60) as http:
            assert http.post("/v1/answers", json={"question": QUESTION}).status_code == 200
            chroma.send_signal(signal.SIGKILL)
            chroma.wait()
            for _ in range(3):
                res = http.post("/v1/answers", json={"question": QUESTION})
                assert res.status_code == 503, res.text
                assert int(res.headers["retry-after"]) > 0
                assert res.json()["type"] == "VectorStoreUnavailableError"
                assert "Chroma" in res.json()["detail"] and "try again" in res.json()["detail"]
            streamed = http.post("/v1/answers", json={"question": QUESTION}, headers={"accept": "text/event-stream"})
            assert streamed.status_code == 503 and "retry-after" in streamed.headers
            chat = http.post("/v1/chat/completions", json={"messages": [{"role": "user", "content": QUESTION}]})
            assert chat.status_code == 503 and "retry-after" in chat.headers
            assert http.get("/healthz").status_code == 200  # the process is fine
            chroma = _chroma(tmp_path / "chroma", port)
            res = http.post("/v1/answers", json={"question": QUESTION})
            assert res.status_code == 200, res.text
            assert res.json()["references"][0]["doc_id"] == "demo-nmosd"
        service.close()
    finally:
        if chroma.poll() is None:
            chroma.terminate()
            chroma.wait(timeout=20)


def _broken(kind: str, index: Path) -> str:
    """Break an index folder one way; returns the file the error must name."""
    if kind == "corrupt":
        (index / "store.sqlite").write_bytes(b"this is not SQLite" * 100)
        for leftover in ("store.sqlite-wal", "store.sqlite-shm", POINTER):
            (index / leftover).unlink(missing_ok=True)
        return "store.sqlite"
    if kind == "foreign":
        shutil.rmtree(index)
        index.mkdir()
        with sqlite3.connect(index / "store.sqlite") as db:
            db.execute("CREATE TABLE invoices (id INTEGER PRIMARY KEY, total REAL)")
        return "store.sqlite"
    # half-written: the pointer names a generation whose folder never got its store
    (index / POINTER).write_text("0123456789abcdef01234567\n")
    return POINTER


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["corrupt", "foreign", "half-written"])
def test_an_unusable_index_folder_is_one_cli_line_naming_it_and_readyz_503(
        kind: str, tmp_path: Path, fixture_corpus: Path, embedder: SentenceTransformerEmbedder) -> None:
    index = tmp_path / "index"
    assert ingest_paths([fixture_corpus], settings=Settings(index_dir=index), embedder=embedder).ok
    named = _broken(kind, index)
    before = (index / "store.sqlite").read_bytes()
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    res = subprocess.run([sys.executable, "-m", "medcite.cli", "stats", "--index", str(index)], env=env,
                         capture_output=True, text=True, timeout=300)
    assert res.returncode != 0
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("medcite: error:"), res.stderr
    assert str(index) in lines[0] and named in lines[0]
    assert (index / "store.sqlite").read_bytes() == before, "opening a broken folder changed it"
    with LiveServer(create_app(Settings(index_dir=index))) as live:
        ready = httpx.get(f"{live.url}/readyz", timeout=60)
        assert ready.status_code == 503 and named in ready.json()["detail"]
        asked = httpx.post(f"{live.url}/v1/answers", json={"question": QUESTION}, timeout=60)
        assert asked.status_code == 503 and asked.json()["detail"]


@pytest.mark.slow
def test_a_fresh_vector_store_is_refilled_from_the_chunk_store_by_the_next_ingest(
        tmp_path: Path, fixture_corpus: Path) -> None:
    index = tmp_path / "index"
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}

    def cli(*args: str) -> str:
        res = subprocess.run([sys.executable, "-m", "medcite.cli", *args, "--index", str(index)], env=env,
                             capture_output=True, text=True, timeout=300)
        assert res.returncode == 0, res.stderr
        return res.stdout

    cli("ingest", str(fixture_corpus))
    shutil.rmtree(index / "chroma")  # as when compose points the image's index at a new Chroma server
    cli("ingest", str(fixture_corpus))
    stats = json.loads(cli("stats", "--json"))
    assert stats["vectors"] == stats["chunks"] > 0


@pytest.mark.slow
def test_a_worker_started_while_the_chroma_server_is_down_serves_once_it_comes_up(
        tmp_path: Path, fixture_corpus: Path, embedder: SentenceTransformerEmbedder) -> None:
    port, chroma, settings = _ingested_on_server(tmp_path, fixture_corpus, embedder)
    try:
        chroma.send_signal(signal.SIGKILL)
        chroma.wait()
        with LiveServer(create_app(settings)) as live, httpx.Client(base_url=live.url, timeout=60) as http:
            ready = http.get("/readyz")
            assert ready.status_code == 503, ready.text
            assert "Chroma" in ready.json()["detail"] and "retrying" in ready.json()["detail"]
            asked = http.post("/v1/answers", json={"question": QUESTION})
            assert asked.status_code == 503 and asked.json()["detail"]
            chroma = _chroma(tmp_path / "chroma", port)
            deadline = time.monotonic() + 120  # a bound on the wait, not a speed requirement
            while (ready := http.get("/readyz")).status_code != 200:
                assert time.monotonic() < deadline, f"still not ready after the server came back: {ready.text}"
                time.sleep(0.5)
            res = http.post("/v1/answers", json={"question": QUESTION})
            assert res.status_code == 200, res.text
            assert res.json()["references"][0]["doc_id"] == "demo-nmosd"
    finally:
        if chroma.poll() is None:
            chroma.terminate()
            chroma.wait(timeout=20)
