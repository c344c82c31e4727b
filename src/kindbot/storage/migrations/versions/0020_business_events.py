"""business events: the shop's orders, refunds, sign-ups (issue 16); contacts' source

``business_events`` holds each tenant's imported events (unique per tenant by
``event_id``: a repeat is ignored), money as integer minor units. Contacts gain
``source``: ``message`` (their own message; every existing row) or ``event``
(first named by a business event, with no consent implied).

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-07
"""

import sqlalchemy as sa
from alembic import op

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("contacts") as batch:
        batch.add_column(
            sa.Column("source", sa.String(length=16), nullable=False, server_default="message")
        )
    op.create_table(
        "business_events",
        sa.Column(
            "seq",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("tenant_id", sa.String(length=32), nullable=False),
        sa.Column("event_id", sa.String(length=200), nullable=False),
        sa.Column("type", sa.String(length=64), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("contact_id", sa.String(length=32), nullable=False),
        sa.Column("channel_id", sa.String(length=32), nullable=False),
        sa.Column("amount_minor", sa.BigInteger(), nullable=True),
        sa.Column("currency", sa.String(length=3), nullable=True),
        sa.Column("order_id", sa.String(length=200), nullable=True),
        sa.Column("properties_json", sa.Text(), nullable=True),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_business_events_tenant_id_tenants")
        ),
        sa.ForeignKeyConstraint(
            ["contact_id"], ["contacts.id"], name=op.f("fk_business_events_contact_id_contacts")
        ),
        sa.ForeignKeyConstraint(
            ["channel_id"], ["channels.id"], name=op.f("fk_business_events_channel_id_channels")
        ),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_business_events")),
        sa.UniqueConstraint(
            "tenant_id", "event_id", name=op.f("uq_business_events_tenant_id_event_id")
        ),
    )
    op.create_index(
        "ix_business_events_tenant_type_at",
        "business_events",
        ["tenant_id", "type", "occurred_at"],
    )
    op.create_index(
        "ix_business_events_tenant_contact_at_type",
        "business_events",
        ["tenant_id", "contact_id", "occurred_at", "type"],
    )
    op.create_index(
        "ix_business_events_tenant_at_contact",
        "business_events",
        ["tenant_id", "occurred_at", "contact_id"],
    )


def downgrade() -> None:
    op.drop_index("ix_business_events_tenant_at_contact", table_name="business_events")
    op.drop_index("ix_business_events_tenant_contact_at_type", table_name="business_events")
    op.drop_index("ix_business_events_tenant_type_at", table_name="business_events")
    op.drop_table("business_events")
    with op.batch_alter_table("contacts") as batch:
        batch.drop_column("source")
