"""guard: counters, contact tags, broadcasts, deferred sends, violations, tenant policy

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def _fk(table: str, column: str, target: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        [column], [f"{target}.id"], name=op.f(f"fk_{table}_{column}_{target}")
    )


def _tenant(table: str) -> list[sa.schema.SchemaItem]:
    return [
        sa.Column("tenant_id", sa.String(length=32), nullable=False),
        _fk(table, "tenant_id", "tenants"),
    ]


def upgrade() -> None:
    with op.batch_alter_table("tenants") as batch:
        batch.add_column(sa.Column("guard_json", sa.Text(), nullable=True))
        batch.add_column(
            sa.Column("standing", sa.String(length=16), nullable=False, server_default="ok")
        )
    op.create_table(
        "guard_counters",
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_guard_counters")),
    )
    op.create_index("ix_guard_counters_expires", "guard_counters", ["expires_at"])
    op.create_table(
        "contact_tags",
        *_tenant("contact_tags"),
        sa.Column("contact_id", sa.String(length=32), nullable=False),
        sa.Column("tag", sa.String(length=64), nullable=False),
        _fk("contact_tags", "contact_id", "contacts"),
        sa.UniqueConstraint("contact_id", "tag", name=op.f("uq_contact_tags_contact_id_tag")),
    )
    op.create_index("ix_contact_tags_tenant_tag", "contact_tags", ["tenant_id", "tag"])
    op.create_table(
        "broadcasts",
        sa.Column("id", sa.String(length=32), nullable=False),
        *_tenant("broadcasts"),
        sa.Column("topic", sa.String(length=64), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("tag", sa.String(length=64), nullable=False),
        sa.Column("recipients", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=24), nullable=False),
        sa.Column("created_by", sa.String(length=100), nullable=False),
        sa.Column("approved_by", sa.String(length=100), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_broadcasts")),
    )
    op.create_table(
        "deferred_sends",
        sa.Column("id", sa.String(length=32), nullable=False),
        *_tenant("deferred_sends"),
        sa.Column("channel_id", sa.String(length=32), nullable=False),
        sa.Column("contact_id", sa.String(length=32), nullable=False),
        sa.Column("topic", sa.String(length=64), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("broadcast_id", sa.String(length=32), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        _fk("deferred_sends", "channel_id", "channels"),
        _fk("deferred_sends", "contact_id", "contacts"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_deferred_sends")),
    )
    op.create_index("ix_deferred_sends_due", "deferred_sends", ["status", "due_at"])
    op.create_table(
        "violations",
        sa.Column("id", sa.String(length=32), nullable=False),
        *_tenant("violations"),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("rule", sa.String(length=32), nullable=False),
        sa.Column("severity", sa.String(length=8), nullable=False),
        sa.Column("weight", sa.Integer(), nullable=False),
        sa.Column("subject", sa.String(length=200), nullable=False),
        sa.Column("forgiven", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_violations")),
    )
    op.create_index("ix_violations_tenant_at", "violations", ["tenant_id", "at"])


def downgrade() -> None:
    for table in ("violations", "deferred_sends", "broadcasts", "contact_tags", "guard_counters"):
        op.drop_table(table)
    with op.batch_alter_table("tenants") as batch:
        batch.drop_column("standing")
        batch.drop_column("guard_json")
