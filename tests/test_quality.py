"""Static checks and the public surface: ruff and strict mypy pass, package exports are pinned."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("tool", [["ruff", "check", "."], ["mypy"]])
def test_static_checks_pass(tool: list[str]) -> None:
    run = subprocess.run([sys.executable, "-m", *tool], cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-2000:]


def test_public_names_are_pinned() -> None:
    import ingest
    import medcite
    import service

    assert set(ingest.__all__) == {
        "Audience", "Chunk", "ChunkVectors", "Document", "Embedder", "Filters", "Index", "IndexStats",
        "IngestFailure", "IngestReport", "KeywordHits", "KeywordIndex", "Passages", "Progress",
        "SentenceTransformerEmbedder", "Span", "VectorIndex", "chunk_document",
        "ingest_paths", "load_paths", "parse_front_matter", "record_to_document", "split_sections", "split_sentences",
        "word_count_tokens",
    }  # fmt: skip
    assert {"AnswerService", "Answer", "Filters", "HybridRetriever", "ExtractiveComposer", "AnswerabilityGate",
            "QueryAnalyzer", "Signals", "decide", "LLMComposer", "Verifier",
            "SentenceEvent"} <= set(service.__all__)
    assert "create_app" not in service.__all__, "the core knows no HTTP: the app is service.api.create_app"
    assert {"Settings", "get_settings", "MedciteError"} <= set(medcite.__all__)
    for module in (ingest, service, medcite):
        for name in module.__all__:
            assert hasattr(module, name), f"{module.__name__}.{name} is exported but missing"


def test_importing_packages_loads_no_model_or_chroma() -> None:
    code = (
        "import sys, ingest, service, medcite; "
        "heavy = [m for m in ('torch', 'sentence_transformers', 'chromadb') if m in sys.modules]; "
        "print(','.join(heavy))"
    )
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == "", f"heavy modules imported at import time: {run.stdout}"
