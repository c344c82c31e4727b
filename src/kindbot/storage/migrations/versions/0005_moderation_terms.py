"""moderation: platform and tenant lexicon edits, with a generation per scope

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "moderation_terms",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("tenant_id", sa.String(length=32), nullable=True),
        sa.Column("term", sa.String(length=100), nullable=False),
        sa.Column("category", sa.String(length=16), nullable=True),
        sa.Column("action", sa.String(length=8), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=100), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_moderation_terms_tenant_id_tenants")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_moderation_terms")),
    )
    op.create_index("ix_moderation_terms_tenant_term", "moderation_terms", ["tenant_id", "term"])
    op.create_table(
        "moderation_generations",
        sa.Column("scope", sa.String(length=32), nullable=False),
        sa.Column("generation", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("scope", name=op.f("pk_moderation_generations")),
    )


def downgrade() -> None:
    op.drop_table("moderation_generations")
    op.drop_table("moderation_terms")
