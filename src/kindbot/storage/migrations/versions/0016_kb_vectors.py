"""kb_vectors: the sentence vectors of the knowledge base's texts, kept with it

One row per (tenant, encoder name, SHA-256 of the exact text): a server that
restarts, or another process, reads them instead of encoding the texts again.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-07
"""

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "kb_vectors",
        sa.Column("tenant_id", sa.String(length=32), nullable=False),
        sa.Column("model", sa.String(length=100), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("dim", sa.Integer(), nullable=False),
        sa.Column("vector", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_kb_vectors_tenant_id_tenants")
        ),
        sa.PrimaryKeyConstraint("tenant_id", "model", "digest", name=op.f("pk_kb_vectors")),
    )


def downgrade() -> None:
    op.drop_table("kb_vectors")
