"""HTTP schemas of medical review: edits, audit entries, the queue, the reviewer's view, feedback."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from service.api.schemas import AnswerOut, Text
from service.models import Answer, ReviewStatus
from service.review import AuditEntry, EditEntry, Feedback, QueueItem, Rating, SentenceEdit
from service.workflow import ReviewView


class SentenceEditIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    number: int = Field(ge=1, le=1000, description="1-based position among the answer's sentences (summary, then "
                        "key-point items), as GET /v1/reviews/{id} numbers them.")
    text: Text = Field(min_length=1, max_length=2000, description="The new text of the sentence.")
    citations: list[int] | None = Field(None, max_length=50, description="New reference numbers; omitted keeps them.")

    def to_domain(self) -> SentenceEdit:
        return SentenceEdit(self.number, self.text, None if self.citations is None else tuple(self.citations))


class TextEditIn(BaseModel):
    """A reviewer's edit of some sentences of an answer."""

    model_config = ConfigDict(extra="forbid")

    sentences: list[SentenceEditIn] = Field(min_length=1, max_length=200)
    note: Text = Field("", max_length=20_000, description="Why; kept in the audit trail.")


class AuditEntryOut(BaseModel):
    """One event of an answer's review trail."""

    id: int
    answer_id: str
    at: str = Field(description="ISO 8601, UTC.")
    actor: str = Field(description="The key's name (CLI: --as); `medcite` for automatic fall-backs.")
    action: str = Field(description="transition, edit, stale (a cited guideline changed after approval) or "
                        "flag (a reader rated an approved answer unsafe).")
    from_status: ReviewStatus
    to_status: ReviewStatus
    note: str

    @classmethod
    def from_entry(cls, e: AuditEntry) -> AuditEntryOut:
        return cls(id=e.id, answer_id=e.answer_id, at=e.at, actor=e.actor, action=e.action.value,
                   from_status=e.from_status, to_status=e.to_status, note=e.note)


class EditOut(BaseModel):
    audit_id: int = Field(description="The audit entry of the edit (who and when).")
    number: int
    before_text: str
    before_citations: list[int]
    after_text: str
    after_citations: list[int]

    @classmethod
    def from_edit(cls, e: EditEntry) -> EditOut:
        return cls(audit_id=e.audit_id, number=e.number, before_text=e.before_text,
                   before_citations=list(e.before_citations), after_text=e.after_text,
                   after_citations=list(e.after_citations))


class FeedbackIn(BaseModel):
    """A reader's rating of an answer."""

    model_config = ConfigDict(extra="forbid")

    rating: Rating
    comment: Text = Field("", max_length=20_000, description="Optional; MEDCITE_REVIEW__MAX_COMMENT_CHARS caps it.")


class FeedbackOut(BaseModel):
    id: int
    answer_id: str = Field(description="The rated answer (a served copy's rating counts for its original).")
    rating: Rating
    comment: str
    created_at: str

    @classmethod
    def from_feedback(cls, f: Feedback) -> FeedbackOut:
        return cls(id=f.id, answer_id=f.answer_id, rating=f.rating, comment=f.comment, created_at=f.created_at)


class QueueItemOut(BaseModel):
    """An answer in the review queue."""

    id: str
    question: str
    audience: str
    topic: str
    review_status: ReviewStatus
    created_at: str
    guidelines: list[str] = Field(description="Document ids the answer cites.")
    abstained: bool
    feedback: int = Field(description="Ratings received.")
    unsafe: int = Field(description="Of which rated unsafe.")
    flagged_unsafe: bool = Field(description="A reader rated it unsafe: look at it first.")

    @classmethod
    def from_item(cls, q: QueueItem) -> QueueItemOut:
        return cls(id=q.answer_id, question=q.question, audience=q.audience, topic=q.topic, review_status=q.status,
                   created_at=q.created_at, guidelines=list(q.guidelines), abstained=q.abstained,
                   feedback=q.feedback, unsafe=q.unsafe, flagged_unsafe=q.unsafe > 0)


class QuoteOut(BaseModel):
    """A passage quoted from a cited guideline."""

    number: int = Field(description="The reference number the sentence cites.")
    doc_id: str
    title: str
    section: str
    text: str
    start: int
    end: int
    matches: bool = Field(description="The sentence is this quote word for word.")


class SentenceReviewOut(BaseModel):
    """A sentence beside the passages it cites."""

    number: int
    part: str = Field(description="summary or key_points")
    heading: str
    text: str
    citations: list[int]
    quotes: list[QuoteOut]


class ReviewOut(BaseModel):
    """One answer as a reviewer sees it."""

    answer: AnswerOut
    topic: str
    allowed_transitions: list[ReviewStatus] = Field(description="States PUT /v1/answers/{id}/review accepts now.")
    sentences: list[SentenceReviewOut]
    audit: list[AuditEntryOut]
    edits: list[EditOut] = Field(description="Every edit, with the text before it.")
    feedback: list[FeedbackOut]

    @classmethod
    def from_view(cls, v: ReviewView, feedback: list[Feedback]) -> ReviewOut:
        return cls(answer=AnswerOut.from_answer(v.answer), topic=v.topic, allowed_transitions=list(v.allowed),
                   sentences=sentence_reviews(v.answer), audit=[AuditEntryOut.from_entry(e) for e in v.audit],
                   edits=[EditOut.from_edit(e) for e in v.edits],
                   feedback=[FeedbackOut.from_feedback(f) for f in feedback])


def sentence_reviews(answer: Answer) -> list[SentenceReviewOut]:
    """Every sentence, numbered, with the spans of the references it cites."""
    refs = {r.number: r for r in answer.references}
    placed = [("summary", "", s) for s in answer.summary_sentences]
    placed += [("key_points", k.heading, i) for k in answer.key_points for i in k.items]
    out = []
    for number, (part, heading, s) in enumerate(placed, start=1):
        quotes = [QuoteOut(number=n, doc_id=refs[n].doc_id, title=refs[n].title, section=x.section, text=x.text,
                           start=x.start, end=x.end, matches=x.text == s.text)
                  for n in s.citations if n in refs for x in refs[n].spans]
        # The span the sentence was taken from first, then the rest of what its references quote.
        quotes.sort(key=lambda q: not q.matches)
        out.append(SentenceReviewOut(number=number, part=part, heading=heading, text=s.text,
                                     citations=list(s.citations), quotes=quotes))
    return out
