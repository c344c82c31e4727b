"""flows: tenants' multi-turn flow definitions and each conversation's flow state

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "tenant_flows",
        sa.Column("tenant_id", sa.String(length=32), nullable=False),
        sa.Column("flows_json", sa.Text(), nullable=False),
        sa.Column("endpoints_sealed", sa.Text(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_tenant_flows_tenant_id_tenants")
        ),
        sa.PrimaryKeyConstraint("tenant_id", name=op.f("pk_tenant_flows")),
    )
    op.create_table(
        "flow_states",
        sa.Column("conversation_id", sa.String(length=32), nullable=False),
        sa.Column("tenant_id", sa.String(length=32), nullable=False),
        sa.Column("contact_id", sa.String(length=32), nullable=False),
        sa.Column("flow", sa.String(length=64), nullable=False),
        sa.Column("state", sa.String(length=64), nullable=False),
        sa.Column("slots_json", sa.Text(), nullable=False),
        sa.Column("retries", sa.Integer(), nullable=False),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["conversation_id"],
            ["conversations.id"],
            name=op.f("fk_flow_states_conversation_id_conversations"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_flow_states_tenant_id_tenants")
        ),
        sa.PrimaryKeyConstraint("conversation_id", name=op.f("pk_flow_states")),
    )
    op.create_index("ix_flow_states_contact_id", "flow_states", ["contact_id"])


def downgrade() -> None:
    op.drop_index("ix_flow_states_contact_id", table_name="flow_states")
    op.drop_table("flow_states")
    op.drop_table("tenant_flows")
