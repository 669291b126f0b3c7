"""HTTP request and response schemas, separate from the domain types."""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

from service.compose import SentenceEvent
from service.models import Answer, Audience, CitedSentence, Filters, Reference, ReviewStatus, Verification, with_markers


def _unicode(value: str) -> str:
    # A lone surrogate survives JSON parsing but not UTF-8 encoding (store lookups, error messages): refuse it here,
    # without echoing the value.
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("contains a lone surrogate, which is not text") from None
    return value


Text = Annotated[str, AfterValidator(_unicode)]  # a str that is valid Unicode text


class FiltersIn(BaseModel):
    """Which guidelines an answer may use."""

    model_config = ConfigDict(extra="forbid")

    issuer: list[Annotated[Text, Field(max_length=200)]] = Field(
        default_factory=list, max_length=50, description="Issuers to allow, e.g. ['NICE', 'WHO'].")
    specialty: list[Annotated[Text, Field(max_length=200)]] = Field(
        default_factory=list, max_length=50, description="Specialties to allow, e.g. ['neurology'].")
    topic: Text = Field("", max_length=200, description="Substring of a guideline topic or title.")
    year_from: int | None = Field(None, ge=1900, le=2100, description="Oldest guideline year.")
    year_to: int | None = Field(None, ge=1900, le=2100, description="Newest guideline year.")
    audience: Audience | None = Field(None, description="Only documents for this reader.")

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

    question: Text = Field(..., min_length=1, description="The question, in plain language.")
    conversation_id: Text | None = Field(None, max_length=100, description="Ties a follow-up to earlier turns.")
    audience: Audience = Field("clinician", description="Who will read the answer.")
    filters: FiltersIn | None = None


class ReviewIn(BaseModel):
    """A reviewer's move of an answer to another review state."""

    model_config = ConfigDict(extra="forbid")

    status: ReviewStatus = Field(description="The state to move to; only the workflow's moves are allowed.")
    note: Text = Field("", max_length=20_000, description="Why; kept in the audit trail (review.max_note_chars).")


class SentenceOut(BaseModel):
    text: str
    citations: list[int]
    supported: bool = Field(True, description="False only for generated sentences kept marked (llm.unsupported=mark).")
    reason: str = Field("", description="Why the verifier did not support the sentence.")

    @classmethod
    def from_sentence(cls, s: CitedSentence) -> SentenceOut:
        return cls(text=s.text, citations=list(s.citations), supported=s.supported, reason=s.reason)


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

    @classmethod
    def from_reference(cls, r: Reference) -> ReferenceOut:
        return cls(
            number=r.number, doc_id=r.doc_id, title=r.title, issuer=r.issuer, year=r.year, version=r.version,
            url=r.url, doi=r.doi, dois=list(r.dois) or ([r.doi] if r.doi else []), audience=r.audience,
            superseded=bool(r.superseded_by), superseded_by=r.superseded_by,
            spans=[SpanOut(section=x.section, text=x.text, start=x.start, end=x.end, page=x.page) for x in r.spans],
        )


class RemovalOut(BaseModel):
    text: str = Field(description="The generated sentence that was left out.")
    reason: str = Field(description="Why the verifier rejected it.")
    citations: list[int] = Field(description="The passage numbers the model gave for it.")


class VerificationOut(BaseModel):
    """What sentence-level verification of a generated answer found."""

    checked: int
    supported: int
    removed: list[RemovalOut]
    out_of_range_citations: int = Field(description="Citation numbers naming no passage, removed.")

    @classmethod
    def from_verification(cls, v: Verification) -> VerificationOut:
        return cls(checked=v.checked, supported=v.supported, out_of_range_citations=v.out_of_range,
                   removed=[RemovalOut(text=r.text, reason=r.reason, citations=list(r.citations)) for r in v.removed])


class SentenceEventOut(BaseModel):
    """One verified sentence of a streamed answer (SSE event `sentence`)."""

    part: str = Field(description="summary or key_points")
    heading: str
    sentence: SentenceOut
    references: list[ReferenceOut] = Field(description="References this sentence cites first.")

    @classmethod
    def from_event(cls, e: SentenceEvent) -> SentenceEventOut:
        return cls(part=e.part, heading=e.heading, sentence=SentenceOut.from_sentence(e.sentence),
                   references=[ReferenceOut.from_reference(r) for r in e.references])


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
    notes: list[str] = Field(default_factory=list, description="E.g. that the LLM failed and why.")
    verification: VerificationOut | None = Field(None, description="Generated answers: what the verifier found.")
    reviewed_by: str = Field("", description="Approved answers: the reviewer (the key's name).")
    reviewed_at: str = Field("", description="Approved answers: when they approved it (ISO 8601).")
    reused_from: str = Field("", description="Set when this is the approved answer `reused_from`, served again.")
    conversation_secret: str | None = Field(
        None, description="Only on the answer that opened the conversation: send it as `X-Conversation-Secret` "
        "to continue the conversation. It is shown once and stored only as a hash.")

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
            summary_sentences=[SentenceOut.from_sentence(s) for s in a.summary_sentences],
            key_points=[KeyPointOut(heading=k.heading, items=[SentenceOut.from_sentence(i) for i in k.items])
                        for k in a.key_points],
            references=[ReferenceOut.from_reference(r) for r in a.references],
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
            notes=list(a.notes),
            verification=VerificationOut.from_verification(a.verification) if a.verification else None,
            reviewed_by=a.reviewed_by,
            reviewed_at=a.reviewed_at,
            reused_from=a.reused_from,
            conversation_secret=a.conversation_secret or None,
        )


def sentence_piece(e: SentenceEvent, headings: set[str], heading: str = "{}") -> str:
    """A streamed sentence's display text; the first item under a heading brings the heading (`heading` formats
    it, e.g. "**{}**" for Markdown)."""
    if e.part == "summary":
        return with_markers(e.sentence) + " "
    head = "" if e.heading in headings else "\n\n" + heading.format(e.heading) + "\n"
    headings.add(e.heading)
    return f"{head}- {with_markers(e.sentence)}\n"


class HealthOut(BaseModel):
    status: str


class LLMOut(BaseModel):
    provider: str = Field(description="none, openai, anthropic or ollama.")
    model: str
    ok: bool | None = Field(description="Whether the model answered the start-up check (null: not checked).")
    detail: str = ""


class ReadyOut(BaseModel):
    ready: bool
    documents: int
    chunks: int
    detail: str = ""
    composer: str = Field("extractive", description="The composer answering now: extractive or llm.")
    llm: LLMOut | None = None


class ProblemOut(BaseModel):
    """Every error response."""

    detail: str
    type: str
