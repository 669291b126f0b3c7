"""The review workflow over stored answers: transitions, edits, approved-answer reuse and the re-ingest check."""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass

from medcite.errors import ConflictError, IndexStoreError, InvalidInputError
from service.compose import SentenceEvent
from service.conversations import ConversationStore, new_id, now_iso
from service.models import Answer, Audience, Reference, ReviewStatus
from service.review import (
    AuditEntry,
    EditEntry,
    SentenceEdit,
    allowed_next,
    apply_edits,
    last_updated,
    question_key,
)
from service.review_store import ReviewItem, ReviewStore
from service.texts import APPROVED, PENDING_REVIEW
from service.verify import Verifier

log = logging.getLogger(__name__)

Hashes = Callable[[], Mapping[str, str]]  # document id → content hash, as the index holds them now


@dataclass(frozen=True, slots=True)
class ReviewView:
    """One answer as a reviewer sees it: the answer, the moves open to it, its trail and its edits."""

    answer: Answer
    topic: str
    allowed: tuple[ReviewStatus, ...]
    audit: list[AuditEntry]
    edits: list[EditEntry]


class ReviewWorkflow:
    """Review operations on one answer store; `hashes` (the index's document hashes) is needed to approve and
    to notice re-ingested guidelines, `verifier` to accept edits."""

    def __init__(self, conversations: ConversationStore, *, hashes: Hashes | None = None,
                 verifier: Verifier | None = None, max_note_chars: int = 2000) -> None:
        self.conversations = conversations
        self.store: ReviewStore = conversations.reviews
        self.hashes = hashes
        self.verifier = verifier
        self.max_note_chars = max_note_chars

    def _note(self, note: str) -> str:
        note = note.strip()
        if len(note) > self.max_note_chars:
            raise InvalidInputError(f"note is {len(note)} characters; the limit is {self.max_note_chars}")
        return note

    def transition(self, answer_id: str, target: ReviewStatus, *, actor: str, note: str = "") -> AuditEntry:
        """Move an answer to `target` (ConflictError naming the allowed moves when the workflow refuses)."""
        note = self._note(note)
        hashes: dict[str, str] | None = None
        if target is ReviewStatus.APPROVED:
            # The guidelines as they are now: a later re-ingest with other content withdraws the approval.
            current = self._hashes()
            cited = {r.doc_id for r in self.conversations.get(answer_id).references if r.doc_id}
            hashes = {d: current.get(d, "") for d in sorted(cited)}
        return self.store.transition(answer_id, target, actor=actor, note=note, doc_hashes=hashes)

    def _hashes(self) -> Mapping[str, str]:
        if self.hashes is None:
            raise IndexStoreError("approving needs the index, to record the guidelines' content as approved")
        return self.hashes()

    def edit(self, answer_id: str, edits: Sequence[SentenceEdit], *, actor: str, note: str = "") -> AuditEntry:
        """Replace sentences' text; each edited sentence must stay supported by the passages it cites."""
        note = self._note(note)
        if self.verifier is None:
            raise IndexStoreError("edits are verified against the cited passages, which needs the index")
        before = self.conversations.get(answer_id)
        if before.review_status is ReviewStatus.APPROVED:
            raise ConflictError(f"answer {answer_id} is approved; retract it before editing")
        after, changes = apply_edits(before, edits, self.verifier)
        return self.store.record_edit(answer_id, before, after, changes, actor=actor, note=note)

    def get(self, answer_id: str) -> Answer:
        """A stored answer with its review state as readers see it: a served copy shows the state of the answer
        it came from; an approved answer whose guideline changed falls back to submitted first."""
        answer = self.conversations.get(answer_id)
        item = self.store.item(answer_id)
        source = self.store.item(item.reused_from) if item.reused_from else item
        if source.status is ReviewStatus.APPROVED and self._stale(source):
            source = self.store.item(source.answer_id)
        answer.review_status = source.status
        answer.reused_from = item.reused_from
        approved = source.status is ReviewStatus.APPROVED
        answer.reviewed_by = source.approved_by if approved else ""
        answer.reviewed_at = source.approved_at if approved else ""
        answer.pending_review = PENDING_REVIEW
        years = [r.year for r in answer.references]
        answer.last_updated = last_updated(answer.reviewed_at, years)
        if approved:
            on = f" on {answer.reviewed_at[:10]}" if answer.reviewed_at else ""
            answer.pending_review = f"{APPROVED[:-1]} ({answer.reviewed_by}{on})." if answer.reviewed_by else APPROVED
        return answer

    def _stale(self, item: ReviewItem) -> bool:
        """True (and the answer sent back to submitted, with the reason in its trail) when a guideline it cites
        is no longer in the index as it was approved."""
        if self.hashes is None or not item.doc_hashes:
            return False
        current = self.hashes()
        changed = sorted(d for d, h in item.doc_hashes.items() if current.get(d) != h)
        if not changed:
            return False
        gone = [d for d in changed if d not in current]
        parts = []
        if len(gone) < len(changed):
            parts.append(f"re-ingested with changes since approval: {', '.join(d for d in changed if d not in gone)}")
        if gone:
            parts.append(f"no longer in the index: {', '.join(gone)}")
        reason = "cited guideline " + "; ".join(parts)
        if self.store.fall_back(item.answer_id, reason) is not None:
            log.info("answer %s is no longer approved: %s", item.answer_id, reason)
        return True

    def sweep(self) -> int:
        """Check every approved answer against the index; returns how many fell back to submitted."""
        return sum(self._stale(item) for item in self.store.approved())

    def reuse(self, question: str, audience: Audience, conversation_id: str | None, *,
              secret: str = "") -> Answer | None:
        """A copy of the latest approved answer to this normalised question and audience, stored as the first
        turn of a new conversation owned by `secret`; None when there is none (stale approvals fall back on the
        way)."""
        for item in self.store.approved(question_key(question), audience):
            if self._stale(item):
                continue
            original = self.conversations.get(item.answer_id)
            copy = dataclasses.replace(original, id=new_id(), question=question,
                                       conversation_id=conversation_id or new_id(), created_at=now_iso(),
                                       timings_ms={}, review_status=ReviewStatus.APPROVED)
            self.conversations.save(copy, self.conversations.topic(item.answer_id), new_conversation=True,
                                    reused_from=item.answer_id, secret=secret)
            return self.get(copy.id)
        return None

    def remember(self, items: Iterator[SentenceEvent | Answer]) -> Iterator[SentenceEvent | Answer]:
        """Pass an answer stream through, marking its answer as one that may be reused once approved."""
        for item in items:
            if isinstance(item, Answer):
                self.store.mark_reusable(item.id)
            yield item

    def view(self, answer_id: str) -> ReviewView:
        """The reviewer's view of one answer."""
        answer = self.get(answer_id)
        return ReviewView(answer, self.conversations.topic(answer_id),
                          () if answer.reused_from else allowed_next(answer.review_status),
                          self.store.audit(answer_id), self.store.edits(answer_id))


def replay(answer: Answer) -> Iterator[SentenceEvent | Answer]:
    """A stored answer as the stream of sentence events a composition sends, then the answer."""
    sent: set[int] = set()

    def first(citations: Sequence[int]) -> tuple[Reference, ...]:
        new = [r for r in answer.references if r.number in citations and r.number not in sent]
        sent.update(r.number for r in new)
        return tuple(new)

    for s in answer.summary_sentences:
        yield SentenceEvent("summary", "", s, first(s.citations))
    for k in answer.key_points:
        for i in k.items:
            yield SentenceEvent("key_points", k.heading, i, first(i.citations))
    yield answer
