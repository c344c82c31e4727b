"""messages.origin: where a bot message came from (knowledge, fallback, agent, flow …)

Revision ID: 0027
Revises: 0026
Create Date: 2026-12-08
"""

import sqlalchemy as sa
from alembic import op

revision = "0027"
down_revision = "0026"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("messages", sa.Column("origin", sa.String(length=16), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("messages") as batch:  # SQLite drops a column by copying
        batch.drop_column("origin")
