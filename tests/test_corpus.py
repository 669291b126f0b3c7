"""The bundled corpus: every digest parses, carries the required front matter, and the README table is current."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from ingest import Document, load_paths, parse_front_matter

ROOT = Path(__file__).resolve().parents[1]
DOCS = sorted(ROOT.glob("corpus/*/*.md"))
REQUIRED = ("id", "title", "issuer", "year", "version", "topics", "specialty", "evidence_scheme", "status")


@pytest.mark.parametrize("path", DOCS, ids=[p.stem for p in DOCS])
def test_digest_front_matter(path: Path) -> None:
    meta, body = parse_front_matter(path.read_text(encoding="utf-8"))
    missing = [key for key in REQUIRED if not meta.get(key)]
    assert not missing, f"missing front matter: {missing}"
    assert meta["id"] == path.stem
    assert path.parent.name == meta["specialty"]
    assert meta["status"] == "digest-pending-review"
    assert isinstance(meta["year"], int) and 1990 <= meta["year"] <= 2026
    assert meta.get("url") or meta.get("doi")
    assert isinstance(meta["topics"], list) and meta["topics"]
    assert meta.get("audience", "clinician") in ("clinician", "patient")
    words = len(re.findall(r"\S+", body))
    low, high = (250, 800) if meta.get("audience") == "patient" else (400, 1500)
    assert low <= words <= high, f"{words} words"
    assert re.search(r"^## ", body, re.MULTILINE), "no sections"


def test_corpus_ids_unique_supersedes_resolve_and_breadth() -> None:
    docs = [d for d in load_paths([ROOT / "corpus"]) if isinstance(d, Document)]
    assert len(docs) == len(DOCS), "every digest loads"
    ids = [d.id for d in docs]
    assert len(ids) == len(set(ids))
    for doc in docs:
        if doc.supersedes:
            assert doc.supersedes in ids, f"{doc.id} supersedes unknown {doc.supersedes}"
    clinician = [d for d in docs if d.audience == "clinician"]
    patient = [d for d in docs if d.audience == "patient"]
    assert len(clinician) >= 60 and len(patient) >= 15
    assert sum(bool(d.supersedes) for d in docs) >= 2
    assert len({d.specialty for d in docs}) >= 12


def test_readme_table_is_current() -> None:
    run = subprocess.run([sys.executable, str(ROOT / "scripts" / "corpus_table.py"), "--check"], cwd=ROOT)
    assert run.returncode == 0, "corpus/README.md is stale: run `python scripts/corpus_table.py`"
