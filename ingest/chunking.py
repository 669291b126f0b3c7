"""Section-aware chunking: split on headings, then pack whole sentences up to a token budget with overlap."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from ingest.models import Chunk, Document, Span

TokenCounter = Callable[[str], int]

_HEADING = re.compile(r"^(#{1,6})[ \t]+(.+?)[ \t#]*$", re.MULTILINE)
_BULLET = re.compile(r"(?:[-*+•]|\d{1,3}[.)])[ \t]+")


def word_count_tokens(text: str) -> int:
    """A model-free token estimate (words * 1.3), for tests and dry runs."""
    return int(len(text.split()) * 1.3) + 1


@dataclass(frozen=True, slots=True)
class _Section:
    path: tuple[str, ...]
    start: int
    end: int


def split_sections(doc: Document) -> list[_Section]:
    """Sections of a document as (heading path, body span); text before the first heading has the base path."""
    base = (doc.base_section,) if doc.base_section else ()
    if doc.kind not in ("markdown", "html"):
        return [_Section(base, 0, len(doc.text))]
    sections: list[_Section] = []
    stack: list[tuple[int, str]] = []
    cursor = 0
    path: tuple[str, ...] = base
    for match in _HEADING.finditer(doc.text):
        sections.append(_Section(path, cursor, match.start()))
        level, title = len(match.group(1)), match.group(2).strip()
        # A level-1 heading is the document's title, not a section.
        stack = [(lvl, t) for lvl, t in stack if lvl < level]
        if level > 1:
            stack.append((level, title))
        path = base + tuple(t for _, t in stack)
        cursor = match.end()
    sections.append(_Section(path, cursor, len(doc.text)))
    return [s for s in sections if doc.text[s.start : s.end].strip()]


def split_sentences(text: str, start: int, end: int) -> list[Span]:
    """Sentence spans (absolute offsets) of text[start:end], trimmed, bullet markers dropped."""
    from sentencex import segment  # small, pure-Python; imported where used

    spans: list[Span] = []
    cursor = start
    for piece in segment("en", text[start:end]):
        piece_start, piece_end = cursor, cursor + len(piece)
        cursor = piece_end
        stripped = piece.strip()
        if not stripped:
            continue
        s = piece_start + (len(piece) - len(piece.lstrip()))
        e = piece_end - (len(piece) - len(piece.rstrip()))
        bullet = _BULLET.match(text, s, e)
        if bullet:
            s = bullet.end()
        if e > s and any(ch.isalnum() for ch in text[s:e]):
            spans.append(Span(s, e))
    return spans


def _split_long(text: str, span: Span, budget: int, count: TokenCounter) -> list[Span]:
    """A sentence longer than the budget is cut at word boundaries (the only case where a sentence is cut)."""
    pieces: list[Span] = []
    words = list(re.finditer(r"\S+", text[span.start : span.end]))
    begin = 0
    while begin < len(words):
        end = begin + 1
        while end < len(words):
            candidate = text[span.start + words[begin].start() : span.start + words[end].end()]
            if count(candidate) > budget:
                break
            end += 1
        pieces.append(Span(span.start + words[begin].start(), span.start + words[end - 1].end()))
        begin = end
    return pieces


def chunk_document(
    doc: Document, *, count_tokens: TokenCounter, max_tokens: int, overlap: int
) -> list[Chunk]:
    """Cut a document into chunks that never split a sentence (unless one sentence exceeds the budget)."""
    chunks: list[Chunk] = []
    doc_hash = doc.content_hash
    for section in split_sections(doc):
        sentences: list[tuple[Span, int]] = []
        for span in split_sentences(doc.text, section.start, section.end):
            tokens = count_tokens(doc.text[span.start : span.end])
            if tokens > max_tokens:
                sentences += [
                    (p, count_tokens(doc.text[p.start : p.end]))
                    for p in _split_long(doc.text, span, max_tokens, count_tokens)
                ]
            else:
                sentences.append((span, tokens))
        first = 0
        while first < len(sentences):
            last, total = first, sentences[first][1]
            while last + 1 < len(sentences) and total + sentences[last + 1][1] <= max_tokens:
                last += 1
                total += sentences[last][1]
            chunks.append(
                _make_chunk(
                    doc, doc_hash, section.path, [s for s, _ in sentences[first : last + 1]], len(chunks)
                )
            )
            if last + 1 >= len(sentences):
                break
            # Overlap only when it still moves forward.
            first = max(last + 1 - overlap, first + 1)
    return chunks


def _make_chunk(
    doc: Document, doc_hash: str, path: tuple[str, ...], spans: list[Span], ordinal: int
) -> Chunk:
    start, end = spans[0].start, spans[-1].end
    heading = " > ".join((doc.title, *path)) if path else doc.title
    return Chunk(
        doc_id=doc.id,
        ordinal=ordinal,
        text=doc.text[start:end],
        section_path=path,
        start=start,
        end=end,
        sentences=tuple(Span(s.start - start, s.end - start) for s in spans),
        page=doc.page_at(start),
        heading=heading,
        doc_hash=doc_hash,
    )
