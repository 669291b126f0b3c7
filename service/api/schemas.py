"""HTTP request and response schemas, separate from the domain types."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from service.models import Answer, Filters, ReviewStatus, with_markers


class FiltersIn(BaseModel):
    """Which guidelines an answer may use."""

    model_config = ConfigDict(extra="forbid")

    issuer: list[str] = Field(default_factory=list, description="Issuers to allow, e.g. ['NICE', 'WHO'].")
    specialty: list[str] = Field(default_factory=list, description="Specialties to allow, e.g. ['neurology'].")
    topic: str = Field("", max_length=200, description="Substring of a guideline topic or title.")
    year_from: int | None = Field(None, ge=1900, le=2100, description="Oldest guideline year.")
    year_to: int | None = Field(None, ge=1900, le=2100, description="Newest guideline year.")
    audience: Literal["clinician", "patient"] | None = Field(None, description="Only documents for this reader.")

    @model_validator(mode="after")
    def _years(self) -> FiltersIn:
        if self.year_from is not None and self.year_to is not None and self.year_from > self.year_to:
            raise ValueError("year_from is after year_to")
        return self

    def to_domain(self) -> Filters:
        """As domain filters."""
        return Filters(
            issuers=tuple(self.issuer),
            specialties=tuple(self.specialty),
            topic=self.topic,
            year_from=self.year_from,
            year_to=self.year_to,
            audience=self.audience,
        )


class AskRequest(BaseModel):
    """A question, optionally a follow-up in a conversation."""

    model_config = ConfigDict(extra="forbid")

    question: str = Field(..., min_length=1, description="The question, in plain language.")
    conversation_id: str | None = Field(None, description="Ties a follow-up to earlier turns.")
    audience: Literal["clinician", "patient"] = Field("clinician", description="Who will read the answer.")
    filters: FiltersIn | None = None


class ReviewIn(BaseModel):
    """A reviewer's decision."""

    status: ReviewStatus


class SentenceOut(BaseModel):
    text: str
    citations: list[int]


class KeyPointOut(BaseModel):
    heading: str
    items: list[SentenceOut]


class SpanOut(BaseModel):
    section: str
    text: str = Field(description="The exact quoted passage.")
    start: int = Field(description="Character offset of the quote in the guideline document.")
    end: int
    page: int | None = None


class ReferenceOut(BaseModel):
    number: int
    doc_id: str
    title: str
    issuer: str
    year: int | None
    version: str
    url: str
    doi: str
    dois: list[str] = Field(default_factory=list, description="Every DOI of the guideline; `doi` is the first.")
    audience: str
    superseded: bool
    superseded_by: str
    spans: list[SpanOut]


class UnderstandingOut(BaseModel):
    """What medcite took the question to be about, and what the answerability gate measured."""

    subject: str = Field(description="The subject as named in the question ('' when none was recognised).")
    terms: list[str] = Field(description="Corpus terms the subject mapped to (a brand maps to its generic).")
    ask: str = Field(description="What is asked: treatment, first_line, dose, duration, time_window, ...")
    populations: list[str] = Field(description="Population qualifiers (pregnancy, children, ...).")
    gate_abstained: bool = Field(description="True when the answerability gate refused to compose.")
    best_cosine: float | None = Field(None, description="Best passage cosine to the question.")
    unknown: list[str] = Field(default_factory=list, description="Question words the corpus never uses.")


class AnswerOut(BaseModel):
    """An answer as the page shows it."""

    id: str
    conversation_id: str
    question: str
    rewritten_query: str = Field(description="The standalone query retrieval ran (follow-ups are rewritten).")
    audience: str
    summary: str = Field(description="Lead summary with [n] citation markers.")
    summary_sentences: list[SentenceOut]
    key_points: list[KeyPointOut]
    references: list[ReferenceOut]
    abstained: bool
    abstention_reason: str
    nearest_topics: list[str]
    review_status: ReviewStatus
    pending_review: str
    last_updated: str
    disclaimer: str
    composer: str
    confidence: float
    created_at: str
    timings_ms: dict[str, float]
    understanding: UnderstandingOut

    @classmethod
    def from_answer(cls, a: Answer) -> AnswerOut:
        """Build from the domain answer."""
        return cls(
            id=a.id,
            conversation_id=a.conversation_id,
            question=a.question,
            rewritten_query=a.query,
            audience=a.audience,
            summary=a.summary,
            summary_sentences=[SentenceOut(text=s.text, citations=list(s.citations)) for s in a.summary_sentences],
            key_points=[
                KeyPointOut(
                    heading=k.heading,
                    items=[SentenceOut(text=i.text, citations=list(i.citations)) for i in k.items],
                )
                for k in a.key_points
            ],
            references=[
                ReferenceOut(
                    number=r.number,
                    doc_id=r.doc_id,
                    title=r.title,
                    issuer=r.issuer,
                    year=r.year,
                    version=r.version,
                    url=r.url,
                    doi=r.doi,
                    dois=list(r.dois) or ([r.doi] if r.doi else []),
                    audience=r.audience,
                    superseded=bool(r.superseded_by),
                    superseded_by=r.superseded_by,
                    spans=[
                        SpanOut(section=s.section, text=s.text, start=s.start, end=s.end, page=s.page) for s in r.spans
                    ],
                )
                for r in a.references
            ],
            abstained=a.abstained,
            abstention_reason=a.abstention_reason,
            nearest_topics=a.nearest_topics,
            review_status=a.review_status,
            pending_review=a.pending_review,
            last_updated=a.last_updated,
            disclaimer=a.disclaimer,
            composer=a.composer,
            confidence=a.confidence,
            created_at=a.created_at,
            timings_ms=a.timings_ms,
            understanding=UnderstandingOut(
                subject=a.trace.subject, terms=list(a.trace.terms), ask=a.trace.ask,
                populations=list(a.trace.populations), gate_abstained=a.trace.gate_abstained,
                best_cosine=a.trace.signals.cosine if a.trace.signals else None,
                unknown=[w for w, _ in a.trace.signals.unknown] if a.trace.signals else []),
        )


def answer_pieces(a: Answer) -> list[str]:
    """The answer's text in display order, for streaming."""
    pieces = [with_markers(s) + " " for s in a.summary_sentences]
    for kp in a.key_points:
        pieces.append(f"\n\n{kp.heading}\n")
        pieces += [f"- {with_markers(i)}\n" for i in kp.items]
    return pieces


class HealthOut(BaseModel):
    status: str


class ReadyOut(BaseModel):
    ready: bool
    documents: int
    chunks: int
    detail: str = ""


class ProblemOut(BaseModel):
    """Every error response."""

    detail: str
    type: str
