"""tenant llm: generative-answer settings (sealed) and the entries a generated reply used

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("tenants") as batch:
        batch.add_column(sa.Column("llm_sealed", sa.Text(), nullable=True))
    with op.batch_alter_table("messages") as batch:
        batch.add_column(sa.Column("source_entry_ids_json", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("messages") as batch:
        batch.drop_column("source_entry_ids_json")
    with op.batch_alter_table("tenants") as batch:
        batch.drop_column("llm_sealed")
