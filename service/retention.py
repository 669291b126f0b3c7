"""Retention: conversations older than N days are deleted with the answers they hold, except approved answers
(readers are served them again) and the audit trail and edit history (append-only, never deleted)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from medcite.errors import InvalidInputError
from service.models import ReviewStatus
from service.tables import AnswerRow, ConversationRow, FeedbackRow, GuidelineRow, ReviewItemRow


@dataclass(frozen=True, slots=True)
class PurgeReport:
    """What a purge removed (or, in a dry run, would remove)."""

    cutoff: str
    conversations: int  # deleted outright
    answers: int  # deleted
    kept: int  # approved answers (and originals of newer served copies) kept; their conversations are closed
    dry_run: bool


def purge(engine: Engine, days: int, *, dry_run: bool = False, now: datetime | None = None) -> PurgeReport:
    """Delete conversations created more than `days` days ago, with their answers' rows and ratings; approved
    original answers (and originals that newer served copies came from) stay, and their conversation can no
    longer be continued by anyone."""
    if days < 1:
        raise InvalidInputError(f"days must be at least 1, not {days}")
    cutoff = ((now or datetime.now(UTC)) - timedelta(days=days)).isoformat(timespec="seconds")
    with Session(engine) as session, session.begin():
        old = select(ConversationRow.id).where(ConversationRow.created_at < cutoff)
        rows = session.execute(
            select(AnswerRow.id, AnswerRow.conversation_id, AnswerRow.review_status, ReviewItemRow.reused_from)
            .outerjoin(ReviewItemRow, ReviewItemRow.answer_id == AnswerRow.id)
            .where(AnswerRow.conversation_id.in_(old))).all()
        # A served copy is the reader's, not the reviewed original: it goes like any other answer. An original
        # that newer served copies were made of stays too (retracted since, say): the copies read its state.
        keep = {r.id for r in rows if r.review_status == ReviewStatus.APPROVED.value and not r.reused_from}
        doomed = {r.id for r in rows} - keep
        copies = session.execute(select(ReviewItemRow.answer_id, ReviewItemRow.reused_from)
                                 .where(ReviewItemRow.reused_from.in_(select(AnswerRow.id).where(
                                     AnswerRow.conversation_id.in_(old))))).all()
        keep |= {c.reused_from for c in copies if c.answer_id not in doomed}
        gone = [r.id for r in rows if r.id not in keep]
        holding = {r.conversation_id for r in rows if r.id in keep}
        conversations = [c for c in session.scalars(old) if c not in holding]
        report = PurgeReport(cutoff, len(conversations), len(gone), len(keep), dry_run)
        if dry_run:
            return report
        for start in range(0, len(gone), 500):  # bounded IN lists
            batch = gone[start:start + 500]
            for table in (GuidelineRow, ReviewItemRow, FeedbackRow):
                session.execute(delete(table).where(table.answer_id.in_(batch)))
            session.execute(delete(AnswerRow).where(AnswerRow.id.in_(batch)))
        for start in range(0, len(conversations), 500):
            session.execute(delete(ConversationRow).where(ConversationRow.id.in_(conversations[start:start + 500])))
        if holding:
            session.execute(update(ConversationRow).where(ConversationRow.id.in_(holding)).values(secret_hash=""))
        return report
