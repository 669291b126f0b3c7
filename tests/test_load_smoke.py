"""Load smoke test: bench/locustfile.py headless for 10 s against a real 2-worker `medcite serve`, no failures."""

from __future__ import annotations

import csv
import os
import subprocess
import sys
from pathlib import Path

import pytest

from ingest import SentenceTransformerEmbedder, ingest_paths
from medcite.config import Settings
from tests.service.conftest import free_port, wait_for_http
from tests.service.test_shutdown import serve

ROOT = Path(__file__).resolve().parents[1]
LOCUST = Path(sys.executable).parent / "locust"


def _locust_or_skip() -> Path:
    if LOCUST.exists():
        return LOCUST
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail("locust is required under CI (it is in the dev extras: pip install -e '.[dev]')")
    pytest.skip("locust is not installed (pip install -e '.[dev]'); the load smoke test needs it")


@pytest.mark.slow
def test_locustfile_runs_ten_seconds_against_two_workers_without_failures(
        tmp_path: Path, fixture_corpus: Path, embedder: SentenceTransformerEmbedder) -> None:
    locust = _locust_or_skip()
    index_dir = tmp_path / "index"
    assert ingest_paths([fixture_corpus], settings=Settings(index_dir=index_dir), embedder=embedder).ok
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    proc = serve(index_dir, port, "--workers", "2", log=tmp_path / "serve.log",
                 env={"MEDCITE_API__ASK_LIMIT_PER_ADDRESS": "100000/minute"})
    try:
        wait_for_http(f"{url}/readyz", proc, timeout=180)
        run = subprocess.run(
            [str(locust), "-f", str(ROOT / "bench" / "locustfile.py"), "--headless", "-u", "4", "-r", "4", "-t", "10s",
             "--host", url, "--csv", str(tmp_path / "smoke"), "--only-summary", "--loglevel", "WARNING"],
            capture_output=True, text=True, timeout=120)
    finally:
        proc.terminate()
        proc.wait(timeout=60)
    stats = {row["Name"]: row for row in csv.DictReader((tmp_path / "smoke_stats.csv").open())}
    failures = list(csv.DictReader((tmp_path / "smoke_failures.csv").open()))
    assert not failures, failures
    assert run.returncode == 0, run.stderr[-2000:]
    # Every kind of request ran: JSON answers, SSE streams and follow-ups with the conversation secret.
    assert {"answer (json)", "answer (sse)", "follow-up"} <= set(stats), sorted(stats)
    assert all(int(stats[name]["Request Count"]) > 0 for name in ("answer (json)", "answer (sse)", "follow-up"))
    assert int(stats["Aggregated"]["Failure Count"]) == 0
