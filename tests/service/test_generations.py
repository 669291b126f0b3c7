"""Index generations: two `medcite serve` workers keep answering, consistently, while a changed corpus is ingested."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from ingest import Index, SentenceTransformerEmbedder, ingest_paths
from ingest.generations import POINTER, published
from medcite.config import Settings
from tests.service.conftest import free_port, wait_for_http
from tests.service.test_observability import samples, value
from tests.service.test_shutdown import serve

QUESTION = "How are acute NMOSD attacks treated?"
OLD = "intravenous methylprednisolone 1 g daily for 3 to 5 days"
NEW = "intravenous methylprednisolone 1 g daily for five days, then oral prednisone"


def _bodies(corpus: Path) -> dict[str, str]:
    return {p.stem: p.read_text() for p in corpus.glob("*.md")}


def _consistent(answer: dict[str, Any], bodies: dict[str, str]) -> bool:
    """Every quoted span of the answer is text of that generation's documents."""
    spans = [(ref["doc_id"], span["text"]) for ref in answer["references"] for span in ref["spans"]]
    return bool(spans) and all(text in bodies[doc] for doc, text in spans)


@pytest.mark.slow
def test_two_workers_answer_from_one_generation_each_while_a_changed_corpus_is_ingested(
        tmp_path: Path, fixture_corpus: Path, embedder: SentenceTransformerEmbedder) -> None:
    index_dir = tmp_path / "index"
    assert ingest_paths([fixture_corpus], settings=Settings(index_dir=index_dir), embedder=embedder).ok
    first = published(index_dir)
    assert first is not None and (index_dir / POINTER).read_text().strip() == first.name
    before = _bodies(fixture_corpus)
    port = free_port()
    # Traffic from one address well past the per-address question limit (the limit has its own tests).
    proc = serve(index_dir, port, "--workers", "2", log=tmp_path / "serve.log",
                 env={"MEDCITE_API__ASK_LIMIT_PER_ADDRESS": "1000000/minute"})
    url = f"http://127.0.0.1:{port}"
    seen: list[tuple[int, str, dict[str, Any]]] = []
    stop = threading.Event()

    def traffic() -> None:
        with httpx.Client(base_url=url, timeout=60) as http:
            while not stop.is_set():
                res = http.post("/v1/answers", json={"question": QUESTION})
                seen.append((res.status_code, res.headers.get("x-index-generation", ""),
                             res.json() if res.status_code == 200 else {"error": res.text}))

    users = [threading.Thread(target=traffic) for _ in range(2)]
    try:
        wait_for_http(f"{url}/readyz", proc, timeout=180)
        for user in users:
            user.start()
        nmosd = fixture_corpus / "demo-nmosd.md"
        assert OLD in nmosd.read_text()
        nmosd.write_text(nmosd.read_text().replace(OLD, NEW))
        (fixture_corpus / "demo-extra.md").write_text(
            "---\nid: demo-extra\ntitle: Demo digest on gout\nissuer: Demo Society\nyear: 2024\n---\n"
            "## Treatment\nAcute gout flares are treated with colchicine or a nonsteroidal anti-inflammatory drug.\n")
        ingest = subprocess.run([sys.executable, "-m", "medcite.cli", "ingest", str(fixture_corpus), "--index",
                                 str(index_dir)], env={**os.environ, "HF_HUB_OFFLINE": "1"}, capture_output=True,
                                timeout=300)
        assert ingest.returncode == 0, ingest.stderr
        second = published(index_dir)
        assert second is not None and second.name != first.name
        after = _bodies(fixture_corpus)
        # Both workers pick the new generation up without a restart: wait for a run of answers from it.
        deadline = time.monotonic() + 120
        while sum(1 for _, g, _ in seen[-10:] if g == second.name) < 10:
            assert time.monotonic() < deadline, "the workers did not move to the new generation"
            assert proc.poll() is None
            time.sleep(0.2)
        stop.set()
        for user in users:
            user.join(timeout=60)
        # Multiprocess metrics: whichever worker answers the scrape reports both workers' requests.
        found = samples(httpx.get(f"{url}/metrics", timeout=60).text)
        answered = value(found, "medcite_http_requests_total", method="POST", route="/v1/answers", status="200")
        assert answered == sum(1 for status, _, _ in seen if status == 200) > 0
    finally:
        stop.set()
        for user in users:
            if user.is_alive():
                user.join(timeout=60)
        proc.terminate()
        proc.wait(timeout=60)
    errors = [(s, a) for s, _, a in seen if s != 200]
    assert not errors, errors[:3]
    generations = {g for _, g, _ in seen}
    assert generations == {first.name, second.name}
    for _, generation, answer in seen:
        bodies = before if generation == first.name else after
        assert _consistent(answer, bodies), (generation, answer["references"])
    assert any("for five days" in s["text"] for _, g, a in seen if g == second.name for s in a["summary_sentences"])
    # The index folder holds the working store and the two newest generations, nothing half-written.
    assert sorted(p.name for p in (index_dir / "generations").iterdir()) == sorted([first.name, second.name])
    reopened = Index.open(Settings(index_dir=index_dir), embedder=embedder)
    assert reopened.generation == second.name
    reopened.close()
