"""Typed domain objects of the answer side: Evidence → Answer (sentences, key points, references)."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

import numpy as np
import numpy.typing as npt

from ingest import Audience as Audience  # defined once, with documents; re-exported for the service
from ingest import Chunk, Document
from ingest import Filters as Filters  # documents' filters live with documents; re-exported


class ReviewStatus(StrEnum):
    """Human review states of an answer (the allowed moves between them are in service.review)."""

    SUBMITTED = "submitted"
    UNDER_REVIEW = "under_review"
    APPROVED = "approved"
    CHANGES_REQUESTED = "changes_requested"
    RETRACTED = "retracted"


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
    dois: tuple[str, ...] = ()  # every DOI of the document, primary (`doi`) first


@dataclass(frozen=True, slots=True)
class CitedSentence:
    """A sentence of the answer and the reference numbers it cites."""

    text: str
    citations: tuple[int, ...]
    score: float = 0.0
    supported: bool = True  # False only for generated sentences kept marked (llm.unsupported = mark)
    reason: str = ""  # why the verifier did not support it


@dataclass(frozen=True, slots=True)
class Removal:
    """A generated sentence the verifier rejected, and why."""

    text: str
    reason: str
    citations: tuple[int, ...] = ()  # the passage numbers the model gave


@dataclass(frozen=True, slots=True)
class Verification:
    """What verification of a generated answer found."""

    checked: int = 0  # generated sentences verified
    supported: int = 0
    removed: tuple[Removal, ...] = ()  # dropped (or, in mark mode, kept marked) sentences with reasons
    out_of_range: int = 0  # citation numbers that named no passage, removed


@dataclass(frozen=True, slots=True)
class KeyPoint:
    """A heading with cited items under it."""

    heading: str
    items: tuple[CitedSentence, ...]


@dataclass(frozen=True, slots=True)
class Signals:
    """Everything the gate measured for one question (threshold-free, so decisions can be replayed)."""

    cosine: float
    unknown: tuple[tuple[str, float], ...] = ()  # (words, Zipf frequency) of words the corpus never uses
    uncovered_subjects: tuple[str, ...] = ()  # subjects no retrieved passage names
    term_coverage: float = 1.0  # IDF-weighted share of content words in the on-topic passages
    missing_words: tuple[str, ...] = ()  # content words (as typed) absent from those passages
    # Each content word the corpus uses: (as typed, weight, found anywhere in the on-topic evidence).
    words: tuple[tuple[str, float, bool], ...] = ()
    sentence_coverage: float = 0.0  # best single on-topic sentence's share of the content words
    ask: str = "other"
    ask_answered: bool = True  # an on-topic sentence answers this kind of ask
    missing_populations: tuple[str, ...] = ()  # populations asked about that no on-topic sentence addresses
    subject: str = ""
    subject_named: bool = False  # the question named a subject the corpus's vocabulary knows
    uncovered_conditions: tuple[str, ...] = ()  # conditions (team table) named that no guideline is about
    covered_conditions: tuple[str, ...] = ()  # conditions named that a guideline is about
    # Drugs named beside a condition that no on-topic passage connects to it ("propranolol for anxiety").
    unpaired: tuple[str, ...] = ()
    paired_with: tuple[str, ...] = ()  # the conditions those drugs were asked about
    absent_procedures: tuple[str, ...] = ()  # procedures or tests (team table) no guideline names
    absent_objects: tuple[str, ...] = ()  # what the question asks about, in words no guideline uses
    ask_coverage: float = 1.0  # best share of the content words among on-topic sentences answering the ask
    # Adjacent content words of the question: (as typed, the two words' summed weight, found together in evidence).
    phrases: tuple[tuple[str, float, bool], ...] = ()


@dataclass(frozen=True, slots=True)
class Trace:
    """How an answer came about: the question's subject and ask, the gate's signals, the ranking used."""

    subject: str = ""
    terms: tuple[str, ...] = ()  # corpus terms the subject mapped to
    ask: str = ""
    populations: tuple[str, ...] = ()
    signals: Signals | None = None
    gate_abstained: bool = False  # the answerability gate refused (the composer was never called)
    ranking: tuple[str, ...] = ()  # documents of the retrieval the answer used, by relevance (at most 50)
    k: int = 0  # passages that retrieval handed to composition


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
    trace: Trace = field(default_factory=Trace)
    notes: list[str] = field(default_factory=list)  # e.g. the LLM fell back to the extractive composer
    verification: Verification | None = None  # generated answers only
    reviewed_by: str = ""  # the reviewer who approved it (approved answers only)
    reviewed_at: str = ""  # when, ISO 8601
    reused_from: str = ""  # the approved answer this one was served from, instead of a new composition
    conversation_secret: str = ""  # only on the answer that opened its conversation; never stored

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
