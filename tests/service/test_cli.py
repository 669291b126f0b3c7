"""`medcite ask` and `medcite serve` as a user runs them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from .conftest import free_port, wait_for_http


def medcite(*args: str) -> subprocess.CompletedProcess[str]:
    """Run the CLI in a subprocess."""
    return subprocess.run(
        [sys.executable, "-m", "medcite.cli", *args],
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, "COLUMNS": "200"},
    )


@pytest.fixture()
def fixture_index(tmp_path: Path, fixture_corpus: Path) -> Path:
    """The fixture corpus indexed with the CLI."""
    index = tmp_path / "idx"
    assert medcite("ingest", str(fixture_corpus), "--index", str(index)).returncode == 0
    return index


@pytest.mark.slow
def test_ask_prints_the_answer_page_and_json(fixture_index: Path) -> None:
    page = medcite("ask", "How are acute NMOSD attacks treated?", "--index", str(fixture_index))
    assert page.returncode == 0, page.stderr
    out = page.stdout
    for part in (
        "How are acute NMOSD attacks treated?",
        "pending human review",
        "References",
        "Demo Society 2023",
        "methylprednisolone",
        "healthcare professionals",
    ):
        assert part in out, part
    data = json.loads(
        medcite("ask", "How are acute NMOSD attacks treated?", "--index", str(fixture_index), "--json").stdout
    )
    assert data["references"][0]["doc_id"] == "demo-nmosd" and not data["abstained"]
    bad = medcite("ask", "x", "--index", str(fixture_index), "--audience", "robot")
    assert bad.returncode == 2 and bad.stderr.strip().startswith("medcite: error: --audience")


@pytest.mark.slow
def test_serve_answers_over_http(fixture_index: Path) -> None:
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "medcite.cli", "serve", "--index", str(fixture_index), "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_for_http(f"{url}/readyz", proc, timeout=120)  # type: ignore[arg-type]
        answer = httpx.post(
            f"{url}/v1/answers", json={"question": "What reliever should adults with asthma use?"}, timeout=60
        ).json()
        assert answer["references"][0]["doc_id"] == "demo-asthma"
        assert not answer["references"][0]["superseded"]
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def test_a_malformed_llm_spec_is_one_line_naming_the_shape(fixture_index: Path) -> None:
    run = medcite("ask", "What is NMOSD?", "--index", str(fixture_index), "--llm", "gpt4 please")
    assert run.returncode == 2
    assert "PROVIDER:MODEL@URL" in run.stderr and len(run.stderr.strip().splitlines()) == 1
    run = medcite("ask", "What is NMOSD?", "--index", str(fixture_index), "--llm", "openai")
    assert run.returncode == 2 and "llm.model is required" in run.stderr
