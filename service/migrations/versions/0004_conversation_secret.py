"""Conversations gain `secret_hash`: the sha256 of the secret given to whoever opened the conversation.

Conversations stored before it keep '' and can no longer be continued or read by anyone (their answers still
can, by answer id).

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("conversations", sa.Column("secret_hash", sa.String(64), nullable=False, server_default=""))
