"""The schema as `create_all` made it before migrations: answers, review, audit, edits, feedback, API keys.

Each table is created only when missing, so a database written before migrations (or before some of its tables
existed) is adopted as it is, its rows untouched, and stamped at this revision.

Revision ID: 0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def _tables() -> list[tuple[str, list[sa.Column[object]], list[tuple[str, list[str]]]]]:
    s = sa.String
    return [
        ("conversations", [sa.Column("id", s(36), primary_key=True), sa.Column("created_at", s(40), nullable=False)],
         []),
        ("answers", [
            sa.Column("id", s(36), primary_key=True),
            sa.Column("conversation_id", s(36), sa.ForeignKey("conversations.id"), nullable=False),
            sa.Column("turn", sa.Integer(), nullable=False),
            sa.Column("question", sa.Text(), nullable=False),
            sa.Column("query", sa.Text(), nullable=False),
            sa.Column("topic", sa.Text(), nullable=False),
            sa.Column("review_status", s(20), nullable=False),
            sa.Column("created_at", s(40), nullable=False),
            sa.Column("body", sa.Text(), nullable=False),
        ], [("ix_answers_conversation_id", ["conversation_id"])]),
        ("review_items", [
            sa.Column("answer_id", s(36), sa.ForeignKey("answers.id"), primary_key=True),
            sa.Column("question_key", sa.Text(), nullable=False),
            sa.Column("audience", s(20), nullable=False),
            sa.Column("reusable", sa.Boolean(), nullable=False),
            sa.Column("reused_from", s(36), nullable=False),
            sa.Column("approved_by", s(200), nullable=False),
            sa.Column("approved_at", s(40), nullable=False),
            sa.Column("approval_id", sa.Integer(), nullable=False),
            sa.Column("doc_hashes", sa.Text(), nullable=False),
        ], [("ix_review_items_question_key", ["question_key"]), ("ix_review_items_reused_from", ["reused_from"])]),
        ("answer_guidelines", [
            sa.Column("answer_id", s(36), sa.ForeignKey("answers.id"), primary_key=True),
            sa.Column("doc_id", s(200), primary_key=True),
        ], [("ix_answer_guidelines_doc_id", ["doc_id"])]),
        ("audit_log", [
            sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
            sa.Column("answer_id", s(36), nullable=False),
            sa.Column("at", s(40), nullable=False),
            sa.Column("actor", s(200), nullable=False),
            sa.Column("action", s(20), nullable=False),
            sa.Column("from_status", s(20), nullable=False),
            sa.Column("to_status", s(20), nullable=False),
            sa.Column("note", sa.Text(), nullable=False),
        ], [("ix_audit_log_answer_id", ["answer_id"])]),
        ("answer_edits", [
            sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
            sa.Column("answer_id", s(36), nullable=False),
            sa.Column("audit_id", sa.Integer(), nullable=False),
            sa.Column("position", sa.Integer(), nullable=False),
            sa.Column("before_text", sa.Text(), nullable=False),
            sa.Column("before_citations", s(200), nullable=False),
            sa.Column("after_text", sa.Text(), nullable=False),
            sa.Column("after_citations", s(200), nullable=False),
        ], [("ix_answer_edits_answer_id", ["answer_id"])]),
        ("feedback", [
            sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
            sa.Column("answer_id", s(36), nullable=False),
            sa.Column("rating", s(20), nullable=False),
            sa.Column("comment", sa.Text(), nullable=False),
            sa.Column("created_at", s(40), nullable=False),
        ], [("ix_feedback_answer_id", ["answer_id"]), ("ix_feedback_rating", ["rating"])]),
        ("api_keys", [
            sa.Column("id", s(32), primary_key=True),
            sa.Column("name", s(200), nullable=False),
            sa.Column("role", s(20), nullable=False),
            sa.Column("hash", s(200), nullable=False),
            sa.Column("created_at", s(40), nullable=False),
            sa.Column("revoked_at", s(40), nullable=False),
        ], [("ix_api_keys_name", ["name"])]),
    ]


def upgrade() -> None:
    inspector = sa.inspect(op.get_bind())
    for name, columns, indexes in _tables():
        if inspector.has_table(name):
            continue
        op.create_table(name, *columns)
        for index, cols in indexes:
            op.create_index(index, name, cols)
    if op.get_bind().dialect.name == "sqlite":
        for table in ("audit_log", "answer_edits"):
            for verb in ("UPDATE", "DELETE"):
                op.execute(f"CREATE TRIGGER IF NOT EXISTS {table}_no_{verb.lower()} BEFORE {verb} ON {table} "
                           f"BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END")
