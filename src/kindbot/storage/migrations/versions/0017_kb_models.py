"""kb_models: what a full knowledge-base build learned, fitted once for every process

One row per (tenant, model key): the newest version's fitted confidence model
and classifier (``payload``), or, while ``payload`` is NULL, the lease of the
process fitting it (``holder`` until ``lease_until``).

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-07
"""

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "kb_models",
        sa.Column("tenant_id", sa.String(length=32), nullable=False),
        sa.Column("model_key", sa.String(length=100), nullable=False),
        sa.Column("kb_version", sa.Integer(), nullable=False),
        sa.Column("holder", sa.String(length=64), nullable=False),
        sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("payload", sa.LargeBinary(), nullable=True),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_kb_models_tenant_id_tenants")
        ),
        sa.PrimaryKeyConstraint("tenant_id", "model_key", name=op.f("pk_kb_models")),
    )


def downgrade() -> None:
    op.drop_table("kb_models")
