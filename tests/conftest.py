"""Shared fixtures: one real embedding model per session, temp index folders, the fixture corpus."""

from __future__ import annotations

import os
import subprocess
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


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[object]:
    """A real PostgreSQL server for the session (skipped without Debian's postgresql, failed under CI)."""
    from tests.postgres import Cluster, binaries, unavailable

    found = binaries()
    if found is None:
        unavailable("PostgreSQL binaries (initdb, pg_ctl) are not installed; run scripts/setup.sh as root")
    assert found is not None
    try:
        import psycopg  # noqa: F401
    except ImportError:
        unavailable("the psycopg driver is not installed (pip install -e '.[dev]')")
    cluster = Cluster(found)
    try:
        cluster.start()
    except (RuntimeError, OSError, LookupError, subprocess.SubprocessError) as exc:
        cluster.stop()
        unavailable(f"PostgreSQL did not start: {exc}")
    yield cluster
    cluster.stop()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty database: a SQLite file, then a fresh database on the session's PostgreSQL server."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'answers.db'}"
    cluster = request.getfixturevalue("pg_cluster")
    url: str = cluster.new_database()
    return url
