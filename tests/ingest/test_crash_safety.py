"""A SIGKILLed ingest is finished by the next run, leaving exactly the index a clean run builds."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from ingest import Index, SentenceTransformerEmbedder
from medcite.config import Settings

DRUGS = [
    "metformin",
    "lisinopril",
    "amlodipine",
    "atorvastatin",
    "apixaban",
    "salbutamol",
    "budesonide",
    "levothyroxine",
    "sertraline",
    "omeprazole",
]


def _write_docs(folder: Path, n: int) -> None:
    folder.mkdir()
    for i in range(n):
        drug = DRUGS[i % len(DRUGS)]
        body = " ".join(
            f"Guideline {i} advises {drug} at step {j} for patients in group {i * 7 + j}, reviewed after {j + 2} weeks."
            for j in range(12)
        )
        (folder / f"doc{i:03d}.md").write_text(
            f"---\nid: doc{i:03d}\ntitle: Guideline {i} on {drug}\nissuer: Test\nyear: 2020\n---\n"
            f"## Treatment\n{body}\n## Monitoring\nMonitor {drug} levels every {i % 5 + 1} months.\n"
        )


def _cli(docs: Path, index: Path) -> list[str]:
    return [sys.executable, "-m", "medcite.cli", "ingest", str(docs), "--index", str(index)]


def _env() -> dict[str, str]:
    return {**os.environ, "MEDCITE_EMBEDDING__BATCH_SIZE": "4", "HF_HUB_OFFLINE": "1"}


def _chunks_committed(index: Path) -> int:
    store = index / "store.sqlite"
    if not store.exists():
        return 0
    try:
        with sqlite3.connect(f"file:{store}?mode=ro", uri=True, timeout=0.2) as db:
            return int(db.execute("SELECT COUNT(*) FROM chunks").fetchone()[0])
    except sqlite3.Error:
        return 0


@pytest.mark.slow
def test_killed_ingest_is_completed_by_rerun(tmp_path: Path, embedder: SentenceTransformerEmbedder) -> None:
    docs = tmp_path / "docs"
    _write_docs(docs, 60)
    crashed, clean = tmp_path / "crashed", tmp_path / "clean"

    proc = subprocess.Popen(
        _cli(docs, crashed), env=_env(), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    deadline = time.monotonic() + 240
    while _chunks_committed(crashed) < 20:
        assert proc.poll() is None, f"ingest ended before it could be killed: {proc.stderr.read()!r}"  # type: ignore[union-attr]
        assert time.monotonic() < deadline, "ingest made no progress"
        time.sleep(0.05)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    partial = _chunks_committed(crashed)

    rerun = subprocess.run(_cli(docs, crashed), env=_env(), capture_output=True, text=True, timeout=600)
    assert rerun.returncode == 0, rerun.stderr
    subprocess.run(_cli(docs, clean), env=_env(), check=True, capture_output=True, timeout=600)

    states = []
    for folder in (crashed, clean):
        index = Index.open(Settings(index_dir=folder), embedder=embedder)
        ids = index.store.chunk_ids()
        assert set(ids) == index.vectors.ids(), "Chroma out of step with the store"
        assert sorted(index.keyword().ids) == ids, "keyword index out of step with the store"
        states.append((ids, index.store.document_hashes().keys(), index.vectors.count()))
        index.close()
    assert 0 < partial < len(states[1][0])
    assert states[0][0] == states[1][0]
    assert set(states[0][1]) == set(states[1][1])
    assert states[0][2] == states[1][2] == len(states[1][0])
