"""Bibliographic identifiers of the bundled corpus: DOI syntax, https URLs, no DOI shared by unrelated digests."""

from __future__ import annotations

import re
from itertools import combinations
from pathlib import Path

import pytest

from ingest import Document, load_paths, parse_front_matter

ROOT = Path(__file__).resolve().parents[1]
DOCS = sorted(ROOT.glob("corpus/*/*.md"))
DOI = re.compile(r"^10\.\d{4,9}/\S+$")
_YEAR = re.compile(r"-\d{4}$")


def _raw_dois(meta: dict[str, object]) -> list[object]:
    value = meta.get("doi")
    if value is None:
        return []
    return list(value) if isinstance(value, list) else [value]


@pytest.mark.parametrize("path", DOCS, ids=[p.stem for p in DOCS])
def test_identifiers_are_well_formed(path: Path) -> None:
    meta, _ = parse_front_matter(path.read_text(encoding="utf-8"))
    dois = _raw_dois(meta)
    for doi in dois:
        assert isinstance(doi, str) and DOI.match(doi), f"doi {doi!r} is not a bare DOI (10.NNNN/...)"
    assert len(dois) == len(set(dois)), "a DOI is listed twice"
    url = meta.get("url")
    if url:
        assert isinstance(url, str) and url.startswith("https://"), f"url {url!r} is not https"
        if url.startswith("https://doi.org/"):
            assert url.removeprefix("https://doi.org/") in dois, "url is a DOI link to a DOI the digest does not list"


def _companion(patient: Document, guideline: Document) -> bool:
    """A patient digest `<id>-patient` shares the identifiers of guideline `<id>`, or of the other versions in
    that guideline's series (same id but for the year: a guideline and its update digested separately)."""
    if patient.audience != "patient" or not patient.id.endswith("-patient") or guideline.audience == "patient":
        return False
    base = patient.id.removesuffix("-patient")
    if guideline.id == base:
        return True
    return guideline.issuer == patient.issuer and _YEAR.sub("", guideline.id) == _YEAR.sub("", base) != base


def _related(a: Document, b: Document) -> bool:
    return a.supersedes == b.id or b.supersedes == a.id or _companion(a, b) or _companion(b, a)


def test_no_doi_shared_by_unrelated_documents() -> None:
    docs = [d for d in load_paths([ROOT / "corpus"]) if isinstance(d, Document)]
    clashes = [
        f"{a.id} and {b.id} share {sorted(set(a.dois) & set(b.dois))}"
        for a, b in combinations(docs, 2)
        if set(a.dois) & set(b.dois) and not _related(a, b)
    ]
    assert not clashes, "; ".join(clashes)


def test_document_dois_match_front_matter() -> None:
    docs = {d.id: d for d in load_paths([ROOT / "corpus"]) if isinstance(d, Document)}
    for path in DOCS:
        meta, _ = parse_front_matter(path.read_text(encoding="utf-8"))
        doc = docs[str(meta["id"])]
        assert list(doc.dois) == _raw_dois(meta)
        assert doc.doi == (doc.dois[0] if doc.dois else "")


def test_loader_reads_a_list_of_dois(tmp_path: Path) -> None:
    (tmp_path / "two-parts.md").write_text(
        "---\nid: two-parts\ntitle: Two parts\n"
        'doi: ["10.1000/part-one", "10.1000/part-two", "10.1000/part-one", ""]\n'
        "---\n# Two parts\n\n## Part I\n\nThe first paper covers diagnosis.\n",
        encoding="utf-8",
    )
    (tmp_path / "one.md").write_text(
        "---\nid: one\ntitle: One\ndoi: 10.1000/only\n---\n# One\n\nOne paper.\n", encoding="utf-8"
    )
    (tmp_path / "none.md").write_text("---\nid: none\ntitle: None\n---\n# None\n\nNo DOI.\n", encoding="utf-8")
    (tmp_path / "bad.md").write_text(
        "---\nid: bad\ntitle: Bad\ndoi: {a: b}\n---\n# Bad\n\nA mapping is no DOI.\n", encoding="utf-8"
    )
    items = list(load_paths([tmp_path]))
    docs = {d.id: d for d in items if isinstance(d, Document)}
    assert docs["two-parts"].dois == ("10.1000/part-one", "10.1000/part-two")
    assert docs["two-parts"].doi == "10.1000/part-one"
    assert (docs["one"].doi, docs["one"].dois) == ("10.1000/only", ("10.1000/only",))
    assert (docs["none"].doi, docs["none"].dois) == ("", ())
    failures = [i for i in items if not isinstance(i, Document)]
    assert [Path(f.source).name for f in failures] == ["bad.md"]
    assert "doi" in failures[0].reason
