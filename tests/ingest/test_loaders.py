"""Loaders: every supported kind, and bad input reported by name and reason."""

from __future__ import annotations

import json
from pathlib import Path

from ingest import Document, IngestFailure, load_paths


def _pdf(pages: list[str]) -> bytes:
    """A minimal valid PDF with one line of Helvetica text per page."""
    objects = ["<< /Type /Catalog /Pages 2 0 R >>", ""]
    kids = []
    for i, text in enumerate(pages):
        page_no, content_no = 3 + 2 * i, 4 + 2 * i
        kids.append(f"{page_no} 0 R")
        stream = f"BT /F1 12 Tf 72 720 Td ({text}) Tj ET"
        objects.append(
            f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents {content_no} 0 R "
            f"/Resources << /Font << /F1 {3 + 2 * len(pages)} 0 R >> >> >>"
        )
        objects.append(f"<< /Length {len(stream)} >>\nstream\n{stream}\nendstream")
    objects[1] = f"<< /Type /Pages /Kids [{' '.join(kids)}] /Count {len(pages)} >>"
    objects.append("<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>")
    out = b"%PDF-1.4\n"
    offsets = []
    for n, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{n} 0 obj\n{body}\nendobj\n".encode()
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    out += "".join(f"{o:010d} 00000 n \n" for o in offsets).encode()
    out += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    return out


def _load(*paths: Path) -> tuple[list[Document], list[IngestFailure]]:
    items = list(load_paths(paths))
    return ([i for i in items if isinstance(i, Document)], [i for i in items if isinstance(i, IngestFailure)])


def test_markdown_front_matter_is_parsed(fixture_corpus: Path) -> None:
    docs, failures = _load(fixture_corpus)
    assert not failures
    by_id = {d.id: d for d in docs}
    assert set(by_id) == {"demo-nmosd", "demo-asthma", "demo-asthma-old"}
    nmosd = by_id["demo-nmosd"]
    assert (nmosd.issuer, nmosd.year, nmosd.specialty, nmosd.audience) == (
        "Demo Society",
        2023,
        "neurology",
        "clinician",
    )
    assert nmosd.topics == ("neuromyelitis optica", "NMOSD")
    assert by_id["demo-asthma"].supersedes == "demo-asthma-old"
    assert not nmosd.text.startswith("---")


def test_folder_walk_skips_markdown_without_front_matter(tmp_path: Path) -> None:
    (tmp_path / "README.md").write_text("# Notes\nNot a corpus document.\n")
    (tmp_path / "a.txt").write_text("Plain text guideline sentence one. Sentence two.\n")
    docs, failures = _load(tmp_path)
    assert [d.id for d in docs] == ["a"] and not failures
    # named explicitly, the same Markdown file is loaded
    docs, _ = _load(tmp_path / "README.md")
    assert docs[0].title == "Notes"


def test_bad_files_are_reported_by_name_and_reason(tmp_path: Path) -> None:
    (tmp_path / "empty.md").write_text("")
    (tmp_path / "broken.md").write_text("---\ntitle: [unclosed\n---\nBody text.\n")
    (tmp_path / "badyear.md").write_text("---\ntitle: x\nyear: 'soon'\n---\nBody text.\n")
    (tmp_path / "binary.txt").write_bytes(b"\xff\xfe\x00bad")
    (tmp_path / "ok.md").write_text("---\ntitle: Good\n---\nGood text here.\n")
    docs, failures = _load(tmp_path)
    assert [d.id for d in docs] == ["ok"]
    reasons = {Path(f.source).name: f.reason for f in failures}
    assert set(reasons) == {"empty.md", "broken.md", "badyear.md", "binary.txt"}
    assert "empty" in reasons["empty.md"]
    assert "malformed front matter" in reasons["broken.md"]
    assert "not a year" in reasons["badyear.md"]


def test_html_main_text_is_extracted(tmp_path: Path) -> None:
    html = (
        "<html><head><title>Sepsis page</title></head><body><nav>Home | About | Contact</nav>"
        "<article><h1>Sepsis</h1><h2>Fluids</h2><p>Give 30 mL/kg of crystalloid within three hours "
        "to adults with sepsis-induced hypoperfusion, as the bundle recommends.</p>"
        "<p>Norepinephrine is the first-line vasopressor for adults with septic shock.</p></article>"
        "<footer>Copyright notice</footer></body></html>"
    )
    (tmp_path / "sepsis.html").write_text(html)
    docs, failures = _load(tmp_path / "sepsis.html")
    assert not failures
    assert "Norepinephrine is the first-line vasopressor" in docs[0].text
    assert "Home | About" not in docs[0].text


def test_pdf_keeps_page_numbers(tmp_path: Path) -> None:
    (tmp_path / "guide.pdf").write_bytes(_pdf(["First page says aspirin.", "Second page says heparin."]))
    (tmp_path / "broken.pdf").write_bytes(b"%PDF-1.4 this is not a pdf")
    docs, failures = _load(tmp_path)
    assert [Path(f.source).name for f in failures] == ["broken.pdf"]
    doc = docs[0]
    assert doc.page_at(doc.text.index("heparin")) == 2
    assert doc.page_at(doc.text.index("aspirin")) == 1


def test_jsonl_records_become_documents_and_bad_lines_fail_alone(tmp_path: Path) -> None:
    good = {
        "id": "medquad-1-x-1",
        "question": "What are the symptoms of Glaucoma ?",
        "answer": "Vision loss.",
        "source": "medquad",
        "url": "https://nei.example/glaucoma",
        "doc_id": "NEI:1",
        "passages": [],
        "meta": {"focus": "Glaucoma", "question_type": "symptoms", "collection": "NIHSeniorHealth"},
    }
    lines = [json.dumps(good), "{not json", json.dumps({**good, "id": "medquad-2", "answer": " "})]
    (tmp_path / "qa.jsonl").write_text("\n".join(lines) + "\n")
    docs, failures = _load(tmp_path / "qa.jsonl")
    assert len(docs) == 1
    doc = docs[0]
    assert (doc.title, doc.base_section, doc.issuer, doc.url) == (
        "Glaucoma",
        "Symptoms",
        "NIHSeniorHealth",
        "https://nei.example/glaucoma",
    )
    assert dict(doc.extra)["question"] == "What are the symptoms of Glaucoma ?"
    assert sorted(f.source.rsplit(":", 1)[1] for f in failures) == ["2", "3"]


def test_dois_persist_in_the_store_and_old_rows_still_load(tmp_path: Path) -> None:
    import dataclasses
    import hashlib
    import sqlite3

    from ingest.store import ChunkStore

    two = Document(id="two", title="T", text="Text.", source="x", doi="", dois=("10.1000/a", "10.1000/b"))
    one = Document(id="one", title="O", text="Text.", source="y", doi="10.1000/c")
    assert (two.doi, one.dois) == ("10.1000/a", ("10.1000/c",))
    # a single DOI keeps the content hash that documents had before `dois` existed (no needless re-embedding)
    old_payload = {k: v for k, v in dataclasses.asdict(one).items() if k not in ("source", "dois")}
    blob = json.dumps(old_payload, sort_keys=True, ensure_ascii=False, default=list)
    assert one.content_hash == hashlib.sha256(blob.encode("utf-8")).hexdigest()
    assert two.content_hash != dataclasses.replace(two, dois=("10.1000/a",)).content_hash

    path = tmp_path / "store.sqlite"
    store = ChunkStore(path, create=True)
    store.replace_documents([(two, [], []), (one, [], [])])
    store.close()
    # rewrite one row as an index built before `dois` existed stored it
    db = sqlite3.connect(path)
    body = json.loads(db.execute("SELECT body FROM documents WHERE id = 'one'").fetchone()[0])
    del body["dois"]
    db.execute("UPDATE documents SET body = ? WHERE id = 'one'", (json.dumps(body),))
    db.commit()
    db.close()
    store = ChunkStore(path, create=False)
    docs = {d.id: d for d in store.documents()}
    hashes = store.document_hashes()
    store.close()
    assert docs["two"].dois == ("10.1000/a", "10.1000/b") and docs["two"].doi == "10.1000/a"
    assert docs["one"].dois == ("10.1000/c",) and docs["one"].doi == "10.1000/c"
    assert docs["one"].content_hash == hashes["one"][0] == one.content_hash
