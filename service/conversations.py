"""Conversations and answers in SQLite through SQLAlchemy, so follow-ups and GET /v1/answers/{id} work."""

from __future__ import annotations

import dataclasses
import json
import uuid
from datetime import UTC, datetime
from typing import Any

from pydantic import TypeAdapter
from sqlalchemy import ForeignKey, String, Text, create_engine, event, func, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

from medcite.errors import NotFoundError
from service.followup import Turn
from service.models import Answer, ReviewStatus

_ANSWER = TypeAdapter(Answer)


class _Base(DeclarativeBase):
    pass


class _Conversation(_Base):
    __tablename__ = "conversations"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    created_at: Mapped[str] = mapped_column(String(40))


class _AnswerRow(_Base):
    __tablename__ = "answers"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    conversation_id: Mapped[str] = mapped_column(ForeignKey("conversations.id"), index=True)
    turn: Mapped[int]
    question: Mapped[str] = mapped_column(Text)
    query: Mapped[str] = mapped_column(Text)
    topic: Mapped[str] = mapped_column(Text)
    review_status: Mapped[str] = mapped_column(String(20))
    created_at: Mapped[str] = mapped_column(String(40))
    body: Mapped[str] = mapped_column(Text)


def now_iso() -> str:
    """Current UTC time, ISO 8601."""
    return datetime.now(UTC).isoformat(timespec="seconds")


def new_id() -> str:
    """A random id for answers and conversations (they are records, not content)."""
    return str(uuid.uuid4())


class ConversationStore:
    """Stores answers grouped by conversation."""

    def __init__(self, url: str) -> None:
        args: dict[str, Any] = {"check_same_thread": False} if url.startswith("sqlite") else {}
        self._engine: Engine = create_engine(url, connect_args=args)
        if url.startswith("sqlite"):
            # WAL without a sync per commit: one answer write costs well under a millisecond instead of an fsync.
            @event.listens_for(self._engine, "connect")
            def _pragmas(dbapi_connection: Any, _: Any) -> None:
                cursor = dbapi_connection.cursor()
                cursor.execute("PRAGMA journal_mode=WAL")
                cursor.execute("PRAGMA synchronous=NORMAL")
                cursor.close()

        _Base.metadata.create_all(self._engine)

    def close(self) -> None:
        """Release connections."""
        self._engine.dispose()

    def exists(self, conversation_id: str) -> bool:
        """True when the conversation is known."""
        with Session(self._engine) as session:
            return session.get(_Conversation, conversation_id) is not None

    def history(self, conversation_id: str) -> list[Turn]:
        """Earlier turns of a conversation, oldest first."""
        if not self.exists(conversation_id):
            raise NotFoundError(f"unknown conversation id {conversation_id!r}")
        with Session(self._engine) as session:
            rows = session.scalars(
                select(_AnswerRow).where(_AnswerRow.conversation_id == conversation_id).order_by(_AnswerRow.turn)
            ).all()
            return [Turn(question=r.question, query=r.query, topic=r.topic) for r in rows]

    def save(self, answer: Answer, topic: str, *, new_conversation: bool = False) -> None:
        """Store an answer as the next turn of its conversation (opening the conversation when it is new)."""
        with Session(self._engine) as session, session.begin():
            if new_conversation:
                session.add(_Conversation(id=answer.conversation_id, created_at=answer.created_at))
            turn = (
                session.scalar(
                    select(func.count())
                    .select_from(_AnswerRow)
                    .where(_AnswerRow.conversation_id == answer.conversation_id)
                )
                or 0
            )
            session.add(
                _AnswerRow(
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

    def get(self, answer_id: str) -> Answer:
        """A stored answer."""
        with Session(self._engine) as session:
            row = session.get(_AnswerRow, answer_id)
            if row is None:
                raise NotFoundError(f"unknown answer id {answer_id!r}")
            answer = _ANSWER.validate_python(json.loads(row.body))
            answer.review_status = ReviewStatus(row.review_status)
            return answer

    def set_review(self, answer_id: str, status: ReviewStatus) -> None:
        """Record a reviewer's decision."""
        with Session(self._engine) as session, session.begin():
            row = session.get(_AnswerRow, answer_id)
            if row is None:
                raise NotFoundError(f"unknown answer id {answer_id!r}")
            row.review_status = status.value
