"""Review state, the append-only audit trail, edits and feedback, in the answers' database."""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from medcite.errors import ConflictError, NotFoundError
from service.models import Answer, ReviewStatus
from service.review import (
    EDITABLE,
    FEEDBACK_ACTOR,
    SYSTEM_ACTOR,
    Action,
    AuditEntry,
    EditEntry,
    Feedback,
    QueueFilter,
    QueueItem,
    Rating,
    check_transition,
)
from service.tables import AnswerRow, AuditRow, EditRow, FeedbackRow, GuidelineRow, ReviewItemRow, now_iso


@dataclass(frozen=True, slots=True)
class ReviewItem:
    """What review records about one answer."""

    answer_id: str
    status: ReviewStatus
    reusable: bool
    reused_from: str
    approved_by: str
    approved_at: str
    doc_hashes: dict[str, str]


def _entry(row: AuditRow) -> AuditEntry:
    return AuditEntry(row.id, row.answer_id, row.at, row.actor, Action(row.action), ReviewStatus(row.from_status),
                      ReviewStatus(row.to_status), row.note)


def _answer_row(session: Session, answer_id: str) -> AnswerRow:
    row = session.get(AnswerRow, answer_id)
    if row is None:
        raise NotFoundError(f"unknown answer id {answer_id!r}")
    return row


def _original(session: Session, answer_id: str) -> None:
    """Refuse to change a served copy: the approved answer it was copied from is the one to review."""
    item = session.get(ReviewItemRow, answer_id)
    if item is not None and item.reused_from:
        raise ConflictError(f"answer {answer_id} is a served copy of approved answer {item.reused_from}; "
                            "review that one")


class ReviewStore:
    """Moves answers between review states and records every move; nothing here updates or deletes a trail."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def item(self, answer_id: str) -> ReviewItem:
        """The review record of an answer."""
        with Session(self._engine) as session:
            row = _answer_row(session, answer_id)
            item = session.get(ReviewItemRow, answer_id)
            if item is None:
                return ReviewItem(answer_id, ReviewStatus(row.review_status), False, "", "", "", {})
            return ReviewItem(answer_id, ReviewStatus(row.review_status), bool(item.reusable), item.reused_from,
                              item.approved_by, item.approved_at, json.loads(item.doc_hashes or "{}"))

    def transition(self, answer_id: str, target: ReviewStatus, *, actor: str, note: str = "",
                   doc_hashes: dict[str, str] | None = None) -> AuditEntry:
        """Move an answer to `target` if the workflow allows it from its current state; ConflictError otherwise.
        An approval records who, when, and the content hashes of the cited guidelines."""
        with Session(self._engine) as session, session.begin():
            row = _answer_row(session, answer_id)
            _original(session, answer_id)
            current = ReviewStatus(row.review_status)
            check_transition(current, target)
            entry = self._move(session, answer_id, current, target, actor, Action.TRANSITION, note)
            if entry is None:
                raise ConflictError(f"answer {answer_id} changed state while this request ran; reload it and retry")
            if target is ReviewStatus.APPROVED:
                item = session.get(ReviewItemRow, answer_id)
                if item is not None:
                    item.approved_by, item.approved_at, item.approval_id = actor, entry.at, entry.id
                    item.doc_hashes = json.dumps(doc_hashes or {}, sort_keys=True)
            return entry

    def fall_back(self, answer_id: str, reason: str) -> AuditEntry | None:
        """Send an approved answer back to submitted because a cited guideline changed; None if it was not
        approved any more (another request got there first)."""
        with Session(self._engine) as session, session.begin():
            return self._move(session, answer_id, ReviewStatus.APPROVED, ReviewStatus.SUBMITTED, SYSTEM_ACTOR,
                              Action.STALE, reason)

    def _move(self, session: Session, answer_id: str, current: ReviewStatus, target: ReviewStatus, actor: str,
              action: Action, note: str) -> AuditEntry | None:
        # Conditional on the state read: of two reviewers moving one answer at once, the second gets a 409.
        moved = session.execute(
            update(AnswerRow).where(AnswerRow.id == answer_id, AnswerRow.review_status == current.value)
            .values(review_status=target.value)
        ).rowcount  # type: ignore[attr-defined]
        if not moved:
            return None
        row = AuditRow(answer_id=answer_id, at=now_iso(), actor=actor, action=action.value,
                       from_status=current.value, to_status=target.value, note=note)
        session.add(row)
        session.flush()
        return _entry(row)

    def record_edit(self, answer_id: str, before: Answer, after: Answer, changes: Sequence[EditEntry], *,
                    actor: str, note: str = "") -> AuditEntry:
        """Store an edited answer, the sentences as they were, and an audit entry; ConflictError if the answer
        is approved (retract it first) or changed since `before` was read."""
        with Session(self._engine) as session, session.begin():
            row = _answer_row(session, answer_id)
            _original(session, answer_id)
            status = ReviewStatus(row.review_status)
            if status not in EDITABLE:
                raise ConflictError(f"answer {answer_id} is {status.value}; retract it before editing")
            stored = json.loads(row.body)
            if [s["text"] for s in _sentences(stored)] != [s.text for s in before.all_sentences()]:
                raise ConflictError(f"answer {answer_id} was edited while this request ran; reload it and retry")
            row.body = json.dumps(asdict(after), ensure_ascii=False)
            numbers = ", ".join(str(c.number) for c in changes)
            audit = AuditRow(answer_id=answer_id, at=now_iso(), actor=actor, action=Action.EDIT.value,
                             from_status=status.value, to_status=status.value,
                             note=f"edited sentence {numbers}" + (f": {note}" if note else ""))
            session.add(audit)
            session.flush()
            for c in changes:
                session.add(EditRow(answer_id=answer_id, audit_id=audit.id, position=c.number,
                                    before_text=c.before_text, before_citations=json.dumps(c.before_citations),
                                    after_text=c.after_text, after_citations=json.dumps(c.after_citations)))
            return _entry(audit)

    def edits(self, answer_id: str) -> list[EditEntry]:
        """Every edit of an answer, oldest first."""
        with Session(self._engine) as session:
            rows = session.scalars(select(EditRow).where(EditRow.answer_id == answer_id).order_by(EditRow.id))
            return [EditEntry(r.audit_id, r.position, r.before_text, tuple(json.loads(r.before_citations)),
                              r.after_text, tuple(json.loads(r.after_citations))) for r in rows]

    def audit(self, answer_id: str) -> list[AuditEntry]:
        """An answer's trail, oldest first."""
        with Session(self._engine) as session:
            _answer_row(session, answer_id)
            rows = session.scalars(select(AuditRow).where(AuditRow.answer_id == answer_id).order_by(AuditRow.id))
            return [_entry(r) for r in rows]

    def audit_all(self, batch: int = 500) -> Iterator[AuditEntry]:
        """The whole trail, oldest first, read in batches."""
        last = 0
        while True:
            with Session(self._engine) as session:
                rows = session.scalars(select(AuditRow).where(AuditRow.id > last).order_by(AuditRow.id)
                                       .limit(batch)).all()
                entries = [_entry(r) for r in rows]
            if not entries:
                return
            yield from entries
            last = entries[-1].id

    def mark_reusable(self, answer_id: str) -> None:
        """Record that an answer was composed for a first question without filters."""
        with Session(self._engine) as session, session.begin():
            item = session.get(ReviewItemRow, answer_id)
            if item is not None:
                item.reusable = True

    def approved(self, question_key: str | None = None, audience: str | None = None) -> list[ReviewItem]:
        """Approved answers, newest approval first; with a key and audience, only reusable ones for them."""
        query = (select(AnswerRow.id, ReviewItemRow).join(ReviewItemRow, ReviewItemRow.answer_id == AnswerRow.id)
                 .where(AnswerRow.review_status == ReviewStatus.APPROVED.value, ReviewItemRow.reused_from == ""))
        if question_key is not None:
            query = query.where(ReviewItemRow.question_key == question_key, ReviewItemRow.reusable.is_(True),
                                ReviewItemRow.audience == (audience or ""))
        with Session(self._engine) as session:
            rows = session.execute(query.order_by(ReviewItemRow.approval_id.desc())).all()
            return [ReviewItem(i.answer_id, ReviewStatus.APPROVED, bool(i.reusable), "", i.approved_by,
                               i.approved_at, json.loads(i.doc_hashes or "{}")) for _, i in rows]

    def queue(self, flt: QueueFilter) -> list[QueueItem]:
        """Answers awaiting (or past) review, oldest first; served copies are not listed."""
        unsafe = (select(FeedbackRow.answer_id, func.count().label("n")).where(FeedbackRow.rating == Rating.UNSAFE)
                  .group_by(FeedbackRow.answer_id).subquery())
        rated = select(FeedbackRow.answer_id, func.count().label("n")).group_by(FeedbackRow.answer_id).subquery()
        query = (select(AnswerRow, ReviewItemRow.audience, func.coalesce(rated.c.n, 0), func.coalesce(unsafe.c.n, 0))
                 .join(ReviewItemRow, ReviewItemRow.answer_id == AnswerRow.id)
                 .outerjoin(rated, rated.c.answer_id == AnswerRow.id)
                 .outerjoin(unsafe, unsafe.c.answer_id == AnswerRow.id)
                 .where(ReviewItemRow.reused_from == ""))
        if flt.state is not None:
            query = query.where(AnswerRow.review_status == flt.state.value)
        if flt.audience:
            query = query.where(ReviewItemRow.audience == flt.audience)
        if flt.topic:
            query = query.where(func.lower(AnswerRow.topic).contains(flt.topic.lower(), autoescape=True))
        if flt.guideline:
            cited = select(GuidelineRow.answer_id).where(GuidelineRow.doc_id == flt.guideline)
            query = query.where(AnswerRow.id.in_(cited))
        if flt.unsafe_only:
            query = query.where(unsafe.c.n > 0)
        query = query.order_by(AnswerRow.created_at, AnswerRow.id).limit(flt.limit).offset(flt.offset)
        with Session(self._engine) as session:
            rows = session.execute(query).all()
            ids = [r[0].id for r in rows]
            docs: dict[str, list[str]] = {}
            for g in session.scalars(select(GuidelineRow).where(GuidelineRow.answer_id.in_(ids))):
                docs.setdefault(g.answer_id, []).append(g.doc_id)
            return [QueueItem(a.id, a.question, audience, a.topic, ReviewStatus(a.review_status), a.created_at,
                              tuple(sorted(docs.get(a.id, []))), bool(json.loads(a.body).get("abstained")),
                              int(n_rated), int(n_unsafe))
                    for a, audience, n_rated, n_unsafe in rows]

    def add_feedback(self, answer_id: str, rating: Rating, comment: str) -> Feedback:
        """Store a reader's rating (on a served copy it counts for the approved answer it came from). An unsafe
        rating of an approved answer sends it back to under_review, with the reason in its trail."""
        with Session(self._engine) as session, session.begin():
            _answer_row(session, answer_id)
            item = session.get(ReviewItemRow, answer_id)
            target = item.reused_from if item is not None and item.reused_from else answer_id
            row = FeedbackRow(answer_id=target, rating=rating.value, comment=comment, created_at=now_iso())
            session.add(row)
            session.flush()
            if rating is Rating.UNSAFE:
                said = f": {comment[:500]}" if comment else " (no comment)"
                self._move(session, target, ReviewStatus.APPROVED, ReviewStatus.UNDER_REVIEW, FEEDBACK_ACTOR,
                           Action.FLAG, f"a reader rated it unsafe (feedback {row.id}){said}")
            return Feedback(row.id, row.answer_id, rating, row.comment, row.created_at)

    def feedback(self, answer_id: str = "", rating: Rating | None = None, limit: int = 1000) -> list[Feedback]:
        """Stored ratings, newest first."""
        query = select(FeedbackRow)
        if answer_id:
            query = query.where(FeedbackRow.answer_id == answer_id)
        if rating is not None:
            query = query.where(FeedbackRow.rating == rating.value)
        with Session(self._engine) as session:
            rows = session.scalars(query.order_by(FeedbackRow.id.desc()).limit(limit))
            return [Feedback(r.id, r.answer_id, Rating(r.rating), r.comment, r.created_at) for r in rows]


def _sentences(body: dict[str, Any]) -> list[dict[str, Any]]:
    summary: list[dict[str, Any]] = list(body.get("summary_sentences") or [])
    return summary + [i for k in body.get("key_points") or [] for i in k["items"]]
