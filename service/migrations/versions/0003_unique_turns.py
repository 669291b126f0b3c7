"""One answer per (conversation, turn): duplicate turns left by concurrent posts are renumbered in the order the
answers were made (nothing is dropped), then a unique index makes turn allocation atomic.

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    bind = op.get_bind()
    answers = sa.table("answers", sa.column("id", sa.String), sa.column("conversation_id", sa.String),
                       sa.column("turn", sa.Integer), sa.column("created_at", sa.String))
    rows = bind.execute(sa.select(answers.c.id, answers.c.conversation_id, answers.c.turn)
                        .order_by(answers.c.conversation_id, answers.c.turn, answers.c.created_at, answers.c.id))
    turn, conversation, moves = 0, None, []
    for answer_id, conversation_id, old in rows:
        turn = turn + 1 if conversation_id == conversation else 1
        conversation = conversation_id
        if old != turn:
            moves.append((answer_id, turn))
    for answer_id, new in moves:
        bind.execute(sa.update(answers).where(answers.c.id == answer_id).values(turn=new))
    op.create_index("uq_answers_conversation_turn", "answers", ["conversation_id", "turn"], unique=True)
