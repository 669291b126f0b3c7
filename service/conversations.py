"""Conversations and answers in one SQLAlchemy database (SQLite or PostgreSQL), so follow-ups and
GET /v1/answers/{id} work.

A conversation belongs to whoever opened it: they get a random secret once, the store keeps its sha256, and
reading or continuing the conversation needs the secret. A wrong or missing secret is reported exactly like an
unknown conversation. Turns are numbered in the INSERT itself under a unique (conversation, turn) index, so
concurrent posts never share a number (a collision is retried).
"""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import json
import secrets
import time

from pydantic import TypeAdapter
from sqlalchemy import func, insert, literal, select
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session

from medcite.errors import ConflictError, NotFoundError
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

__all__ = ["ConversationStore", "new_id", "new_secret", "now_iso"]

_ANSWER = TypeAdapter(Answer)
_RETRIES = 8  # turn collisions retried before giving up with a 409


def new_secret() -> str:
    """A conversation secret: 256 random bits, URL-safe."""
    return secrets.token_urlsafe(32)


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8", "surrogatepass")).hexdigest()


class ConversationStore:
    """Stores answers grouped by conversation; `reviews` is their review state and trail in the same database.
    A conversation holds at most `max_turns` answers."""

    def __init__(self, url: str, *, max_turns: int = 50) -> None:
        self._engine: Engine = open_engine(url)
        self.max_turns = max_turns
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

    def owned(self, conversation_id: str, secret: str | None) -> bool:
        """True when the conversation exists and `secret` is its secret (compared in constant time)."""
        with Session(self._engine) as session:
            row = session.get(ConversationRow, conversation_id)
            stored = row.secret_hash if row is not None else ""
        # Hash even when there is nothing to compare, so unknown and foreign conversations take the same path.
        given = _hash(secret or "")
        return bool(stored) and secret is not None and hmac.compare_digest(given, stored)

    def history(self, conversation_id: str, secret: str | None = None) -> list[Turn]:
        """Earlier turns of a conversation, oldest first; NotFoundError when it is unknown or `secret` is not
        its secret (the same error: a conversation's existence is no one else's business)."""
        if not self.owned(conversation_id, secret):
            raise NotFoundError(f"unknown conversation id {conversation_id!r}")
        with Session(self._engine) as session:
            rows = session.scalars(
                select(AnswerRow).where(AnswerRow.conversation_id == conversation_id).order_by(AnswerRow.turn)
            ).all()
            return [Turn(question=r.question, query=r.query, topic=r.topic) for r in rows]

    def save(self, answer: Answer, topic: str, *, new_conversation: bool = False, reused_from: str = "",
             secret: str = "") -> int:
        """Store an answer as the next turn of its conversation (opening the conversation, owned by `secret`,
        when it is new); `reused_from` names the approved answer a served copy was made of. Returns the turn;
        ConflictError when the conversation already holds `max_turns` answers."""
        locked: OperationalError | None = None
        for _ in range(_RETRIES):
            try:
                return self._insert(answer, topic, new_conversation, reused_from, secret)
            except IntegrityError:
                # Another post took this turn number between our read and write (PostgreSQL), or opened the
                # same conversation; the next attempt sees it.
                new_conversation = new_conversation and not self.exists(answer.conversation_id)
            except OperationalError as exc:
                # SQLite's one writer was busy past the driver's wait (workers under load): try again shortly.
                # Any other refusal (disk full, read-only) is the caller's to report.
                if "locked" not in str(exc.orig or exc).casefold():
                    raise
                locked = exc
                time.sleep(0.05 * (1 + secrets.randbelow(4)))
        if locked is not None:
            raise locked  # still locked: the answer is returned unsaved, as for any refused write
        raise ConflictError(f"conversation {answer.conversation_id} is busy; retry the question")

    def _insert(self, answer: Answer, topic: str, new_conversation: bool, reused_from: str, secret: str) -> int:
        with Session(self._engine) as session, session.begin():
            if new_conversation:
                session.add(ConversationRow(id=answer.conversation_id, created_at=answer.created_at,
                                            secret_hash=_hash(secret) if secret else ""))
                session.flush()
            # The turn is computed inside the INSERT: SQLite runs one writer at a time, and on PostgreSQL a
            # concurrent duplicate hits the unique index and is retried.
            taken = (select(func.coalesce(func.max(AnswerRow.turn), 0) + 1)
                     .where(AnswerRow.conversation_id == answer.conversation_id).scalar_subquery())
            values = {"id": answer.id, "conversation_id": answer.conversation_id, "question": answer.question,
                      "query": answer.query, "topic": topic, "review_status": answer.review_status.value,
                      "created_at": answer.created_at,
                      "body": _body(answer)}
            columns = [*values, "turn"]
            session.execute(insert(AnswerRow).from_select(
                columns, select(*(literal(v, AnswerRow.__table__.c[k].type) for k, v in values.items()), taken)))
            turn = session.scalar(select(AnswerRow.turn).where(AnswerRow.id == answer.id)) or 0
            if turn > self.max_turns:
                raise ConflictError(f"conversation {answer.conversation_id} has reached its {self.max_turns} turns; "
                                    "start a new conversation")
            _add_review_rows(session, answer, reused_from)
            return turn

    def turns(self, conversation_id: str) -> int:
        """How many answers a conversation holds."""
        with Session(self._engine) as session:
            return session.scalar(select(func.count()).select_from(AnswerRow)
                                  .where(AnswerRow.conversation_id == conversation_id)) or 0

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


def _body(answer: Answer) -> str:
    """The stored JSON of an answer; the conversation secret is never stored, only its hash."""
    return _ANSWER.dump_json(dataclasses.replace(answer, conversation_secret="")).decode()


def _add_review_rows(session: Session, answer: Answer, reused_from: str) -> None:
    session.add(ReviewItemRow(answer_id=answer.id, question_key=question_key(answer.question),
                              audience=answer.audience, reusable=False, reused_from=reused_from,
                              approved_by="", approved_at="", approval_id=0, doc_hashes="{}"))
    for doc_id in dict.fromkeys(r.doc_id for r in answer.references if r.doc_id):
        session.add(GuidelineRow(answer_id=answer.id, doc_id=doc_id))
