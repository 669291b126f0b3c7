"""Answers made by hand for store-level tests (no index needed): a stored record is all these tests look at."""

from __future__ import annotations

from service.models import Answer, CitedSentence, Reference, ReviewStatus
from service.tables import new_id, now_iso


def make_answer(question: str = "What treats neuromyelitis optica?", *, conversation_id: str = "",
                doc_id: str = "nmosd-guideline", created_at: str = "") -> Answer:
    """A one-sentence answer citing `doc_id`."""
    return Answer(
        id=new_id(), question=question, query=question, audience="clinician",
        summary_sentences=[CitedSentence("Methylprednisolone treats acute attacks.", (1,))], key_points=[],
        references=[Reference(1, doc_id, "A guideline", "EAN", 2023, "", "", "", "clinician")],
        abstained=False, abstention_reason="", nearest_topics=[], review_status=ReviewStatus.SUBMITTED,
        pending_review="pending", last_updated="2023", disclaimer="", composer="extractive", confidence=0.5,
        conversation_id=conversation_id or new_id(), created_at=created_at or now_iso())
