"""Service fixtures: the bundled corpus indexed once per session, a real uvicorn server on 127.0.0.1."""

from __future__ import annotations

import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import uvicorn

from ingest import Index, SentenceTransformerEmbedder, ingest_paths
from medcite.config import Settings
from service import AnswerService
from service.api import create_app

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def corpus_settings(tmp_path_factory: pytest.TempPathFactory, embedder: SentenceTransformerEmbedder) -> Settings:
    """Settings of an index of the bundled corpus, built once for the session."""
    folder = tmp_path_factory.mktemp("corpus-index")
    settings = Settings(index_dir=folder / "index")
    report = ingest_paths([ROOT / "corpus"], settings=settings, embedder=embedder)
    assert report.ok, report.failures
    return settings


@pytest.fixture(scope="session")
def answer_service(corpus_settings: Settings, embedder: SentenceTransformerEmbedder) -> Iterator[AnswerService]:
    """One AnswerService over the corpus index."""
    service = AnswerService(corpus_settings, index=Index.open(corpus_settings, embedder=embedder))
    yield service
    service.close()


def free_port() -> int:
    """A free TCP port on loopback."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for_http(url: str, proc: subprocess.Popen[bytes], timeout: float) -> None:
    """Poll url until it answers 200; fail if the process exits or the time runs out."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        assert proc.poll() is None, f"server process exited with {proc.returncode}"
        assert time.monotonic() < deadline, f"{url} did not answer within {timeout} s"
        time.sleep(0.2)


class LiveServer:
    """uvicorn serving an app in a thread, reachable over real HTTP."""

    def __init__(self, app: object) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        config = uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning")  # type: ignore[arg-type]
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> LiveServer:
        self.thread.start()
        deadline = time.monotonic() + 60
        while not self.server.started:
            assert time.monotonic() < deadline, "uvicorn did not start"
            time.sleep(0.05)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


@pytest.fixture(scope="session")
def live_url(corpus_settings: Settings, answer_service: AnswerService) -> Iterator[str]:
    """Base URL of a real uvicorn server running the app on the corpus index."""
    # The suite asks from one address far faster than a reader could; the limits have tests of their own.
    api = corpus_settings.api.model_copy(update={"ask_limit_per_address": "100000/minute"})
    settings = corpus_settings.model_copy(update={"api": api})
    with LiveServer(create_app(settings, service=answer_service)) as server:
        yield server.url


@pytest.fixture()
def client(live_url: str) -> Iterator[httpx.Client]:
    """An HTTP client for the live server."""
    with httpx.Client(base_url=live_url, timeout=60) as http:
        yield http
