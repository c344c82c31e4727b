"""campaigns and campaign_recipients: campaigns with a recorded holdout (issue 16 §4)

Revision ID: 0025
Revises: 0024
Create Date: 2026-12-08
"""

import sqlalchemy as sa
from alembic import op

revision = "0025"
down_revision = "0024"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "campaigns",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("tenant_id", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("topic", sa.String(length=64), nullable=False),
        sa.Column("audience_kind", sa.String(length=16), nullable=False),
        sa.Column("audience_name", sa.String(length=200), nullable=True),
        sa.Column("variants_json", sa.Text(), nullable=False),
        sa.Column("holdout_bp", sa.Integer(), nullable=False),
        sa.Column("attribution_days", sa.Integer(), nullable=False),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("per_minute", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(length=24), nullable=False),
        sa.Column("recipients", sa.Integer(), nullable=False),
        sa.Column("treatment", sa.Integer(), nullable=False),
        sa.Column("created_by", sa.String(length=254), nullable=False),
        sa.Column("approved_by", sa.String(length=254), nullable=True),
        sa.Column("cancelled_by", sa.String(length=254), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_campaigns_tenant_id_tenants")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_campaigns")),
    )
    op.create_index("ix_campaigns_tenant_created", "campaigns", ["tenant_id", "created_at"])
    op.create_index("ix_campaigns_status", "campaigns", ["status"])
    op.create_table(
        "campaign_recipients",
        sa.Column("campaign_id", sa.String(length=32), nullable=False),
        sa.Column("tenant_id", sa.String(length=32), nullable=False),
        sa.Column("contact_id", sa.String(length=32), nullable=False),
        sa.Column("arm", sa.String(length=16), nullable=False),
        sa.Column("variant", sa.String(length=64), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("attempted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("message_id", sa.String(length=32), nullable=True),
        sa.Column("deferred_id", sa.String(length=32), nullable=True),
        sa.ForeignKeyConstraint(
            ["campaign_id"],
            ["campaigns.id"],
            name=op.f("fk_campaign_recipients_campaign_id_campaigns"),
        ),
        sa.ForeignKeyConstraint(
            ["contact_id"],
            ["contacts.id"],
            name=op.f("fk_campaign_recipients_contact_id_contacts"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_campaign_recipients_tenant_id_tenants")
        ),
        sa.PrimaryKeyConstraint("campaign_id", "contact_id", name=op.f("pk_campaign_recipients")),
    )
    op.create_index(
        "ix_campaign_recipients_status", "campaign_recipients", ["campaign_id", "status"]
    )
    op.create_index("ix_campaign_recipients_deferred", "campaign_recipients", ["deferred_id"])
    op.create_index("ix_campaign_recipients_contact", "campaign_recipients", ["contact_id"])


def downgrade() -> None:
    op.drop_index("ix_campaign_recipients_contact", table_name="campaign_recipients")
    op.drop_index("ix_campaign_recipients_deferred", table_name="campaign_recipients")
    op.drop_index("ix_campaign_recipients_status", table_name="campaign_recipients")
    op.drop_table("campaign_recipients")
    op.drop_index("ix_campaigns_status", table_name="campaigns")
    op.drop_index("ix_campaigns_tenant_created", table_name="campaigns")
    op.drop_table("campaigns")
