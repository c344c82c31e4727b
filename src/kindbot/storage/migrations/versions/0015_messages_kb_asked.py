"""messages.kb_asked: the inbound text was searched in the knowledge base as a question

``kindbot kb unanswered`` reviews only those (not flow answers, opt-out words,
clarification picks or person requests). NULL on older rows: unknown, reviewed.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-07
"""

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("messages") as batch:
        batch.add_column(sa.Column("kb_asked", sa.Boolean(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("messages") as batch:
        batch.drop_column("kb_asked")
