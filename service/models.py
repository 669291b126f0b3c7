"""Typed domain objects of the answer side: Evidence → Answer (sentences, key points, references)."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Literal

import numpy as np
import numpy.typing as npt

from ingest import Chunk, Document

Audience = Literal["clinician", "patient"]


class ReviewStatus(StrEnum):
    """Human review states of an answer."""

    SUBMITTED = "submitted"
    UNDER_REVIEW = "under_review"
    APPROVED = "approved"


@dataclass(frozen=True, slots=True)
class Filters:
    """Restrictions on which guidelines may be used."""

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
class Evidence:
    """A retrieved chunk with its document, scores and sentence vectors."""

    chunk: Chunk
    document: Document
    dense: float
    keyword: float
    section: float  # cosine between the query and the chunk's section title
    score: float
    passage_vector: npt.NDArray[np.float32]
    sentence_vectors: npt.NDArray[np.float32]
    superseded_by: str = ""


@dataclass(frozen=True, slots=True)
class QuotedSpan:
    """An exact passage of a guideline that supports cited sentences."""

    section: str
    text: str
    start: int  # character offsets in the document's text
    end: int
    page: int | None = None


@dataclass(slots=True)
class Reference:
    """One numbered reference: a guideline document and the spans quoted from it."""

    number: int
    doc_id: str
    title: str
    issuer: str
    year: int | None
    version: str
    url: str
    doi: str
    audience: str
    superseded_by: str = ""
    spans: list[QuotedSpan] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class CitedSentence:
    """A sentence of the answer and the reference numbers it cites."""

    text: str
    citations: tuple[int, ...]
    score: float = 0.0


@dataclass(frozen=True, slots=True)
class KeyPoint:
    """A heading with cited items under it."""

    heading: str
    items: tuple[CitedSentence, ...]


@dataclass(slots=True)
class Answer:
    """A composed answer, with everything the page shows."""

    id: str
    question: str
    query: str  # the standalone query retrieval ran (differs from question for follow-ups)
    audience: Audience
    summary_sentences: list[CitedSentence]
    key_points: list[KeyPoint]
    references: list[Reference]
    abstained: bool
    abstention_reason: str
    nearest_topics: list[str]
    review_status: ReviewStatus
    pending_review: str
    last_updated: str
    disclaimer: str
    composer: str
    confidence: float
    conversation_id: str = ""
    created_at: str = ""
    timings_ms: dict[str, float] = field(default_factory=dict)

    @property
    def summary(self) -> str:
        """The lead summary with [n] citation markers."""
        return " ".join(with_markers(s) for s in self.summary_sentences)

    def all_sentences(self) -> list[CitedSentence]:
        """Summary sentences then key-point items."""
        return [*self.summary_sentences, *(item for kp in self.key_points for item in kp.items)]


def with_markers(sentence: CitedSentence) -> str:
    """A sentence with its [n] markers before the final stop."""
    marks = "".join(f"[{n}]" for n in sentence.citations)
    text = sentence.text
    if marks and text[-1:] in ".!?":
        return f"{text[:-1]} {marks}{text[-1]}"
    return f"{text} {marks}".strip()
