"""A SIGKILLed ingest is finished by the next run, leaving exactly the index a clean run builds."""

from __future__ import annotations

import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from ingest import Index, SentenceTransformerEmbedder
from ingest.generations import published
from medcite.config import Settings

ROOT = Path(__file__).resolve().parents[2]
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
    deadline = time.monotonic() + 900  # a bound on a stalled ingest, generous for a loaded machine
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


def _kill_when(proc: subprocess.Popen[bytes], index: Path, chunks: int, extra_s: float) -> None:
    """SIGKILL the ingest once `chunks` chunks are committed and `extra_s` more seconds have passed."""
    deadline = time.monotonic() + 900  # a bound on a stalled ingest, generous for a loaded machine
    while _chunks_committed(index) < chunks and proc.poll() is None:
        assert time.monotonic() < deadline, "ingest made no progress"
        time.sleep(0.02)
    time.sleep(extra_s)
    if proc.poll() is None:
        os.kill(proc.pid, signal.SIGKILL)
    proc.wait()


def _state(index: Path, *flags: str) -> dict[str, object]:
    """The index as a fresh process reads it (see tests/ingest/index_state.py for why not this one)."""
    res = subprocess.run([sys.executable, "-m", "tests.ingest.index_state", str(index), *flags], env=_env(),
                         cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stderr
    return json.loads(res.stdout)  # type: ignore[no-any-return]


def _in_step(state: dict[str, object]) -> bool:
    return state["chunks"] == state["vectors"] == state["keyword"]


@pytest.mark.slow
def test_ingest_killed_at_five_random_points_ends_like_a_clean_run(tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    _write_docs(docs, 40)
    clean = tmp_path / "clean"
    subprocess.run(_cli(docs, clean), env=_env(), check=True, capture_output=True, timeout=600)
    expected = _state(clean)
    assert _in_step(expected)
    total = len(expected["chunks"])  # type: ignore[arg-type]
    rng = random.Random(15)
    # Four points while chunks are written, one while Chroma, the keyword index and the generation are written after
    # the last chunk; each in a new folder, so no process ever reads a folder it saw before another one rewrote it.
    points = [(c, 0.0) for c in sorted(rng.sample(range(1, total), 4))] + [(total, rng.uniform(0.0, 1.5))]
    for n, (chunks, extra_s) in enumerate(points):
        crashed = tmp_path / f"crashed-{n}"
        proc = subprocess.Popen(_cli(docs, crashed), env=_env(), stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL)
        _kill_when(proc, crashed, chunks, extra_s)
        # Whatever was published before the kill is whole: its store and keyword index hold one chunk set.
        if published(crashed) is not None:
            seen = _state(crashed)
            assert seen["keyword"] == seen["chunks"], (chunks, extra_s)
        rerun = subprocess.run(_cli(docs, crashed), env=_env(), capture_output=True, text=True, timeout=600)
        assert rerun.returncode == 0, rerun.stderr
        assert _state(crashed) == expected, f"rerun after a kill at {chunks} chunks (+{extra_s:.2f} s) differs"


@pytest.mark.slow
@pytest.mark.parametrize("marker", ["none", "stale"])
def test_a_store_full_of_chunks_beside_an_empty_vector_store_is_refilled_by_the_rerun(
        tmp_path: Path, marker: str) -> None:
    """The state the quarantined five-point run reported, made on purpose: every chunk committed to the store and
    no vector in Chroma (a kill after the store's commit, before the upsert; or a Chroma emptied under a store whose
    sync marker still says it is in step). The rerun refills Chroma from the store and publishes."""
    docs = tmp_path / "docs"
    _write_docs(docs, 12)
    clean, crashed = tmp_path / "clean", tmp_path / "crashed"
    for folder in (clean, crashed):
        subprocess.run(_cli(docs, folder), env=_env(), check=True, capture_output=True, timeout=600)
    expected = _state(clean)
    broken = _state(crashed, "--empty-vectors")
    assert broken["vectors"] == [] and broken["chunks"] == expected["chunks"] and broken["generation"] == ""
    if marker == "stale":  # the store claims it was synced with a vector store that is now empty
        with sqlite3.connect(crashed / "store.sqlite") as db:
            fingerprint = db.execute("SELECT value FROM meta WHERE key = 'chroma_fingerprint'").fetchone()
            assert fingerprint == ("",)
            db.execute("UPDATE meta SET value = ? WHERE key = 'chroma_fingerprint'", (_fingerprint(expected),))
    rerun = subprocess.run(_cli(docs, crashed), env=_env(), capture_output=True, text=True, timeout=600)
    assert rerun.returncode == 0, rerun.stderr
    assert _state(crashed) == expected


def _fingerprint(state: dict[str, object]) -> str:
    return str(state["generation"])  # a generation is named by its chunk-id set's fingerprint
