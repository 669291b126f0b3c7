"""The `medcite` CLI as a user runs it: a subprocess, exit codes and one-line errors."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path


def medcite(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """Run the CLI in a subprocess."""
    return subprocess.run(
        [sys.executable, "-m", "medcite.cli", *args],
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, **(env or {})},
    )


def test_ingest_reports_counts_and_stats_reads_them(tmp_path: Path, fixture_corpus: Path) -> None:
    index = tmp_path / "idx"
    (fixture_corpus / "broken.md").write_text("---\ntitle: [oops\n---\nbody\n")
    run = medcite("ingest", str(fixture_corpus), "--index", str(index))
    assert run.returncode == 1, "a failed file makes the exit status non-zero"
    assert "3 added" in run.stdout and "1 failed" in run.stdout
    assert "broken.md" in run.stderr and "malformed front matter" in run.stderr

    stats = medcite("stats", "--index", str(index), "--json")
    assert stats.returncode == 0, stats.stderr
    data = json.loads(stats.stdout)
    assert data["documents"] == 3 and data["chunks"] == data["vectors"] > 0
    assert data["dim"] == 384 and data["model"].endswith("all-MiniLM-L6-v2")
    assert data["by_issuer"] == {"Demo Initiative": 2, "Demo Society": 1}
    assert data["by_year"] == {"2018": 1, "2023": 1, "2024": 1}
    assert data["by_specialty"] == {"respiratory": 2, "neurology": 1}

    again = medcite("ingest", str(fixture_corpus / "demo-nmosd.md"), "--index", str(index))
    assert again.returncode == 0 and "1 unchanged" in again.stdout and "chunks written: 0" in again.stdout


def test_missing_path_and_missing_index_are_one_line_errors(tmp_path: Path) -> None:
    run = medcite("ingest", str(tmp_path / "nope"), "--index", str(tmp_path / "idx"))
    assert run.returncode == 2
    assert run.stderr.strip().splitlines() == [f"medcite: error: {tmp_path / 'nope'}: no such file or folder"]
    stats = medcite("stats", "--index", str(tmp_path / "none"))
    assert stats.returncode == 2 and len(stats.stderr.strip().splitlines()) == 1
    assert "medcite ingest" in stats.stderr


def test_index_of_another_model_is_refused_in_one_line(tmp_path: Path, fixture_corpus: Path) -> None:
    index = tmp_path / "idx"
    assert medcite("ingest", str(fixture_corpus), "--index", str(index)).returncode == 0
    run = medcite("stats", "--index", str(index), env={"MEDCITE_EMBEDDING__MODEL_NAME": "other/model"})
    assert run.returncode == 2
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1 and "other settings" in lines[0] and "other/model" in lines[0]
