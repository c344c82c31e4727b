"""knowledge base: tenant synonym groups and the tuned answer threshold

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def _tenant(table: str) -> list[sa.schema.SchemaItem]:
    return [
        sa.Column("tenant_id", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f(f"fk_{table}_tenant_id_tenants")
        ),
    ]


def upgrade() -> None:
    op.create_table(
        "kb_synonyms",
        *_tenant("kb_synonyms"),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("terms_json", sa.Text(), nullable=False),
        sa.UniqueConstraint(
            "tenant_id", "position", name=op.f("uq_kb_synonyms_tenant_id_position")
        ),
    )
    op.create_table(
        "kb_tuning",
        *_tenant("kb_tuning"),
        sa.Column("threshold", sa.Float(), nullable=False),
        sa.Column("cases", sa.Integer(), nullable=False),
        sa.Column("accuracy", sa.Float(), nullable=False),
        sa.Column("tuned_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("tenant_id", name=op.f("uq_kb_tuning_tenant_id")),
    )


def downgrade() -> None:
    op.drop_table("kb_tuning")
    op.drop_table("kb_synonyms")
