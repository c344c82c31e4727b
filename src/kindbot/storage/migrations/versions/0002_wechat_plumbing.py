"""wechat plumbing: follow state, event names, shared tokens, callback nonces

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "access_tokens",
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("tenant_id", sa.String(length=32), nullable=False),
        sa.Column("token", sa.Text(), nullable=True),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_access_tokens_tenant_id_tenants")
        ),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_access_tokens")),
    )
    op.create_table(
        "callback_nonces",
        sa.Column("tenant_id", sa.String(length=32), nullable=False),
        sa.Column("channel_id", sa.String(length=32), nullable=False),
        sa.Column("nonce", sa.String(length=64), nullable=False),
        sa.Column("timestamp", sa.String(length=20), nullable=False),
        sa.Column("fingerprint", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["channel_id"], ["channels.id"], name=op.f("fk_callback_nonces_channel_id_channels")
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_callback_nonces_tenant_id_tenants")
        ),
        sa.UniqueConstraint(
            "channel_id",
            "nonce",
            "timestamp",
            name=op.f("uq_callback_nonces_channel_id_nonce_timestamp"),
        ),
    )
    with op.batch_alter_table("callback_nonces", schema=None) as batch_op:
        batch_op.create_index("ix_callback_nonces_created", ["created_at"], unique=False)

    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.add_column(sa.Column("event", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("event_key", sa.String(length=200), nullable=True))

    with op.batch_alter_table("contacts", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("followed", sa.Boolean(), server_default=sa.true(), nullable=False)
        )
        batch_op.add_column(
            sa.Column("follow_changed_at", sa.DateTime(timezone=True), nullable=True)
        )


def downgrade() -> None:
    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.drop_column("event_key")
        batch_op.drop_column("event")

    with op.batch_alter_table("contacts", schema=None) as batch_op:
        batch_op.drop_column("follow_changed_at")
        batch_op.drop_column("followed")

    with op.batch_alter_table("callback_nonces", schema=None) as batch_op:
        batch_op.drop_index("ix_callback_nonces_created")

    op.drop_table("callback_nonces")
    op.drop_table("access_tokens")
