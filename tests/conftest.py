"""Shared fixtures: one real embedding model per session, temp index folders, the fixture corpus."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")

from ingest import SentenceTransformerEmbedder
from medcite.config import Settings

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = Path(__file__).parent / "fixtures"
SHARED_DATA = ROOT.parent / "shared" / "data"


@pytest.fixture(scope="session")
def embedder() -> SentenceTransformerEmbedder:
    """The real bundled model, loaded once."""
    model = SentenceTransformerEmbedder(Settings().embedding)
    assert model.dim == 384
    return model


@pytest.fixture()
def settings(tmp_path: Path) -> Settings:
    """Settings whose index lives in a fresh temp folder."""
    return Settings(index_dir=tmp_path / "index")


@pytest.fixture()
def fixture_corpus(tmp_path: Path) -> Iterator[Path]:
    """A writable copy of the small fixture corpus."""
    import shutil

    target = tmp_path / "corpus"
    shutil.copytree(FIXTURES / "corpus", target)
    yield target
