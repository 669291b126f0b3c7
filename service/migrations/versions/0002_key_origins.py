"""API keys gain `origins`: the web origins a site key may be used from (JSON list, '[]' for none).

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("api_keys", sa.Column("origins", sa.Text(), nullable=False, server_default="[]"))
