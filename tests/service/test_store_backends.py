"""The answers' database on SQLite and on a real PostgreSQL: review moves, the append-only trail, reuse,
feedback, turn numbers, conversation secrets and the retention purge, at the store level."""

from __future__ import annotations

import hashlib
import sqlite3
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy
from sqlalchemy import event, text

from medcite.errors import ConflictError, NotFoundError
from service.conversations import ConversationStore, new_secret
from service.models import ReviewStatus as S
from service.retention import purge
from service.review import Rating
from service.workflow import ReviewWorkflow

from .stored import make_answer

HASHES = {"nmosd-guideline": "h1"}


@pytest.fixture()
def store(database_url: str) -> Iterator[ConversationStore]:
    opened = ConversationStore(database_url, max_turns=5)
    yield opened
    opened.close()


def _workflow(store: ConversationStore, hashes: dict[str, str]) -> ReviewWorkflow:
    return ReviewWorkflow(store, hashes=lambda: hashes)


def _opened(store: ConversationStore, question: str = "What treats neuromyelitis optica?",
            created_at: str = "") -> tuple[str, str]:
    """A new conversation with one answer: (answer id, secret)."""
    answer, secret = make_answer(question, created_at=created_at), new_secret()
    store.save(answer, "neuromyelitis optica", new_conversation=True, secret=secret)
    return answer.id, secret


def _approve(workflow: ReviewWorkflow, answer_id: str) -> None:
    for step in (S.UNDER_REVIEW, S.APPROVED):
        workflow.transition(answer_id, step, actor="Dr Tester")


def test_transitions_follow_the_workflow_and_are_audited(store: ConversationStore) -> None:
    workflow = _workflow(store, HASHES)
    answer_id, _ = _opened(store)
    with pytest.raises(ConflictError, match="under_review"):
        workflow.transition(answer_id, S.APPROVED, actor="Dr Tester")
    _approve(workflow, answer_id)
    workflow.transition(answer_id, S.RETRACTED, actor="Dr Tester", note="superseded")
    trail = store.reviews.audit(answer_id)
    assert [(e.from_status, e.to_status) for e in trail] == [
        (S.SUBMITTED, S.UNDER_REVIEW), (S.UNDER_REVIEW, S.APPROVED), (S.APPROVED, S.RETRACTED)]
    assert trail[-1].note == "superseded" and {e.actor for e in trail} == {"Dr Tester"}
    assert store.get(answer_id).review_status is S.RETRACTED


def test_the_audit_trail_refuses_updates_and_deletes(store: ConversationStore) -> None:
    workflow = _workflow(store, HASHES)
    answer_id, _ = _opened(store)
    workflow.transition(answer_id, S.UNDER_REVIEW, actor="Dr Tester")
    for statement in ("UPDATE audit_log SET note = 'forged'", "DELETE FROM audit_log"):
        with pytest.raises(sqlalchemy.exc.DatabaseError, match="append-only"), store.engine.begin() as db:
            db.execute(text(statement))
    assert [e.note for e in store.reviews.audit(answer_id)] == [""]


def test_approved_answers_are_reused_until_their_guideline_changes(store: ConversationStore) -> None:
    hashes = dict(HASHES)
    workflow = _workflow(store, hashes)
    answer_id, _ = _opened(store)
    store.reviews.mark_reusable(answer_id)
    assert workflow.reuse("What treats neuromyelitis optica?", "clinician", None) is None
    _approve(workflow, answer_id)
    copy = workflow.reuse("what treats NEUROMYELITIS optica", "clinician", None, secret="s3cret-of-the-copy")
    assert copy is not None and copy.reused_from == answer_id and copy.review_status is S.APPROVED
    assert store.owned(copy.conversation_id, "s3cret-of-the-copy")
    hashes["nmosd-guideline"] = "h2"  # re-ingested with other content
    assert workflow.reuse("What treats neuromyelitis optica?", "clinician", None) is None
    assert store.get(answer_id).review_status is S.SUBMITTED
    assert store.reviews.audit(answer_id)[-1].action.value == "stale"


def test_an_unsafe_rating_sends_an_approved_answer_back_to_review(store: ConversationStore) -> None:
    workflow = _workflow(store, HASHES)
    answer_id, _ = _opened(store)
    store.reviews.add_feedback(answer_id, Rating.HELPFUL, "")
    _approve(workflow, answer_id)
    store.reviews.add_feedback(answer_id, Rating.NOT_HELPFUL, "too short")
    assert store.get(answer_id).review_status is S.APPROVED
    store.reviews.add_feedback(answer_id, Rating.UNSAFE, "the dose is wrong")
    assert store.get(answer_id).review_status is S.UNDER_REVIEW
    flag = store.reviews.audit(answer_id)[-1]
    assert (flag.actor, flag.action.value, flag.from_status, flag.to_status) == (
        "feedback", "flag", S.APPROVED, S.UNDER_REVIEW)
    assert "unsafe" in flag.note and "the dose is wrong" in flag.note
    store.reviews.add_feedback(answer_id, Rating.UNSAFE, "")  # not approved any more: stored, no move
    assert len(store.reviews.audit(answer_id)) == 3
    assert [f.rating for f in store.reviews.feedback(answer_id)] == [
        Rating.UNSAFE, Rating.UNSAFE, Rating.NOT_HELPFUL, Rating.HELPFUL]


def test_a_conversation_opens_only_with_its_secret(store: ConversationStore) -> None:
    answer_id, secret = _opened(store)
    conversation = store.get(answer_id).conversation_id
    assert [t.question for t in store.history(conversation, secret)] == ["What treats neuromyelitis optica?"]
    for wrong in (None, "", new_secret(), secret[:-1]):
        with pytest.raises(NotFoundError, match="unknown conversation") as foreign:
            store.history(conversation, wrong)
        with pytest.raises(NotFoundError, match="unknown conversation") as unknown:
            store.history("no-such-conversation", wrong)
        assert str(foreign.value).replace(conversation, "X") == str(unknown.value).replace("no-such-conversation", "X")
    with store.engine.connect() as db:
        stored = db.execute(text("SELECT secret_hash FROM conversations")).scalar_one()
        bodies = " ".join(db.execute(text("SELECT body FROM answers")).scalars())
    assert stored == hashlib.sha256(secret.encode()).hexdigest() and secret not in bodies


def test_concurrent_turns_are_unique_and_capped(store: ConversationStore) -> None:
    first, secret = _opened(store)
    conversation = store.get(first).conversation_id
    assert store.owned(conversation, secret)

    def post(_: int) -> str:
        try:
            return str(store.save(make_answer("and in pregnancy?", conversation_id=conversation), "nmosd"))
        except ConflictError as exc:
            return str(exc)

    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(post, range(8)))
    assert sorted(r for r in results if r.isdigit()) == ["2", "3", "4", "5"]
    assert sum("reached its 5 turns" in r for r in results) == 4
    with store.engine.connect() as db:
        turns = db.execute(text("SELECT turn FROM answers WHERE conversation_id = :c ORDER BY turn"),
                           {"c": conversation}).scalars().all()
    assert turns == [1, 2, 3, 4, 5]


def test_purge_deletes_old_conversations_but_keeps_approved_answers_and_the_trail(store: ConversationStore) -> None:
    workflow = _workflow(store, HASHES)
    long_ago = (datetime.now(UTC) - timedelta(days=40)).isoformat(timespec="seconds")
    old_id, _ = _opened(store, created_at=long_ago)
    approved_id, approved_secret = _opened(store, "What is NMOSD?", created_at=long_ago)
    store.reviews.mark_reusable(approved_id)
    _approve(workflow, approved_id)
    copy = workflow.reuse("What is NMOSD?", "clinician", None, secret="x")
    assert copy is not None
    retracted_id, _ = _opened(store, "What is MOG antibody disease?", created_at=long_ago)
    store.reviews.mark_reusable(retracted_id)
    _approve(workflow, retracted_id)
    newer_copy = workflow.reuse("What is MOG antibody disease?", "clinician", None, secret="y")
    assert newer_copy is not None
    workflow.transition(retracted_id, S.RETRACTED, actor="Dr Tester")  # its copy still reads its state
    workflow.transition(old_id, S.UNDER_REVIEW, actor="Dr Tester")
    store.reviews.add_feedback(old_id, Rating.HELPFUL, "thanks")
    recent_id, _ = _opened(store, "What is MOGAD?")
    trail = len(list(store.reviews.audit_all()))

    dry = purge(store.engine, 30, dry_run=True)
    assert (dry.conversations, dry.answers, dry.kept, dry.dry_run) == (1, 1, 2, True)
    store.get(old_id)  # nothing deleted yet
    done = purge(store.engine, 30)
    assert (done.conversations, done.answers, done.kept) == (1, 1, 2)
    with pytest.raises(NotFoundError):
        store.get(old_id)
    assert store.exists(store.get(recent_id).conversation_id)
    assert store.get(approved_id).review_status is S.APPROVED and workflow.get(copy.id).reused_from == approved_id
    assert workflow.get(newer_copy.id).review_status is S.RETRACTED
    assert not store.owned(store.get(approved_id).conversation_id, approved_secret)  # closed, not continuable
    assert store.reviews.feedback(old_id) == []
    assert len(list(store.reviews.audit_all())) == trail  # the audit trail is kept whole
    assert purge(store.engine, 30).answers == 0


def test_a_write_sqlite_refuses_as_locked_is_retried(tmp_path: Path) -> None:
    store = ConversationStore(f"sqlite:///{tmp_path / 'a.db'}")
    refused: list[str] = []

    @event.listens_for(store.engine, "before_cursor_execute")
    def _busy(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if statement.lstrip().upper().startswith("INSERT") and len(refused) < 2:
            refused.append(statement)  # as SQLite answers when another worker held the write lock too long
            raise sqlite3.OperationalError("database is locked")

    try:
        answer, secret = make_answer(), new_secret()
        assert store.save(answer, "neuromyelitis optica", new_conversation=True, secret=secret) == 1
        assert len(refused) == 2 and store.get(answer.id).id == answer.id and store.owned(answer.conversation_id,
                                                                                         secret)
        refused.clear()
        event.remove(store.engine, "before_cursor_execute", _busy)

        @event.listens_for(store.engine, "before_cursor_execute")
        def _full(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
            if statement.lstrip().upper().startswith("INSERT"):
                refused.append(statement)
                raise sqlite3.OperationalError("database or disk is full")

        with pytest.raises(sqlalchemy.exc.OperationalError):  # not retried: the caller reports it
            store.save(make_answer(), "x", new_conversation=True, secret=new_secret())
        assert len(refused) == 1
    finally:
        store.close()
