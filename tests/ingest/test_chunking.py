"""Chunking: sections first, whole sentences, exact offsets, budget and overlap."""

from __future__ import annotations

import itertools

from ingest import Document, chunk_document, word_count_tokens


def _doc(text: str, kind: str = "markdown") -> Document:
    return Document(id="d", title="Doc", text=text, source="mem", kind=kind)  # type: ignore[arg-type]


TEXT = """# Doc

## Acute treatment
Methylprednisolone 1 g i.v. daily for 5 days is first line. Plasma exchange is second line, e.g. for severe attacks.
- Eculizumab 900 mg weekly for four doses.
- Ravulizumab every 8 weeks.

### Dosing in children
Children receive 30 mg/kg daily. The maximum dose is 1 g.

## Monitoring
MRI is repeated after relapses.
"""


def test_sections_and_sentences_with_exact_offsets() -> None:
    doc = _doc(TEXT)
    chunks = chunk_document(doc, count_tokens=word_count_tokens, max_tokens=200, overlap=0)
    assert [c.section_path for c in chunks] == [
        ("Acute treatment",),
        ("Acute treatment", "Dosing in children"),
        ("Monitoring",),
    ]
    for chunk in chunks:
        assert doc.text[chunk.start : chunk.end] == chunk.text
        assert chunk.heading.startswith("Doc > ")
    first = chunks[0].sentence_texts()
    assert first[0] == "Methylprednisolone 1 g i.v. daily for 5 days is first line."
    assert "Eculizumab 900 mg weekly for four doses." in first  # bullet marker dropped
    assert all(not s.startswith("-") for c in chunks for s in c.sentence_texts())


def test_budget_is_respected_and_sentences_never_cut() -> None:
    sentences = [f"Sentence number {i} says something about dosing and monitoring." for i in range(40)]
    doc = _doc(" ".join(sentences), kind="text")
    chunks = chunk_document(doc, count_tokens=word_count_tokens, max_tokens=40, overlap=1)
    assert len(chunks) > 5
    for chunk in chunks:
        assert sum(word_count_tokens(s) for s in chunk.sentence_texts()) <= 40
        assert all(s in sentences for s in chunk.sentence_texts())
    # overlap: each chunk starts with the previous chunk's last sentence
    for before, after in itertools.pairwise(chunks):
        assert after.sentence_texts()[0] == before.sentence_texts()[-1]
    covered = {s for c in chunks for s in c.sentence_texts()}
    assert covered == set(sentences)


def test_chunk_ids_are_deterministic_and_content_based() -> None:
    a = chunk_document(_doc(TEXT), count_tokens=word_count_tokens, max_tokens=200, overlap=0)
    b = chunk_document(_doc(TEXT), count_tokens=word_count_tokens, max_tokens=200, overlap=0)
    assert [c.id for c in a] == [c.id for c in b]
    c = chunk_document(
        _doc(TEXT.replace("MRI", "CT")), count_tokens=word_count_tokens, max_tokens=200, overlap=0
    )
    assert a[-1].id != c[-1].id


def test_overlong_sentence_is_split_at_words() -> None:
    doc = _doc("word " * 300 + "end.", kind="text")
    chunks = chunk_document(doc, count_tokens=word_count_tokens, max_tokens=50, overlap=0)
    assert len(chunks) > 1
    assert all(word_count_tokens(c.text) <= 50 for c in chunks)
