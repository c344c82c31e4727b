"""journeys and journey_runs: follow-ups a shop declares, one run per contact

Revision ID: 0026
Revises: 0025
Create Date: 2026-12-08
"""

import sqlalchemy as sa
from alembic import op

revision = "0026"
down_revision = "0025"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "journeys",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("tenant_id", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("trigger_kind", sa.String(length=16), nullable=False),
        sa.Column("trigger_value", sa.String(length=64), nullable=True),
        sa.Column("delay_seconds", sa.Integer(), nullable=False),
        sa.Column("segment", sa.String(length=64), nullable=True),
        sa.Column("topic", sa.String(length=64), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("declared_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_journeys_tenant_id_tenants")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_journeys")),
        sa.UniqueConstraint("tenant_id", "name", name=op.f("uq_journeys_tenant_id_name")),
    )
    op.create_table(
        "journey_runs",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("tenant_id", sa.String(length=32), nullable=False),
        sa.Column("journey_id", sa.String(length=32), nullable=False),
        sa.Column("contact_id", sa.String(length=32), nullable=False),
        sa.Column("trigger_ref", sa.String(length=200), nullable=False),
        sa.Column("triggered_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.String(length=200), nullable=True),
        sa.Column("message_id", sa.String(length=32), nullable=True),
        sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["contact_id"], ["contacts.id"], name=op.f("fk_journey_runs_contact_id_contacts")
        ),
        sa.ForeignKeyConstraint(
            ["journey_id"], ["journeys.id"], name=op.f("fk_journey_runs_journey_id_journeys")
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_journey_runs_tenant_id_tenants")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_journey_runs")),
        sa.UniqueConstraint(
            "journey_id", "contact_id", name=op.f("uq_journey_runs_journey_id_contact_id")
        ),
    )
    op.create_index("ix_journey_runs_due", "journey_runs", ["status", "due_at"])
    op.create_index("ix_journey_runs_contact", "journey_runs", ["contact_id"])


def downgrade() -> None:
    op.drop_index("ix_journey_runs_contact", table_name="journey_runs")
    op.drop_index("ix_journey_runs_due", table_name="journey_runs")
    op.drop_table("journey_runs")
    op.drop_table("journeys")
