"""Typed domain objects of the ingest side: Document (and Filters over documents) → Chunk."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Literal

Audience = Literal["clinician", "patient"]


@dataclass(frozen=True, slots=True)
class Document:
    """One source text with its bibliographic metadata."""

    id: str
    title: str
    text: str
    source: str
    issuer: str = ""
    year: int | None = None
    version: str = ""
    url: str = ""
    doi: str = ""  # the primary DOI: the first of `dois`, or ""
    dois: tuple[str, ...] = ()  # every DOI of the source (a guideline published in several parts has several)
    topics: tuple[str, ...] = ()
    specialty: str = ""
    audience: Audience = "clinician"
    evidence_scheme: str = ""
    supersedes: str = ""
    status: str = ""
    kind: Literal["markdown", "text", "html", "pdf", "jsonl"] = "text"
    # Section the whole text belongs to when the source has no headings (e.g. a Q&A record's page section).
    base_section: str = ""
    # Start offset of each PDF page in `text` (page numbers are 1-based positions in this tuple).
    page_starts: tuple[int, ...] = ()
    extra: tuple[tuple[str, str], ...] = ()

    def __post_init__(self) -> None:
        # Keep `doi` and `dois` consistent whichever one the caller gave: `doi` is always the first of `dois`.
        if self.dois and self.doi != self.dois[0]:
            if self.doi and self.doi not in self.dois:
                object.__setattr__(self, "dois", (self.doi, *self.dois))
            else:
                object.__setattr__(self, "doi", self.dois[0])
        elif not self.dois and self.doi:
            object.__setattr__(self, "dois", (self.doi,))

    @property
    def content_hash(self) -> str:
        """Hash of everything that ends up in the index, so metadata edits count as changes."""
        payload = {k: getattr(self, k) for k in self.__dataclass_fields__ if k != "source"}
        if len(self.dois) <= 1:
            # A single DOI is already in `doi`: leaving `dois` out keeps the hashes (and chunk ids) that
            # indexes built before `dois` existed recorded, so they are not re-embedded for nothing.
            del payload["dois"]
        blob = json.dumps(payload, sort_keys=True, ensure_ascii=False, default=list)
        return hashlib.sha256(blob.encode("utf-8")).hexdigest()

    def page_at(self, offset: int) -> int | None:
        """1-based PDF page holding a character offset, or None for non-paged documents."""
        if not self.page_starts:
            return None
        page = 0
        for i, start in enumerate(self.page_starts):
            if start <= offset:
                page = i + 1
        return page or 1


@dataclass(frozen=True, slots=True)
class Filters:
    """Restrictions on which guidelines may be used (Chroma's form of them is built in ingest.vector)."""

    issuers: tuple[str, ...] = ()
    specialties: tuple[str, ...] = ()
    topic: str = ""
    year_from: int | None = None
    year_to: int | None = None
    audience: Audience | None = None

    def admits(self, doc: Document) -> bool:
        """True when a document passes every filter."""
        if self.issuers and doc.issuer.casefold() not in {i.casefold() for i in self.issuers}:
            return False
        if self.specialties and doc.specialty.casefold() not in {s.casefold() for s in self.specialties}:
            return False
        if self.topic and not any(self.topic.casefold() in t.casefold() for t in (*doc.topics, doc.title)):
            return False
        if self.year_from is not None and (doc.year is None or doc.year < self.year_from):
            return False
        if self.year_to is not None and (doc.year is None or doc.year > self.year_to):
            return False
        return not (self.audience and doc.audience != self.audience)

    @property
    def empty(self) -> bool:
        """True when nothing is filtered."""
        return self == Filters()


@dataclass(frozen=True, slots=True)
class Span:
    """Character span [start, end) relative to a chunk's text."""

    start: int
    end: int


@dataclass(frozen=True, slots=True)
class Chunk:
    """A passage of a document, cut on section and sentence boundaries."""

    doc_id: str
    ordinal: int
    text: str
    section_path: tuple[str, ...]
    start: int  # offset of text in the document's text
    end: int
    sentences: tuple[Span, ...]
    page: int | None = None
    heading: str = ""  # document title and section path, prepended to the text for embedding
    doc_hash: str = ""  # the document's content hash: a metadata edit gives the chunk a new id too

    @property
    def id(self) -> str:
        """Deterministic id from the chunk's content and position in its document."""
        key = "\x1f".join([self.doc_id, self.doc_hash, str(self.ordinal), self.heading, self.text])
        return hashlib.sha256(key.encode("utf-8")).hexdigest()[:32]

    @property
    def embed_text(self) -> str:
        """What is embedded and keyword-indexed: heading line, then the passage."""
        return f"{self.heading}\n{self.text}" if self.heading else self.text

    @property
    def section(self) -> str:
        """The innermost section title, or empty."""
        return self.section_path[-1] if self.section_path else ""

    def sentence_texts(self) -> list[str]:
        """The sentences of the chunk, in order."""
        return [self.text[s.start : s.end] for s in self.sentences]


@dataclass(frozen=True, slots=True)
class IngestFailure:
    """A file that could not be ingested, and why."""

    source: str
    reason: str


@dataclass(slots=True)
class IngestReport:
    """What one ingest run did."""

    added: int = 0
    updated: int = 0
    unchanged: int = 0
    removed: int = 0
    chunks_written: int = 0
    chunks_deleted: int = 0
    failures: list[IngestFailure] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when no file failed."""
        return not self.failures
