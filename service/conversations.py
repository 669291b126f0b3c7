"""Conversations and answers in SQLite through SQLAlchemy, so follow-ups and GET /v1/answers/{id} work."""

from __future__ import annotations

import dataclasses
import json

from pydantic import TypeAdapter
from sqlalchemy import func, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from medcite.errors import NotFoundError
from service.followup import Turn
from service.models import Answer, ReviewStatus
from service.review import question_key
from service.review_store import ReviewStore
from service.tables import (
    AnswerRow,
    ConversationRow,
    GuidelineRow,
    ReviewItemRow,
    new_id,
    now_iso,
    open_engine,
)

__all__ = ["ConversationStore", "new_id", "now_iso"]

_ANSWER = TypeAdapter(Answer)


class ConversationStore:
    """Stores answers grouped by conversation; `reviews` is their review state and trail in the same database."""

    def __init__(self, url: str) -> None:
        self._engine: Engine = open_engine(url)
        self.reviews = ReviewStore(self._engine)
        self._backfill()

    @property
    def engine(self) -> Engine:
        """The database engine (API keys live in the same database)."""
        return self._engine

    def close(self) -> None:
        """Release connections."""
        self._engine.dispose()

    def exists(self, conversation_id: str) -> bool:
        """True when the conversation is known."""
        with Session(self._engine) as session:
            return session.get(ConversationRow, conversation_id) is not None

    def history(self, conversation_id: str) -> list[Turn]:
        """Earlier turns of a conversation, oldest first."""
        if not self.exists(conversation_id):
            raise NotFoundError(f"unknown conversation id {conversation_id!r}")
        with Session(self._engine) as session:
            rows = session.scalars(
                select(AnswerRow).where(AnswerRow.conversation_id == conversation_id).order_by(AnswerRow.turn)
            ).all()
            return [Turn(question=r.question, query=r.query, topic=r.topic) for r in rows]

    def save(self, answer: Answer, topic: str, *, new_conversation: bool = False, reused_from: str = "") -> None:
        """Store an answer as the next turn of its conversation (opening the conversation when it is new);
        `reused_from` names the approved answer a served copy was made of."""
        with Session(self._engine) as session, session.begin():
            if new_conversation:
                session.add(ConversationRow(id=answer.conversation_id, created_at=answer.created_at))
            turn = (
                session.scalar(
                    select(func.count())
                    .select_from(AnswerRow)
                    .where(AnswerRow.conversation_id == answer.conversation_id)
                )
                or 0
            )
            session.add(
                AnswerRow(
                    id=answer.id,
                    conversation_id=answer.conversation_id,
                    turn=turn + 1,
                    question=answer.question,
                    query=answer.query,
                    topic=topic,
                    review_status=answer.review_status.value,
                    created_at=answer.created_at,
                    body=json.dumps(dataclasses.asdict(answer), ensure_ascii=False),
                )
            )
            session.flush()
            _add_review_rows(session, answer, reused_from)

    def get(self, answer_id: str) -> Answer:
        """A stored answer."""
        with Session(self._engine) as session:
            row = session.get(AnswerRow, answer_id)
            if row is None:
                raise NotFoundError(f"unknown answer id {answer_id!r}")
            answer = _ANSWER.validate_python(json.loads(row.body))
            answer.review_status = ReviewStatus(row.review_status)
            return answer

    def topic(self, answer_id: str) -> str:
        """The topic an answer was stored under."""
        with Session(self._engine) as session:
            row = session.get(AnswerRow, answer_id)
            if row is None:
                raise NotFoundError(f"unknown answer id {answer_id!r}")
            return row.topic

    def _backfill(self) -> None:
        """Give answers stored before review records existed their record (a one-time step per database)."""
        with Session(self._engine) as session, session.begin():
            missing = session.scalars(
                select(AnswerRow).where(AnswerRow.id.not_in(select(ReviewItemRow.answer_id)))
            ).all()
            for row in missing:
                _add_review_rows(session, _ANSWER.validate_python(json.loads(row.body)), "")


def _add_review_rows(session: Session, answer: Answer, reused_from: str) -> None:
    session.add(ReviewItemRow(answer_id=answer.id, question_key=question_key(answer.question),
                              audience=answer.audience, reusable=False, reused_from=reused_from,
                              approved_by="", approved_at="", approval_id=0, doc_hashes="{}"))
    for doc_id in dict.fromkeys(r.doc_id for r in answer.references if r.doc_id):
        session.add(GuidelineRow(answer_id=answer.id, doc_id=doc_id))
