"""The database's tables (conversations, answers, reviews, audit, edits, feedback, API keys) and its engine.

Everything lives in one SQLAlchemy database (`settings.conversations_url`). Tables are added, never altered, so
a database written before a table existed gains it on the next start and keeps its data.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import DDL, Boolean, ForeignKey, Integer, String, Text, create_engine, event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


class ConversationRow(Base):
    __tablename__ = "conversations"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    created_at: Mapped[str] = mapped_column(String(40))


class AnswerRow(Base):
    __tablename__ = "answers"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    conversation_id: Mapped[str] = mapped_column(ForeignKey("conversations.id"), index=True)
    turn: Mapped[int]
    question: Mapped[str] = mapped_column(Text)
    query: Mapped[str] = mapped_column(Text)
    topic: Mapped[str] = mapped_column(Text)
    review_status: Mapped[str] = mapped_column(String(20))  # the answer's review state: the one source of truth
    created_at: Mapped[str] = mapped_column(String(40))
    body: Mapped[str] = mapped_column(Text)


class ReviewItemRow(Base):
    """What review needs to know about an answer beyond its body."""

    __tablename__ = "review_items"
    answer_id: Mapped[str] = mapped_column(ForeignKey("answers.id"), primary_key=True)
    question_key: Mapped[str] = mapped_column(Text, index=True)  # the normalised question
    audience: Mapped[str] = mapped_column(String(20))
    # Composed for a first question without filters, so it may answer the same question for someone else.
    reusable: Mapped[bool] = mapped_column(Boolean, default=False)
    reused_from: Mapped[str] = mapped_column(String(36), default="", index=True)  # a served copy of that answer
    approved_by: Mapped[str] = mapped_column(String(200), default="")
    approved_at: Mapped[str] = mapped_column(String(40), default="")
    approval_id: Mapped[int] = mapped_column(Integer, default=0)  # its audit entry: orders approvals in one second
    doc_hashes: Mapped[str] = mapped_column(Text, default="{}")  # JSON {doc_id: content hash} at approval


class GuidelineRow(Base):
    """The guidelines an answer cites (for the queue's guideline filter and the re-ingest check)."""

    __tablename__ = "answer_guidelines"
    answer_id: Mapped[str] = mapped_column(ForeignKey("answers.id"), primary_key=True)
    doc_id: Mapped[str] = mapped_column(String(200), primary_key=True, index=True)


class AuditRow(Base):
    """One review event. Append-only; answer_id is no foreign key so the trail outlives purged answers."""

    __tablename__ = "audit_log"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    answer_id: Mapped[str] = mapped_column(String(36), index=True)
    at: Mapped[str] = mapped_column(String(40))
    actor: Mapped[str] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(String(20))  # transition, edit or stale
    from_status: Mapped[str] = mapped_column(String(20))
    to_status: Mapped[str] = mapped_column(String(20))
    note: Mapped[str] = mapped_column(Text, default="")


class EditRow(Base):
    """One reviewer edit of one sentence, with the text before it. Append-only."""

    __tablename__ = "answer_edits"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    answer_id: Mapped[str] = mapped_column(String(36), index=True)
    audit_id: Mapped[int] = mapped_column(Integer)  # the audit entry of the edit
    position: Mapped[int]
    before_text: Mapped[str] = mapped_column(Text)
    before_citations: Mapped[str] = mapped_column(String(200))  # JSON list
    after_text: Mapped[str] = mapped_column(Text)
    after_citations: Mapped[str] = mapped_column(String(200))


class FeedbackRow(Base):
    __tablename__ = "feedback"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    answer_id: Mapped[str] = mapped_column(String(36), index=True)
    rating: Mapped[str] = mapped_column(String(20), index=True)
    comment: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[str] = mapped_column(String(40))


class KeyRow(Base):
    """An API key: its public id, who holds it, its role, the argon2 hash of the whole key and (site keys) the
    browser origins it answers."""

    __tablename__ = "api_keys"
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(200), index=True)
    role: Mapped[str] = mapped_column(String(20))
    hash: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[str] = mapped_column(String(40))
    revoked_at: Mapped[str] = mapped_column(String(40), default="")
    origins: Mapped[str] = mapped_column(Text, default="[]")  # site keys: JSON list of the origins they answer


def _append_only(table: str) -> None:
    # Defence in depth: the stores have no code that updates or deletes these rows, and SQLite refuses it too.
    for verb in ("UPDATE", "DELETE"):
        ddl = DDL(  # type: ignore[no-untyped-call]
            f"CREATE TRIGGER IF NOT EXISTS {table}_no_{verb.lower()} BEFORE {verb} ON {table} "
            f"BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END")
        event.listen(Base.metadata.tables[table], "after_create", ddl.execute_if(dialect="sqlite"))


_append_only("audit_log")
_append_only("answer_edits")


def now_iso() -> str:
    """Current UTC time, ISO 8601."""
    return datetime.now(UTC).isoformat(timespec="seconds")


def new_id() -> str:
    """A random id for answers and conversations (122 random bits; they are records, not content)."""
    return str(uuid.uuid4())


def open_engine(url: str) -> Engine:
    """An engine on the database at url, with every table created."""
    sqlite = url.startswith("sqlite")
    args: dict[str, Any] = {"check_same_thread": False} if sqlite else {}
    engine = create_engine(url, connect_args=args)
    if sqlite:
        # WAL without a sync per commit: one answer write costs well under a millisecond instead of an fsync.
        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_connection: Any, _: Any) -> None:
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.close()

    Base.metadata.create_all(engine)
    return engine
